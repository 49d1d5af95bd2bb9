"""Node numbers: one int64 per body the sharded dedup stages pass between them.

The stages exchange pairs of bodies through files, so a body needs a small number that says
where its data lies without any global index:

- tonight's body in row ``r`` of sign shard ``s``: ``s * 2^32 + r``;
- an earlier night's published body: ``2^62 + day * 2^40 + part * 2^24 + r``, where ``day`` is
  the night's run date in days since 1970-01-01 (16 bits: until the year 2149), ``part`` its
  history part (the publish shard that wrote it, < 2^16) and ``r`` the row in that part (< 2^24).

Every history node is larger than every node of tonight, so a pair written (smaller, larger)
always puts tonight's body first, as the single-task code always did.
"""

from __future__ import annotations

from datetime import date

import numpy as np

HISTORY_BIT = 1 << 62
_EPOCH = date(1970, 1, 1)
MAX_TONIGHT_ROWS = 1 << 32
MAX_HISTORY_PARTS = 1 << 16
MAX_HISTORY_ROWS = 1 << 24


def tonight(shard: int, rows) -> np.ndarray:
    """Node numbers of rows ``rows`` of sign shard ``shard``."""
    return np.int64(shard << 32) + np.asarray(rows, dtype=np.int64)


def history(run_date: date, part: int, rows: np.ndarray) -> np.ndarray:
    day = (run_date - _EPOCH).days
    if not 0 <= part < MAX_HISTORY_PARTS or (len(rows) and int(np.max(rows)) >= MAX_HISTORY_ROWS):
        raise ValueError(f"history part {part} of {run_date}: part or row number out of range for a node number")
    return np.int64(HISTORY_BIT + (day << 40) + (part << 24)) + np.asarray(rows, dtype=np.int64)


def is_history(nodes: np.ndarray) -> np.ndarray:
    return (np.asarray(nodes, dtype=np.int64) & np.int64(HISTORY_BIT)) != 0


def shard_of(nodes: np.ndarray) -> np.ndarray:
    """Sign shard of tonight's nodes."""
    return np.asarray(nodes, dtype=np.int64) >> np.int64(32)


def row_of(nodes: np.ndarray) -> np.ndarray:
    """Row of tonight's nodes in their shard."""
    return np.asarray(nodes, dtype=np.int64) & np.int64(0xFFFFFFFF)


def history_place(node: int) -> tuple[date, int, int]:
    """(run date, part, row) of an earlier night's node."""
    from datetime import timedelta

    rest = int(node) - HISTORY_BIT
    return _EPOCH + timedelta(days=rest >> 40), (rest >> 24) & 0xFFFF, rest & 0xFFFFFF
