"""Yield benchmark: real evaluation pages served as live sites on loopback, through the real night.

    python bench/yield_bench.py --set both [--limit N] [--out bench/results/yield_both.json]

Inputs (read from disk, never copied): the article-extraction benchmark pages
(``../shared/eval/aeb``: ``<id>.html.gz`` + ``<id>.json`` with the original ``url`` and the gold
``body``) and trafilatura's evaluation set (``../shared/eval/trafilatura``: ``evaldata.json``
maps each original URL to its page file and ``with``/``without`` snippets).

Each page is served at its original URL by bench/yield_sites.py: one loopback address per
original host, ports 80 and 443 (TLS from a throw-away CA that only this process trusts, through
``SSL_CERT_FILE``), ``/robots.txt`` allowing all and an RSS feed per host listing its URLs as the
data set writes them; with ``--aggregate-every N`` (default 4) an aggregator feed lists every
N-th story a second time (it is the last source, so each story still belongs to its host's
source). The server answers 200 only for the exact raw request target of a published URL and
records every request.

The pipeline runs in this process, unchanged: a temporary ``sources.toml`` (one ``feed`` source
per host, politeness delay 0, robots.txt obeyed, ``allow_networks = ["127.0.0.0/8"]``,
``max_failure_share = 1`` so the night always publishes), a temporary lake, then
``cleaning.pipeline.run_night``. Name resolution is redirected by monkeypatching, since the
pipeline builds its own fetchers: ``cleaning.fetch.fetcher_for`` gets a resolver that maps the
served host names to their loopback addresses, and ``socket.getaddrinfo`` itself is replaced by
the same resolver, so any other name fails and nothing can connect beyond loopback.

Then the published lake (``articles``, ``duplicates``, ``failures`` of the run date) is read back:

* outcome of every served URL: published, dropped as a duplicate, or failed (stage, reason); each
  must appear exactly once. Lake rows are matched to served URLs by exact string first, then by
  the URL as it goes on the wire (fragment dropped, host in IDNA form, unsendable characters
  escaped), then after normalisation (scheme and host case, default port, percent-decoding,
  query parameters sorted, click trackers dropped; or the library's own normaliser). How many
  rows needed each tier is reported: the ``url`` column is meant to carry the URL as published.
* yield = (published + duplicate) / served.
* 404s our URL handling caused: every 404 the strict server gave, with the published URL it was
  meant to be (same normalised form) when there is one.
* text quality, for the pipeline's output and for plain ``trafilatura.extract(html, url=url)``
  (defaults) on the same pages. A page that was not published counts as empty output; a page
  dropped as a duplicate is scored with its canonical's text (that is what a reader gets for it).
  AEB: the project's extraction scorer (``cleaning.evaluate.extraction``: word 4-gram shingles,
  per-page precision/recall, F1 of the means). trafilatura's set: its own snippet metric
  (``tests/eval_common.py`` of trafilatura): text and snippets whitespace-normalised
  (``\\s+`` -> one space, stripped), a ``with`` snippet found in the text is a true positive,
  missing a false negative, a ``without`` snippet found a false positive, absent a true negative;
  precision, recall and F1 over all snippets of all pages (no output: every ``with`` is a false
  negative, every ``without`` a true negative). Scores are also given over only the pages the
  pipeline published, which separates extraction quality from yield.

``--commit REV`` imports ``cleaning`` from a ``git archive`` of that commit (unpacked in the run's
temporary folder) instead of the working tree, so a committed version can be measured while
``cleaning/`` is being edited; the commit is recorded in the results. Results go to
``bench/results/yield_<set>.json`` (per page outcomes included, for diffing two runs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import unquote, unquote_plus

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import yield_sites as sites  # noqa: E402
from bench.report import provenance, write_report  # noqa: E402

RUN_DATE = date(2025, 8, 28)
PUBLISHED = datetime(2025, 8, 28, 5, 0, tzinfo=timezone.utc)
TRACKERS = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src", "cmpid", "ocid", "_ga"}
TRACKER_PREFIXES = ("utm_", "at_", "itm_")
EXAMPLES = 3


# ---------------------------------------------------------------- URL matching


def loose_key(url: str):
    """A forgiving identity: scheme, IDNA host, port, decoded path, sorted decoded query minus trackers."""
    try:
        w = sites.wire_url(url)
    except (ValueError, UnicodeError):
        return None
    path, _, query = w.target.partition("?")
    params = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        if name.lower() in TRACKERS or name.lower().startswith(TRACKER_PREFIXES):
            continue
        params.append((name, unquote_plus(value)))
    return (w.scheme, w.host, w.port, unquote(path) or "/", tuple(sorted(params)))


def library_normalizer():
    """The library's own URL identity function, whichever name this version has."""
    import cleaning.urls as urls

    for name in ("url_key", "normalize_url"):
        fn = getattr(urls, name, None)
        if fn is not None:
            return name, fn
    return None, None


class Matcher:
    """Finds the served page a lake row's URL stands for, and says how it was recognised."""

    def __init__(self, pages):
        self.exact = {p.url: p for p in pages}
        self.wire: dict[str, object] = {}
        self.loose: dict[object, object] = {}
        self.lib: dict[str, object] = {}
        self.lib_name, self.lib_fn = library_normalizer()
        ambiguous_loose, ambiguous_lib = set(), set()
        for p in pages:
            self.wire.setdefault(sites.wire_url(p.url).request_url, p)
            key = loose_key(p.url)
            if key in self.loose and self.loose[key] is not p:
                ambiguous_loose.add(key)
            self.loose[key] = p
            if self.lib_fn is not None:
                try:
                    lib = self.lib_fn(p.url)
                except ValueError:
                    continue
                if lib in self.lib and self.lib[lib] is not p:
                    ambiguous_lib.add(lib)
                self.lib[lib] = p
        for key in ambiguous_loose:
            del self.loose[key]
        for key in ambiguous_lib:
            del self.lib[key]
        self.ambiguous = len(ambiguous_loose) + len(ambiguous_lib)

    def find(self, url: str):
        if url in self.exact:
            return self.exact[url], "exact"
        try:
            wire = sites.wire_url(url).request_url
        except (ValueError, UnicodeError):
            wire = None
        if wire in self.wire:
            return self.wire[wire], "request_form"
        key = loose_key(url)
        if key is not None and key in self.loose:
            return self.loose[key], "normalized"
        if self.lib_fn is not None:
            try:
                lib = self.lib_fn(url)
            except ValueError:
                lib = None
            if lib in self.lib:
                return self.lib[lib], "normalized"
        return None, None


# ---------------------------------------------------------------- the run


def write_config(folder: Path, web: sites.Web, shards: int) -> Path:
    lines = [
        "[pipeline]",
        f"lake = {json.dumps(str(folder / 'lake'))}",
        f"shards = {shards}",
        "max_failure_share = 1.0  # always publish: the failures are what we measure",
        "",
        "[fetch]",
        "delay_seconds = 0.0",
        "obey_robots = true",
        'allow_networks = ["127.0.0.0/8"]',
        "",
    ]
    for host in sorted(web.sites):
        site = web.sites[host]
        lines += [
            "[[sources]]",
            f"name = {json.dumps('site-' + host)}",
            'kind = "feed"',
            f"url = {json.dumps(site.feed_url)}",
            "",
        ]
    if web.aggregator is not None:
        lines += [
            "[[sources]]",
            'name = "aggregator"',
            'kind = "feed"',
            f"url = {json.dumps(web.aggregator.feed_url)}",
            "",
        ]
    path = folder / "sources.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def redirect_resolution(addresses: dict[str, str], unknown: list) -> None:
    """Monkeypatch: every fetcher the pipeline builds resolves through the loopback map, and so does
    any other caller of ``socket.getaddrinfo`` in this process (anything unserved fails)."""
    import cleaning.discover
    import cleaning.fetch

    loopback = sites.loopback_resolver(addresses, unknown)
    original = cleaning.fetch.fetcher_for

    def fetcher_for(config, resolve=None, **kwargs):
        return original(config, resolve or loopback, **kwargs)

    cleaning.fetch.fetcher_for = fetcher_for
    if getattr(cleaning.discover, "fetcher_for", None) is original:
        cleaning.discover.fetcher_for = fetcher_for
    socket.getaddrinfo = loopback


class Progress:
    def __init__(self):
        self.started = time.monotonic()
        self.last = None

    def __call__(self, stage, done, total):
        if (stage, done) != self.last:
            self.last = (stage, done)
            print(f"  [{time.monotonic() - self.started:7.1f}s] {stage} {done}/{total}", file=sys.stderr, flush=True)


def read_lake(lake: Path, run_date: date) -> tuple[dict, dict]:
    import pyarrow.parquet as pq

    tables = {}
    for table in ("articles", "duplicates", "failures"):
        folder = lake / table / f"run_date={run_date.isoformat()}"  # every part of the night
        tables[table] = pq.read_table(folder).to_pylist() if any(folder.glob("part-*.parquet")) else []
    manifest_path = lake / "manifests" / f"run_date={run_date.isoformat()}" / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    return manifest, tables


# ---------------------------------------------------------------- scoring


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def snippet_counts(page, text: str | None) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of one page, as trafilatura's evaluation counts them."""
    out = _norm(text) if text else ""
    tp = sum(1 for s in page.with_snippets if out and _norm(s) in out)
    fp = sum(1 for s in page.without_snippets if out and _norm(s) in out)
    return tp, fp, len(page.with_snippets) - tp, len(page.without_snippets) - fp


def snippet_scores(counts: list[tuple[int, int, int, int]]) -> dict:
    tp, fp, fn, tn = (sum(c[i] for c in counts) for i in range(4))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {
        "pages": len(counts),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def shingle_scores(pages, texts: list[str]) -> dict:
    from cleaning.evaluate.extraction import page_counts, summarize

    counts = [page_counts(p.gold_body or "", t or "") for p, t in zip(pages, texts)]
    scores = summarize(counts)
    return {
        "pages": len(counts),
        **{k: round(v, 4) for k, v in scores.items()},
        "empty_outputs": sum(1 for t in texts if not (t or "").strip()),
    }


def quality(pages, texts: list[str | None]) -> dict:
    if not pages:
        return {"pages": 0}
    if pages[0].set == "aeb":
        return {
            "metric": "aeb word 4-gram shingles, F1 of mean precision and mean recall",
            **shingle_scores(pages, texts),
        }
    return {
        "metric": "trafilatura snippets, micro-averaged",
        **snippet_scores([snippet_counts(p, t) for p, t in zip(pages, texts)]),
    }


def _plain(args):
    path, url = args
    import gzip

    import trafilatura

    try:
        return trafilatura.extract(gzip.decompress(Path(path).read_bytes()), url=url) or ""
    except Exception:  # noqa: BLE001 - a crash is an empty output, as in trafilatura's own evaluation
        return ""


def plain_trafilatura(pages, workers: int) -> tuple[list[str], float]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    started = time.perf_counter()
    jobs = [(p.path, p.url) for p in pages]
    if workers > 1 and len(jobs) > 8:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
            texts = list(pool.map(_plain, jobs, chunksize=4))
    else:
        texts = [_plain(job) for job in jobs]
    return texts, time.perf_counter() - started


# ---------------------------------------------------------------- accounting


def account(web: sites.Web, tables: dict, log: list) -> tuple[dict, list, list]:
    """Per served page: what the lake says about it. Returns (per-page records by id, unmatched
    lake rows, 404 records)."""
    matcher = Matcher(web.pages)
    found: dict[int, list] = defaultdict(list)
    unmatched = []
    tiers = Counter()
    for table in ("articles", "duplicates", "failures"):
        for row in tables[table]:
            page, tier = matcher.find(row["url"])
            if page is None:
                unmatched.append(
                    {
                        "table": table,
                        "url": row["url"],
                        **(
                            {
                                "stage": row.get("stage"),
                                "reason": row.get("reason"),
                                "detail": (row.get("detail") or "")[:200],
                            }
                            if table == "failures"
                            else {}
                        ),
                    }
                )
                continue
            tiers[tier] += 1
            found[id(page)].append((table, tier, row))
    articles_by_id = {row["id"]: row for row in tables["articles"]}

    requested = defaultdict(list)  # page -> statuses of requests for its own targets
    routes = {}
    for page in web.pages:
        w = sites.wire_url(page.url)
        for target in (w.target, w.whatwg_target):
            routes[(w.host, w.scheme, target)] = page
    not_found = []
    rewritten = defaultdict(list)  # page -> targets requested for it that it is not served at
    by_loose = {loose_key(p.url): p for p in web.pages}
    for host, _address, scheme, _method, target, _host_header, status in log:
        page = routes.get((host, scheme, target))
        if page is not None:
            requested[id(page)].append(status)
        elif status == 404:
            meant = by_loose.get(loose_key(f"{scheme}://{host}{target}"))
            if meant is not None:
                rewritten[id(meant)].append(target)
            not_found.append(
                {
                    "host": host,
                    "scheme": scheme,
                    "target": target,
                    "published_url": meant.url if meant else None,
                    "set": meant.set if meant else None,
                }
            )

    records = {}
    aggregated = set(web.aggregated)
    for page in web.pages:
        rows = found.get(id(page), [])
        record = {"set": page.set, "id": page.id, "url": page.url}
        if page.url_from != "dataset":
            record["url_from"] = page.url_from
        if page.url in aggregated:
            record["aggregated"] = True
        record["requests"] = requested.get(id(page), [])
        if rewritten.get(id(page)):
            record["requested_instead"] = rewritten[id(page)]
        if not rows:
            record["outcome"] = "missing"
        else:
            if len(rows) > 1:
                record["rows"] = [{"table": t, "tier": tier, "url": r["url"]} for t, tier, r in rows]
            table, tier, row = rows[0]
            record["match"] = tier
            if row["url"] != page.url:
                record["lake_url"] = row["url"]
            if table == "articles":
                record["outcome"], record["text"] = "published", row["text"]
            elif table == "duplicates":
                canonical = articles_by_id.get(row["canonical_id"])
                record.update(
                    outcome="duplicate",
                    method=row["method"],
                    canonical_url=row["canonical_url"],
                    text=canonical["text"] if canonical else None,
                )
            else:
                record.update(
                    outcome="failed",
                    stage=row["stage"],
                    reason=row["reason"],
                    detail=(row.get("detail") or "")[:300],
                    status=row.get("status"),
                )
            if len(rows) > 1:
                record["outcome_count"] = len(rows)
        records[id(page)] = record
    return (
        {"records": records, "tiers": dict(tiers), "ambiguous_keys": matcher.ambiguous, "normalizer": matcher.lib_name},
        unmatched,
        not_found,
    )


def summarize_set(name: str, pages: list, acc: dict, not_found: list, plain_texts: dict, scored: bool = True) -> dict:
    records = [acc["records"][id(p)] for p in pages]
    outcomes = Counter(r["outcome"] for r in records)
    served = len(pages)
    published, duplicate = outcomes["published"], outcomes["duplicate"]
    failures = defaultdict(list)
    for r in records:
        if r["outcome"] == "failed":
            failures[(r["stage"], r["reason"])].append(r)
    by_reason = [
        {
            "stage": stage,
            "reason": reason,
            "count": len(rs),
            "examples": [{"url": r["url"], "detail": r["detail"][:160]} for r in rs[:EXAMPLES]],
        }
        for (stage, reason), rs in sorted(failures.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    by_stage = Counter(r["stage"] for r in records if r["outcome"] == "failed")
    match = Counter(r.get("match") for r in records if r["outcome"] != "missing")
    ours_texts = [r.get("text") if r["outcome"] in ("published", "duplicate") else None for r in records]
    plain = [plain_texts[id(p)] for p in pages]
    made_it = [i for i, r in enumerate(records) if r["outcome"] in ("published", "duplicate")]
    rewrites = [n for n in not_found if n["set"] == name]
    result = {
        "served": served,
        "hosts": len({sites.wire_url(p.url).host for p in pages}),
        "published": published,
        "duplicate": duplicate,
        "failed": outcomes["failed"],
        "missing": outcomes["missing"],
        "yield": round((published + duplicate) / served, 4) if served else None,
        "accounted_once": sum(1 for r in records if r["outcome"] != "missing" and "rows" not in r),
        "accounted_more_than_once": [{"url": r["url"], "rows": r["rows"]} for r in records if "rows" in r],
        "not_accounted": [r["url"] for r in records if r["outcome"] == "missing"],
        "matched_by": {
            "exact": match.get("exact", 0),
            "request_form": match.get("request_form", 0),
            "normalized_only": match.get("normalized", 0),
        },
        "failures_by_stage": dict(sorted(by_stage.items())),
        "failures_by_reason": by_reason,
        "not_found_from_url_rewriting": {"count": len(rewrites), "requests": rewrites},
        "never_requested_at_its_own_target": sum(1 for r in records if not r["requests"]),
        "fetch_failures_without_a_request": [
            {"url": r["url"], "reason": r["reason"], "detail": r["detail"][:160]}
            for r in records
            if r["outcome"] == "failed"
            and r["stage"] == "fetch"
            and not r["requests"]
            and not r.get("requested_instead")
        ],
        "quality": None
        if not scored
        else {
            "all_served_pages": {
                "ours_pipeline": quality(pages, ours_texts),
                "plain_trafilatura": quality(pages, plain),
            },
            "pages_the_pipeline_kept": {
                "ours_pipeline": quality([pages[i] for i in made_it], [ours_texts[i] for i in made_it]),
                "plain_trafilatura": quality([pages[i] for i in made_it], [plain[i] for i in made_it]),
            },
        },
        "pages": [
            {k: v for k, v in r.items() if k != "text" and not (k == "requests" and v == [200])} for r in records
        ],
    }
    return result


# ---------------------------------------------------------------- reporting


def snapshot_library(rev: str, folder: Path) -> str:
    """Unpack ``cleaning/`` as committed at ``rev`` into ``folder`` and import it from there."""
    import io
    import tarfile

    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "cleaning"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    sys.path.insert(0, str(folder))
    for name in [m for m in sys.modules if m == "cleaning" or m.startswith("cleaning.")]:
        del sys.modules[name]
    return commit


def library_info(commit: str | None) -> dict:
    import cleaning

    where = Path(cleaning.__file__).resolve().parent
    # relative to the checkout, or named by its commit: no machine's paths in the results
    info = {"cleaning_imported_from": "working tree" if where == ROOT / "cleaning" else f"git archive {commit}"}
    if commit:
        info["commit"] = commit
        info["subject"] = subprocess.run(
            ["git", "log", "-1", "--format=%s", commit], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()[:200]
    else:
        try:
            info["working_tree_of"] = subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--", "cleaning"], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
            info["cleaning_modified_files"] = [line[3:] for line in dirty.splitlines()]
        except (OSError, subprocess.CalledProcessError):
            pass
    return info


def print_table(result: dict) -> None:
    sets = result["sets"]
    print()
    print(
        f"{'set':<13}{'served':>7}{'published':>10}{'dup':>5}{'failed':>7}{'missing':>8}{'yield':>8}"
        f"{'404 rewrite':>12}{'exact url':>10}"
    )
    for name, s in [*sets.items(), ("total", result["total"])]:
        print(
            f"{name:<13}{s['served']:>7}{s['published']:>10}{s['duplicate']:>5}{s['failed']:>7}{s['missing']:>8}{s['yield']:>8.3f}"
            f"{s['not_found_from_url_rewriting']['count']:>12}{s['matched_by']['exact']:>10}"
        )
    print()
    print(
        f"{'quality':<13}{'pages':>6}  {'ours P/R/F1 (all served)':>26}  {'trafilatura P/R/F1 (all)':>26}  "
        f"{'ours F1 kept':>12}  {'traf F1 kept':>12}"
    )
    for name, s in sets.items():
        q = s["quality"]
        a, b = q["all_served_pages"]["ours_pipeline"], q["all_served_pages"]["plain_trafilatura"]
        c, d = q["pages_the_pipeline_kept"]["ours_pipeline"], q["pages_the_pipeline_kept"]["plain_trafilatura"]
        fmt = lambda x: f"{x['precision']:.3f}/{x['recall']:.3f}/{x['f1']:.3f}"  # noqa: E731
        print(
            f"{name:<13}{a['pages']:>6}  {fmt(a):>26}  {fmt(b):>26}  {c.get('f1', 0):>12.3f}  {d.get('f1', 0):>12.3f}"
        )
    print()
    print("failures (all sets):")
    for f in result["total"]["failures_by_reason"]:
        print(f"  {f['count']:>5}  {f['stage']}/{f['reason']}: {', '.join(e['url'] for e in f['examples'][:2])}")
    rewrites = result["total"]["not_found_from_url_rewriting"]["requests"]
    if rewrites:
        print(f"404s from URL rewriting ({len(rewrites)}):")
        for n in rewrites[:8]:
            print(f"  {n['scheme']}://{n['host']}{n['target']}  <- {n['published_url']}")
    silent = result["total"]["fetch_failures_without_a_request"]
    if silent:
        print(f"fetch failures that never reached a server ({len(silent)}):")
        for n in silent[:8]:
            print(f"  {n['reason']}: {n['url']}")
    print(
        f"\nwall {result['pipeline']['wall_seconds']} s (pipeline), {result['plain_trafilatura_seconds']} s (plain "
        f"trafilatura), {result['bench_seconds']} s in all"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("aeb", "trafilatura", "both"), default="both")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="serve only the first N pages of each set (AEB by id, trafilatura by URL)",
    )
    parser.add_argument("--out", default=None, help="default bench/results/yield_<set>.json")
    parser.add_argument("--aeb", default=str(ROOT.parent / "shared/eval/aeb"))
    parser.add_argument("--trafilatura", default=str(ROOT.parent / "shared/eval/trafilatura"))
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument(
        "--aggregate-every",
        type=int,
        default=4,
        help="the aggregator feed lists every N-th story again; 0: no aggregator",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes for the plain trafilatura comparison")
    parser.add_argument(
        "--commit", default=None, help="measure the library as committed at REV (git archive), not the working tree"
    )
    parser.add_argument("--keep", default=None, help="run in this folder and keep the lake, config and certificates")
    args = parser.parse_args(argv)

    bench_started = time.perf_counter()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="yield-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    commit = snapshot_library(args.commit, folder / "library") if args.commit else None
    import cleaning  # noqa: F401 - imported now: from the snapshot when --commit is given

    pages, skipped = [], []
    if args.set in ("aeb", "both"):
        pages += sites.load_aeb(args.aeb)[: args.limit]
    if args.set in ("trafilatura", "both"):
        found, unservable = sites.load_trafilatura(args.trafilatura)
        pages += found[: args.limit]
        skipped += [{"set": "trafilatura", **s} for s in unservable]
    web = sites.build_web(pages, PUBLISHED, args.aggregate_every)
    skipped += web.skipped
    print(
        f"serving {len(web.pages)} pages on {len(web.sites)} hosts"
        + (f" + an aggregator listing {len(web.aggregated)} again" if web.aggregator else "")
        + f" ({len(skipped)} left out)",
        file=sys.stderr,
    )

    ca, cert, key = sites.make_certificates(folder / "tls", list(web.addresses()))
    server = sites.start(web, cert, key)
    unknown_names: list[str] = []
    try:
        os.environ["SSL_CERT_FILE"] = str(ca)  # only our CA: TLS to anything else fails
        os.environ.pop("SSL_CERT_DIR", None)
        from cleaning.config import load_config
        from cleaning.pipeline import run_night

        config = load_config(write_config(folder, web, args.shards))
        redirect_resolution(web.addresses(), unknown_names)
        started = time.perf_counter()
        manifest_returned = run_night(config, RUN_DATE, progress=Progress())
        wall = time.perf_counter() - started
    finally:
        log, server_errors = server.stop()
    manifest, tables = read_lake(Path(config.lake), RUN_DATE)
    manifest = manifest or manifest_returned

    print(f"pipeline done in {wall:.1f} s; plain trafilatura on {len(web.pages)} pages ...", file=sys.stderr)
    plain_list, plain_seconds = plain_trafilatura(web.pages, args.workers)
    plain = {id(p): t for p, t in zip(web.pages, plain_list)}

    acc, unmatched, not_found = account(web, tables, log)
    per_set = {}
    for name in ("aeb", "trafilatura"):
        chosen = [p for p in web.pages if p.set == name]
        if chosen:
            per_set[name] = summarize_set(name, chosen, acc, not_found, plain)
    total = summarize_set("*", web.pages, acc, not_found, plain, scored=False)
    total["not_found_from_url_rewriting"] = {"count": len(not_found), "requests": not_found}
    for key_ in ("quality", "pages"):
        total.pop(key_)

    statuses = Counter(entry[-1] for entry in log)
    schemes = Counter(e[2] for e in log)
    kinds = Counter(
        "robots" if e[4] == sites.ROBOTS_PATH else "feed" if e[4] == sites.FEED_PATH else "page" for e in log
    )
    stage_seconds: dict[str, float] = {}
    for stat in manifest.get("stages", []):
        stage_seconds[stat["stage"]] = round(stage_seconds.get(stat["stage"], 0.0) + stat.get("seconds", 0.0), 2)
    result = {
        **provenance("yield_bench.py", argv),
        "library": library_info(commit),
        "run_date": RUN_DATE.isoformat(),
        "settings": {
            "set": args.set,
            "limit": args.limit,
            "shards": args.shards,
            "aggregate_every": args.aggregate_every,
            "delay_seconds": 0.0,
            "obey_robots": True,
        },
        "pipeline": {
            "wall_seconds": round(wall, 1),
            "stage_seconds": stage_seconds,
            "publish_seconds": manifest.get("publish_seconds"),
            "rows": manifest.get("rows"),
            "totals": (manifest.get("summary") or {}).get("totals"),
        },
        "plain_trafilatura_seconds": round(plain_seconds, 1),
        "server": {
            "hosts": len(web.sites),
            "requests": len(log),
            "by_status": dict(sorted(statuses.items())),
            "by_kind": dict(kinds),
            "by_scheme": dict(schemes),
            "errors": server_errors[:20],
            "names_resolved_that_are_not_served": sorted(set(unknown_names)),
        },
        "aggregator_listed_twice": len(web.aggregated),
        "left_out": skipped,
        "lake_rows_not_matching_a_served_url": unmatched,
        "sets": per_set,
        "total": total,
        "bench_seconds": round(time.perf_counter() - bench_started, 1),
    }
    print_table(result)
    out = args.out or f"bench/results/yield_{args.set}.json"
    write_report(out, result)
    print(f"results: {out}" + (f"; lake kept in {folder}" if args.keep else ""), file=sys.stderr)
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
