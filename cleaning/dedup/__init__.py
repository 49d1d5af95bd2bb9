"""Dedup stage: exact and near-duplicate bodies, tonight and against earlier nights.

Steps, each a function so the DAG can spread them over tasks:

1. ``signatures`` (per shard): normalized words -> content hash, shingle count, MinHash
   signature and LSH band keys (:mod:`.shingles`, :mod:`.minhash`). Columnar, small.
2. ``resolve`` (one reduce step): exact groups by content hash; candidate pairs from equal band
   keys among tonight's bodies and against the history index; each candidate verified on the
   real shingle sets (Jaccard >= ``jaccard_threshold`` or containment of the shorter in the
   longer >= ``containment_threshold``); clusters as connected components; one canonical per
   cluster (:mod:`.clusters`).

Large buckets (one story in hundreds of copies) are paired as a chain plus a star around the
bucket's first member, so a bucket of m bodies costs O(m) verifications, not O(m^2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Iterable

import numpy as np
import pyarrow as pa

from cleaning.config import DedupConfig
from cleaning.dedup.clusters import UnionFind, canonical_rank
from cleaning.dedup.minhash import band_keys, band_layout, signature
from cleaning.dedup.shingles import content_hash, jaccard_and_containment, normalized_words, shingle_set

SIGNATURES = pa.schema(
    [
        ("id", pa.string()),
        ("content_hash", pa.string()),
        ("n_shingles", pa.int32()),
        ("word_count", pa.int32()),
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("band_keys", pa.list_(pa.uint64())),
    ]
)


HISTORY_PREFIX = "history:"


@dataclass
class Decision:
    id: str
    cluster_id: str
    canonical_id: str
    is_duplicate: bool
    method: str | None  # "exact" | "near" | None for canonicals
    jaccard: float | None
    containment: float | None
    canonical_from_history: bool = False
    canonical_run_date: date | None = None


def signatures(records: Iterable[tuple[str, str, datetime | None]], settings: DedupConfig) -> pa.Table:
    """``(id, text, published_at)`` records to a :data:`SIGNATURES` table."""
    bands, rows = band_layout(settings.lsh_threshold, settings.num_perm)
    out = {name: [] for name in SIGNATURES.names}
    for id_, text, published_at in records:
        words = normalized_words(text)
        shingles = shingle_set(words, settings.shingle_words)
        keys = []
        if len(shingles) >= settings.min_shingles:
            keys = band_keys(signature(shingles, settings.num_perm), bands, rows).tolist()
        out["id"].append(id_)
        out["content_hash"].append(content_hash(words))
        out["n_shingles"].append(len(shingles))
        out["word_count"].append(len(words))
        out["published_at"].append(published_at)
        out["band_keys"].append(keys)
    return pa.table(out, schema=SIGNATURES)


def _bucket_pairs(members: list[str]) -> Iterable[tuple[str, str]]:
    members = sorted(set(members))
    for i in range(1, len(members)):
        yield members[0], members[i]
        if i > 1:
            yield members[i - 1], members[i]


def candidate_pairs(tonight: pa.Table, history: pa.Table | None = None) -> set[tuple[str, str]]:
    """Pairs ``(a, b)`` with ``a < b`` sharing a band key; history ids only pair with tonight's."""
    buckets: dict[tuple[int, int], list[str]] = {}
    for id_, keys in zip(tonight.column("id").to_pylist(), tonight.column("band_keys").to_pylist()):
        for band, key in enumerate(keys):
            buckets.setdefault((band, key), []).append(id_)
    pairs: set[tuple[str, str]] = set()
    for members in buckets.values():
        if len(members) > 1:
            pairs.update((min(a, b), max(a, b)) for a, b in _bucket_pairs(members))
    if history is not None and history.num_rows:
        for id_, keys in zip(history.column("id").to_pylist(), history.column("band_keys").to_pylist()):
            for band, key in enumerate(keys):
                for other in buckets.get((band, key), ())[:64]:
                    if other != id_:
                        pairs.add((min(id_, other), max(id_, other)))
    return pairs


def resolve(
    tonight: pa.Table,
    text_of: Callable[[list[str]], dict[str, str]],
    settings: DedupConfig,
    history: pa.Table | None = None,
) -> list[Decision]:
    """Decide, for every row of ``tonight``, its cluster, canonical and whether it is dropped.

    ``tonight`` and ``history`` are :data:`SIGNATURES` tables (history has an extra ``run_date``
    column); ``text_of(ids)`` returns bodies for the ids that need verification.
    """
    rows = {r["id"]: r for r in tonight.to_pylist()}
    # History ids live in their own namespace: a URL fetched again tonight has the same id as
    # its earlier copy, and must match it rather than collide with it.
    if history is not None and history.num_rows:
        history = history.set_column(
            history.schema.get_field_index("id"),
            "id",
            pa.array([HISTORY_PREFIX + i for i in history.column("id").to_pylist()], pa.string()),
        )
    hist_rows = {r["id"]: r for r in history.to_pylist()} if history is not None else {}
    uf = UnionFind()
    evidence: dict[tuple[str, str], tuple[str, float, float]] = {}

    # Exact duplicates: one representative per content hash takes part in near matching.
    by_hash: dict[str, list[str]] = {}
    for id_, row in sorted(rows.items()):
        by_hash.setdefault(row["content_hash"], []).append(id_)
    for row_id, row in sorted(hist_rows.items()):
        if row["content_hash"] in by_hash:
            by_hash[row["content_hash"]].append(row_id)
    representatives = []
    for members in by_hash.values():
        uf.find(members[0])
        for other in members[1:]:
            uf.union(members[0], other)
            evidence[(min(members[0], other), max(members[0], other))] = ("exact", 1.0, 1.0)
        representatives.append(members[0])

    reps = set(representatives)
    rep_table = tonight.filter(pa.array([i in reps for i in tonight.column("id").to_pylist()], pa.bool_()))
    pairs = candidate_pairs(rep_table, history)
    pairs = {p for p in pairs if uf.find(p[0]) != uf.find(p[1])}

    needed = sorted({i for pair in pairs for i in pair})
    texts = text_of(needed) if needed else {}
    shingle_cache: dict[str, np.ndarray] = {}

    def shingles(id_: str) -> np.ndarray:
        if id_ not in shingle_cache:
            shingle_cache[id_] = shingle_set(normalized_words(texts.get(id_, "")), settings.shingle_words)
        return shingle_cache[id_]

    for a, b in sorted(pairs):
        if uf.find(a) == uf.find(b):
            continue
        jac, con = jaccard_and_containment(shingles(a), shingles(b))
        if jac >= settings.jaccard_threshold or con >= settings.containment_threshold:
            uf.union(a, b)
            evidence[(a, b)] = ("near", jac, con)

    decisions: list[Decision] = []
    for root, members in uf.components().items():
        def rank(i: str):
            if i in hist_rows:
                h = hist_rows[i]
                return canonical_rank(True, h.get("run_date"), h["published_at"], h["word_count"], i)
            r = rows[i]
            return canonical_rank(False, None, r["published_at"], r["word_count"], i)

        canonical = min(members, key=rank)
        from_history = canonical in hist_rows
        for member in members:
            if member not in rows:
                continue
            if member == canonical:
                decisions.append(Decision(member, canonical, canonical, False, None, None, None))
                continue
            key = (min(member, canonical), max(member, canonical))
            if key in evidence:
                method, jac, con = evidence[key]
            elif rows[member]["content_hash"] == (rows.get(canonical) or hist_rows.get(canonical))["content_hash"]:
                method, jac, con = "exact", 1.0, 1.0
            else:  # joined through a chain: measure against the canonical itself
                if canonical not in texts:
                    texts.update(text_of([canonical, member]))
                if member not in texts:
                    texts.update(text_of([member]))
                jac, con = jaccard_and_containment(shingles(member), shingles(canonical))
                method = "near"
            published_id = canonical.removeprefix(HISTORY_PREFIX)
            decisions.append(
                Decision(
                    member,
                    published_id,
                    published_id,
                    True,
                    method,
                    jac,
                    con,
                    from_history,
                    hist_rows[canonical].get("run_date") if from_history else None,
                )
            )
    return sorted(decisions, key=lambda d: d.id)


def dedup_records(records: list[dict], settings: DedupConfig) -> list[Decision]:
    """In-memory convenience: records with ``id`` and ``text`` (``published_at`` optional)."""
    ids = [str(r["id"]) for r in records]
    if len(set(ids)) != len(ids):
        seen, dupes = set(), set()
        for i in ids:
            (dupes if i in seen else seen).add(i)
        raise ValueError(f"ids must be unique; repeated: {sorted(dupes)[:5]}")
    texts = {str(r["id"]): r.get("text") or "" for r in records}
    table = signatures(((str(r["id"]), r.get("text") or "", r.get("published_at")) for r in records), settings)
    return resolve(table, lambda wanted: {i: texts[i] for i in wanted if i in texts}, settings)
