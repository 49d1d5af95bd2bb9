"""The history index: signatures of stories published on earlier nights.

One small Parquet file per run date under ``history/run_date=D/signatures.parquet`` in the lake,
holding the id, content hash, band keys and ranking fields of each published article. A night
loads only the dates inside its retention window and strictly before itself, so re-running a date
never matches that date against itself, and files older than the window are pruned. Each file is
written whole and moved into place, so a crash leaves either the old file or the new one.
"""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa

from cleaning.dedup import SIGNATURES, VERIFY_COLUMNS
from cleaning.dedup.sentence_keys import HASHES
from cleaning.store import Lake

# Band keys and ranking fields only: words and sentences stay in the night's work files.
HISTORY = pa.schema(
    [f for f in SIGNATURES if f.name not in VERIFY_COLUMNS]
    + [pa.field("run_date", pa.date32()), pa.field("url", pa.string())]
)


def _dates(lake: Lake) -> list[date]:
    found = []
    for rel in lake.list_files("history", ".parquet"):
        part = rel.split("/")[1]
        if part.startswith("run_date="):
            found.append(date.fromisoformat(part.removeprefix("run_date=")))
    return sorted(set(found))


def _published(lake: Lake, night: date) -> bool:
    """History of a night that crashed before its manifest names canonicals no reader can see."""
    from cleaning.publish import is_published as published

    return published(lake, night)


def load(lake: Lake, run_date: date, retention_days: int) -> pa.Table:
    start = run_date - timedelta(days=retention_days)
    wanted = [d for d in _dates(lake) if start <= d < run_date and _published(lake, d)]
    files = [f"history/run_date={d.isoformat()}/signatures.parquet" for d in wanted]
    files = [f for f in files if lake.exists(f)]
    older = [f for f in files if ADDED_COLUMN not in lake.read_metadata(f).schema.to_arrow_schema().names]
    if not older:
        return lake.read_tables(files, HISTORY)
    # Nights written before the sentence keys existed: read without them, with empty lists, so
    # they are still matched by content hash and bands for the rest of the window.
    tables = []
    for f in files:
        if f in older:
            t = lake.read_tables([f], HISTORY, columns=[n for n in HISTORY.names if n != ADDED_COLUMN])
            empty = pa.array([[]] * t.num_rows, HISTORY.field(ADDED_COLUMN).type)
            t = t.add_column(HISTORY.get_field_index(ADDED_COLUMN), HISTORY.field(ADDED_COLUMN), empty)
        else:
            t = lake.read_tables([f], HISTORY)
        tables.append(t)
    return pa.concat_tables(tables)


ADDED_COLUMN = "sentence_keys"  # added to the history after it was first written


# Sentence keys kept per story: those of the lede's first three sentence pairs. Later nights'
# copies keep the lede; the full set would make the history several times larger.
HISTORY_SENTENCE_KEYS = 3 * HASHES


def save(lake: Lake, run_date: date, table: pa.Table) -> None:
    import pyarrow.compute as pc

    table = table.select(HISTORY.names).cast(HISTORY)
    keys = pc.list_slice(table.column(ADDED_COLUMN), 0, HISTORY_SENTENCE_KEYS)
    table = table.set_column(
        HISTORY.get_field_index(ADDED_COLUMN), HISTORY.field(ADDED_COLUMN), keys.cast(HISTORY.field(ADDED_COLUMN).type)
    )
    lake.write_table(f"history/run_date={run_date.isoformat()}/signatures.parquet", table)


def prune(lake: Lake, today: date, retention_days: int) -> list[date]:
    """Delete history older than the window; returns the dates removed."""
    cutoff = today - timedelta(days=retention_days)
    removed = [d for d in _dates(lake) if d < cutoff]
    for d in removed:
        lake.delete_dir(f"history/run_date={d.isoformat()}")
    return removed
