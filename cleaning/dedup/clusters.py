"""Connected components of verified pairs, and the canonical member of each.

Canonical rule (documented in the README and docs/schema.md): a member from an earlier night
always wins (the story is already published); otherwise the earliest ``published_at`` wins
(unknown dates count as latest), then the longest body in words, then the smallest id. The rule
only looks at record fields, never at input order, so any order gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

# History nodes carry this prefix in resolve, since a URL fetched again keeps its article id.
HISTORY_PREFIX = "history:"


class UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        parent = self.parent.setdefault(x, x)
        while parent != x:
            grand = self.parent.setdefault(parent, parent)
            self.parent[x] = grand
            x, parent = parent, grand
        return x

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller node becomes the root, so roots do not depend on call order.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra

    def components(self) -> dict:
        groups: dict[str, list[str]] = {}
        for x in list(self.parent):
            groups.setdefault(self.find(x), []).append(x)
        return {root: sorted(members) for root, members in groups.items()}


class NodeUnionFind:
    """Union-find over the integers 0..size-1 on a plain list: the verify loop calls ``find``
    hundreds of thousands of times a night, and list indexing is several times faster than
    :class:`UnionFind`'s dict. The smaller root wins, so roots do not depend on call order."""

    def __init__(self, size: int):
        self.parent = list(range(size))

    def grow(self, size: int) -> None:
        self.parent.extend(range(len(self.parent), size))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra

    def groups(self) -> list[list[int]]:
        """The components of more than one node, each sorted, found column-wise."""
        roots = np.array(self.parent, dtype=np.int64)
        while True:  # pointer jumping until every node points at its root
            jumped = roots[roots]
            if np.array_equal(jumped, roots):
                break
            roots = jumped
        sizes = np.bincount(roots, minlength=len(roots))
        members = np.flatnonzero(sizes[roots] > 1)
        if len(members) == 0:
            return []
        order = members[np.argsort(roots[members], kind="stable")]  # by root, then node
        bounds = np.flatnonzero(np.diff(roots[order])) + 1
        return [part.tolist() for part in np.split(order, bounds)]


def canonical_rank(from_history: bool, history_run_date, published_us: int, word_count: int, id_: str):
    """Sort key: the smallest key is the canonical article.

    ``published_us`` is microseconds since the epoch, with unknown times already mapped to the
    largest value so they sort last.
    """
    return (
        0 if from_history else 1,
        history_run_date.isoformat() if from_history and history_run_date else "",
        published_us,
        -word_count,
        id_.removeprefix(HISTORY_PREFIX),
    )


# ---------------------------------------------------------------- the cluster stage
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
    # What decided, and its value: "exact" (1), "jaccard" or "containment" (of the 4-gram sets),
    # "alignment" (the copy's share in the sentence alignment), or "chain" (joined through other
    # copies; the weakest link's value). Measured against the canonical when it verifies directly.
    measure: str | None = None
    score: float | None = None
    cluster_size: int | None = None  # canonicals: tonight's rows in the cluster, itself included
    canonical_url: str | None = None  # duplicates: the canonical's URL


@dataclass(frozen=True)
class NodeInfo:
    """What the cluster stage needs of a body: who it is and how it ranks."""

    id: str  # the article id (an earlier night's without any prefix)
    from_history: bool
    run_date: date | None  # earlier nights' only
    published_us: int  # microseconds since the epoch; unknown: the largest int64, so it sorts last
    word_count: int
    content_hash: str
    url: str | None

    def rank(self):
        return canonical_rank(self.from_history, self.run_date, self.published_us, self.word_count, self.id)


def decide(edges, info: dict[int, NodeInfo], measure) -> list[Decision]:
    """Decisions for tonight's bodies that some edge touches (bodies no edge touches are their own
    story and get none): clusters are the connected components of the edges, the canonical the
    member with the smallest :func:`canonical_rank`. A dropped copy carries the evidence of its
    edge to the canonical; without one, ``measure(pairs)`` (``{(member, canonical): Verdict}``,
    one batch for the night) measures the pair, and when even that fails (the copy joined
    through others) the widest path of edges gives the weakest link's value."""
    nodes = np.unique(np.concatenate([edges.a, edges.b])) if len(edges.a) else np.empty(0, np.int64)
    index = {int(n): k for k, n in enumerate(nodes.tolist())}
    uf = NodeUnionFind(len(nodes))
    evidence: dict[tuple[int, int], tuple] = {}
    for a, b, method, jac, con, measure_name, score in edges.rows():
        uf.union(index[a], index[b])
        evidence[(a, b)] = (method, jac, con, measure_name, score)
    clusters = []
    for members in uf.groups():
        members = [int(nodes[k]) for k in members]
        clusters.append((members, min(members, key=lambda m: info[m].rank())))
    measured = measure(
        sorted(
            (m, canonical)
            for members, canonical in clusters
            for m in members
            if not info[m].from_history
            and m != canonical
            and (min(m, canonical), max(m, canonical)) not in evidence
            and info[m].content_hash != info[canonical].content_hash
        )
    )
    decisions: list[Decision] = []
    widest: dict[int, dict[int, float]] = {}
    neighbours: dict[int, list[tuple[int, float]]] = {}
    for members, canonical in clusters:
        top = info[canonical]
        tonight_members = [m for m in members if not info[m].from_history]
        for member in tonight_members:
            me = info[member]
            if member == canonical:
                decisions.append(
                    Decision(me.id, me.id, me.id, False, None, None, None, cluster_size=len(tonight_members))
                )
                continue
            key = (min(member, canonical), max(member, canonical))
            if key in evidence:
                method, jac, con, measure, score = evidence[key]
            elif me.content_hash == top.content_hash:
                method, jac, con, measure, score = "exact", 1.0, 1.0, "exact", 1.0
            else:
                verdict = measured[(member, canonical)]
                method, jac, con = "near", verdict.jaccard, verdict.containment
                measure, score = verdict.measure, verdict.score
                if not verdict.same_story:
                    if not neighbours:
                        for (a, b), found in evidence.items():
                            neighbours.setdefault(a, []).append((b, found[4]))
                            neighbours.setdefault(b, []).append((a, found[4]))
                    if canonical not in widest:
                        widest[canonical] = widest_paths(canonical, neighbours)
                    measure, score = "chain", widest[canonical][member]
            decisions.append(
                Decision(
                    me.id,
                    top.id,
                    top.id,
                    True,
                    method,
                    round(jac, 4),
                    round(con, 4),
                    top.from_history,
                    top.run_date if top.from_history else None,
                    measure,
                    round(score, 4),
                    canonical_url=top.url,
                )
            )
    return sorted(decisions, key=lambda d: d.id)


def widest_paths(canonical: int, neighbours: dict[int, list[tuple[int, float]]]) -> dict[int, float]:
    """For every member of the canonical's cluster, the weakest link on its path of verified
    links to the canonical whose weakest link is strongest (a widest path: Dijkstra with min
    instead of sum; links never leave a cluster, so the search stays inside it)."""
    import heapq

    best = {canonical: 2.0}
    heap = [(-2.0, canonical)]
    while heap:
        width, node = heapq.heappop(heap)
        if -width < best.get(node, -1.0):
            continue
        for other, score in neighbours.get(node, ()):
            value = min(-width, score)
            if value > best.get(other, -1.0):
                best[other] = value
                heapq.heappush(heap, (-value, other))
    return best
