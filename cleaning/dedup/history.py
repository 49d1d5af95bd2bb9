"""The history index: keys of the stories published on earlier nights, partitioned by key range.

A published night D keeps, under ``history/run_date=D/``, for each history part (one per publish
shard):

- ``rows/part-NNNNN.parquet``: id, content hash, URL and ranking fields of each published story;
- ``keys/range=RR-of-KK/part-NNNNN.parquet``: its entries (band keys, lead sentence keys,
  content hash; :mod:`.buckets`) whose key lies in range RR of KK, each naming its story by a
  node number (:mod:`.nodes`: the night, the part and the row in ``rows``).

So a bucket task reads only its key range of each night, and a verify or cluster task reads the
rows of the few stories it touches. Nights written before this layout (one
``signatures.parquet`` with list columns) are still read, and split by range as they are read.

A night loads only the dates inside its retention window and strictly before itself, and only
nights whose manifest says they were published, so re-running a date never matches that date
against itself and a crashed night's stories are not canonicals no reader can see. Pruning
deletes whole nights. Each file is written whole and moved into place.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from cleaning import layout
from cleaning.dedup import SIGNATURES, VERIFY_COLUMNS, buckets
from cleaning.dedup import nodes as node_numbers
from cleaning.dedup.sentence_keys import HASHES
from cleaning.store import Lake

# Band keys and ranking fields only: words and sentences stay in the night's work files.
HISTORY = pa.schema(
    [f for f in SIGNATURES if f.name not in VERIFY_COLUMNS]
    + [pa.field("run_date", pa.date32()), pa.field("url", pa.string())]
)
ROWS = pa.schema([f for f in HISTORY if f.name not in ("band_keys", "sentence_keys")])
ENTRIES = pa.schema(
    [
        ("key", pa.uint64()),
        ("kind", pa.uint8()),
        ("node", pa.int64()),
        ("rank", pa.uint64()),
        ("hash", pa.uint64()),
    ]
)
RANGES = 16  # key ranges of a history night at least; any power of two is read by any other (buckets.covering)
ADDED_COLUMN = "sentence_keys"  # added to the history after it was first written
LEGACY_FILE = "signatures.parquet"  # one file per night, before the history was split by range

# Sentence keys kept per story: those of the lede's first three sentence pairs. Later nights'
# copies keep the lede; the full set would make the history several times larger.
HISTORY_SENTENCE_KEYS = 3 * HASHES


def _dates(lake: Lake) -> list[date]:
    found = {layout.partition_date(rel) for rel in lake.list_files(layout.HISTORY_DIR, ".parquet")}
    return sorted(d for d in found if d is not None)


def _published(lake: Lake, night: date) -> bool:
    """History of a night that crashed before its manifest names canonicals no reader can see."""
    from cleaning.publish import is_published as published

    return published(lake, night)


def nights(lake: Lake, run_date: date, retention_days: int) -> list[date]:
    """The published nights whose history ``run_date`` is matched against, oldest first."""
    start = run_date - timedelta(days=retention_days)
    return [d for d in _dates(lake) if start <= d < run_date and _published(lake, d)]


def _legacy(lake: Lake, night: date) -> str | None:
    rel = f"{layout.history_dir(night)}/{LEGACY_FILE}"
    return rel if lake.exists(rel) else None


def _read_legacy(lake: Lake, rel: str) -> pa.Table:
    if ADDED_COLUMN in lake.read_metadata(rel).schema.to_arrow_schema().names:
        return lake.read_tables([rel], HISTORY)
    # Nights written before the sentence keys existed: read without them, with empty lists, so
    # they are still matched by content hash and bands for the rest of the window.
    t = lake.read_tables([rel], HISTORY, columns=[n for n in HISTORY.names if n != ADDED_COLUMN])
    empty = pa.array([[]] * t.num_rows, HISTORY.field(ADDED_COLUMN).type)
    return t.add_column(HISTORY.get_field_index(ADDED_COLUMN), HISTORY.field(ADDED_COLUMN), empty)


def _history_entries(table: pa.Table, night: date, part: int) -> buckets.Entries:
    rows = np.arange(table.num_rows, dtype=np.int64)
    return buckets.entries_from_columns(
        node_numbers.history(night, part, rows),
        table.column("id").to_pylist(),
        table.column("content_hash").to_pylist(),
        table.column("band_keys"),
        table.column(ADDED_COLUMN),
        width=None,
        ranks=np.zeros(table.num_rows, np.uint64),
    )


def _entries_table(entries: buckets.Entries) -> pa.Table:
    return pa.table([entries.key, entries.kind, entries.node, entries.rank, entries.hash], schema=ENTRIES)


def _entries_of(table: pa.Table) -> buckets.Entries:
    return buckets.Entries(*(table.column(n).to_numpy() for n in ENTRIES.names))


def key_dir(directory: str, index: int, ranges: int) -> str:
    return f"{directory}/keys/range={index:04d}-of-{ranges:04d}"


def rows_file(directory: str, part: int) -> str:
    return f"{directory}/rows/part-{part:05d}.parquet"


def ranges_for(key_ranges: int) -> int:
    """Key ranges to write a history part in: the bucket tasks' own when there are more than
    :data:`RANGES`, so each later task reads one file per part and keeps all of it."""
    return max(RANGES, key_ranges)


def write_shard(lake: Lake, directory: str, shard: int, table: pa.Table, ranges: int = RANGES) -> list[str]:
    """Write one history part (``shard``'s published stories, :data:`HISTORY` columns) of the night
    named by ``run_date`` under ``directory``: its rows and its entries split by key range.
    Returns the files written, relative to the lake."""
    import pyarrow.compute as pc

    buckets.check_ranges(ranges)
    table = table.select(HISTORY.names).cast(HISTORY)
    keys = pc.list_slice(table.column(ADDED_COLUMN), 0, HISTORY_SENTENCE_KEYS)
    table = table.set_column(
        HISTORY.get_field_index(ADDED_COLUMN), HISTORY.field(ADDED_COLUMN), keys.cast(HISTORY.field(ADDED_COLUMN).type)
    )
    nights = set(table.column("run_date").to_pylist())
    if len(nights) > 1:
        raise ValueError(f"one history part holds one night, got {sorted(nights)}")
    night = nights.pop() if nights else date(1970, 1, 1)
    written = [rows_file(directory, shard)]
    lake.write_table(written[0], table.select(ROWS.names))
    entries = _history_entries(table, night, shard)
    where = buckets.key_range(entries.key, ranges)
    for index in range(ranges):
        rel = f"{key_dir(directory, index, ranges)}/part-{shard:05d}.parquet"
        lake.write_table(rel, _entries_table(entries.take(where == index)))
        written.append(rel)
    return written


def save(lake: Lake, run_date: date, table: pa.Table) -> None:
    """The whole night as one history part (part 0), replacing what the date had."""
    lake.delete_dir(layout.history_dir(run_date))
    write_shard(lake, layout.history_dir(run_date), 0, table)


def key_entries(lake: Lake, run_date: date, retention_days: int, index: int, ranges: int) -> buckets.Entries:
    """Entries of key range ``index`` of ``ranges`` from every night ``run_date`` is matched against."""
    found = []
    for night in nights(lake, run_date, retention_days):
        directory = layout.history_dir(night)
        legacy = _legacy(lake, night)
        if legacy is not None:
            entries = _history_entries(_read_legacy(lake, legacy), night, 0)
        else:
            files = []
            for written in _written_ranges(lake, directory):
                for other in buckets.covering(written, ranges, index):
                    files += lake.list_files(key_dir(directory, other, written), ".parquet")
            entries = _entries_of(lake.read_tables(files, ENTRIES)) if files else buckets.Entries.empty()
        found.append(entries.take(buckets.key_range(entries.key, ranges) == index))
    return buckets.Entries.concat(found)


def _written_ranges(lake: Lake, directory: str) -> list[int]:
    counts = set()
    for rel in lake.list_files(f"{directory}/keys", ".parquet"):
        folder = rel.split("/")[-2]
        if folder.startswith("range="):
            counts.add(int(folder.split("-of-")[1]))
    return sorted(counts)


def rows_of(lake: Lake, wanted: list[int]) -> dict[int, dict]:
    """:data:`ROWS` fields of earlier nights' nodes, read part by part."""
    by_part: dict[tuple[date, int], list[tuple[int, int]]] = {}
    for node in wanted:
        night, part, row = node_numbers.history_place(node)
        by_part.setdefault((night, part), []).append((node, row))
    out = {}
    for (night, part), members in sorted(by_part.items()):
        legacy = _legacy(lake, night)
        rel = legacy or rows_file(layout.history_dir(night), part)
        table = lake.read_table(rel, columns=ROWS.names)
        picked = table.take(pa.array([row for _, row in members], pa.int64())).to_pylist()
        out.update(zip([node for node, _ in members], picked))
    return out


def load(lake: Lake, run_date: date, retention_days: int) -> pa.Table:
    """The whole window as one :data:`HISTORY` table (small lakes, tests and the in-process
    :func:`cleaning.dedup.resolve`); the sharded stages read by range (:func:`key_entries`)."""
    tables = []
    for night in nights(lake, run_date, retention_days):
        legacy = _legacy(lake, night)
        if legacy is not None:
            tables.append(_read_legacy(lake, legacy))
            continue
        directory = layout.history_dir(night)
        for rel in lake.list_files(f"{directory}/rows", ".parquet"):
            part = int(rel.rsplit("part-", 1)[1].split(".")[0])
            rows = lake.read_table(rel, schema=ROWS)
            tables.append(_with_keys(lake, directory, night, part, rows))
    if not tables:
        return HISTORY.empty_table()
    return pa.concat_tables(tables)


def _with_keys(lake: Lake, directory: str, night: date, part: int, rows: pa.Table) -> pa.Table:
    """A part's rows with their band and sentence key lists rebuilt from its entries (in the
    order they were written: entries keep each list's order within a range file, and ranges are
    merged back in key-list order by the entry's position)."""
    files = [
        f"{key_dir(directory, index, written)}/part-{part:05d}.parquet"
        for written in _written_ranges(lake, directory)
        for index in range(written)
    ]
    files = [f for f in files if lake.exists(f)]
    entries = _entries_of(lake.read_tables(files, ENTRIES)) if files else buckets.Entries.empty()
    first = node_numbers.history(night, part, np.zeros(1, np.int64))[0]
    lists = {}
    for kind, name in ((buckets.BAND, "band_keys"), (buckets.SENTENCE, ADDED_COLUMN)):
        chosen = entries.take(entries.kind == kind)
        row = (chosen.node - first).astype(np.int64)
        order = np.argsort(row, kind="stable")
        values, row = chosen.key[order], row[order]
        offsets = np.searchsorted(row, np.arange(rows.num_rows + 1)).astype(np.int32)
        lists[name] = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, pa.uint64()))
    columns = {name: rows.column(name) for name in ROWS.names}
    columns.update(lists)
    return pa.table({name: columns[name] for name in HISTORY.names}, schema=HISTORY)


def prune(lake: Lake, today: date, retention_days: int) -> list[date]:
    """Delete history older than the window, night by night; returns the dates removed."""
    cutoff = today - timedelta(days=retention_days)
    removed = [d for d in _dates(lake) if d < cutoff]
    for d in removed:
        lake.delete_dir(layout.history_dir(d))
    return removed
