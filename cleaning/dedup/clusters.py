"""Connected components of verified pairs, and the canonical member of each.

Canonical rule (documented in the README and docs/schema.md): a member from an earlier night
always wins (the story is already published); otherwise the earliest ``published_at`` wins
(unknown dates count as latest), then the longest body in words, then the smallest id. The rule
only looks at record fields, never at input order, so any order gives the same answer.
"""

from __future__ import annotations

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
