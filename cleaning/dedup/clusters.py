"""Connected components of verified pairs, and the canonical member of each.

Canonical rule (documented in the README and docs/schema.md): a member from an earlier night
always wins (the story is already published); otherwise the earliest ``published_at`` wins
(unknown dates count as latest), then the longest body in words, then the smallest id. The rule
only looks at record fields, never at input order, so any order gives the same answer.
"""

from __future__ import annotations


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
