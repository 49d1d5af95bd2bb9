"""``cleaning``: the command line. Every command calls the same functions the DAG does.

cleaning run       run the nightly pipeline in this process
cleaning extract   HTML files or folders -> cleaned articles (JSONL or Parquet)
cleaning dedup     records with id and text -> cluster, canonical and duplicate flag
cleaning report    the per-source summary of a published night; --nights N: source health trends and flags;
                   --check: whether the parts in the lake are the ones the manifest lists
cleaning eval      quality evaluations (extraction against gold bodies)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path

DEFAULT_CONFIG = os.environ.get("NEWSCLEAN_CONFIG", "data/sources.toml")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _today(config) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(config.timezone)).date()


def _nights(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 366:
        raise argparse.ArgumentTypeError(f"--nights must be a whole number from 1 to 366, got {value!r}")
    return number


class Progress:
    """One line per stage on stderr, redrawn in place on a terminal."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.started, self.tty = stream, {}, stream.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.started.setdefault(stage, time.monotonic())
        elapsed = time.monotonic() - self.started[stage]
        width = 24
        filled = int(width * done / total) if total else width
        line = f"{stage:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {elapsed:6.1f}s"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        elif done == total:
            self.stream.write(line + "\n")
        self.stream.flush()


def _write_records(records: list[dict], out: Path, arrow_schema=None) -> None:
    if out.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        if arrow_schema is None:
            # every field of every record, in order of first appearance (from_pylist alone would
            # take the first record's fields and silently drop the rest)
            names = list(dict.fromkeys(name for record in records for name in record))
            records = [{name: record.get(name) for name in names} for record in records]
        try:
            table = pa.Table.from_pylist(records, schema=arrow_schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise SystemExit(
                f"error: these records do not fit one Parquet schema ({exc}); write .jsonl instead"
            ) from None
        try:
            pq.write_table(table, out, compression="zstd")
        except OSError as exc:
            raise SystemExit(f"error: cannot write {out}: {_first_line(exc)}") from None
    elif out.suffix in (".jsonl", ".ndjson"):
        try:
            with out.open("w", encoding="utf-8") as fh:
                for record in records:
                    fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        except OSError as exc:
            raise SystemExit(f"error: cannot write {out}: {exc.strerror or exc}") from None
    else:
        raise SystemExit(f"error: --out must end in .jsonl or .parquet, got {out}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _read_records(path: Path) -> list[dict]:
    """Records of a JSONL or Parquet file; anything unreadable is a one-line error naming the
    file (and the line, for JSONL)."""
    if not path.exists():
        raise SystemExit(f"error: input not found: {path}")
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise SystemExit(f"error: {path}: not a readable Parquet file: {_first_line(exc)}") from None
    records = []
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise SystemExit(
                        f"error: {path}:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                        f"{exc.start + 1}); expected JSON Lines"
                    ) from None
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"error: {path}:{number}: not valid JSON: {exc.msg}") from None
                except RecursionError:
                    raise SystemExit(f"error: {path}:{number}: JSON nested too deeply") from None
    except OSError as exc:
        raise SystemExit(f"error: cannot read {path}: {exc.strerror or exc}") from None
    return records


def cmd_run(args) -> int:
    from cleaning.config import load_config
    from cleaning.pipeline import RunFailed, run_night
    from cleaning.plan import make_plan
    from cleaning.publish import format_summary

    config = load_config(args.config, lake=args.lake)
    plan = make_plan(
        config, run_date=args.date, sources=args.source or (), reprocess=args.reprocess, dry_run=args.dry_run
    )
    run_date = plan.run_date
    print(
        f"run {run_date} -> {config.lake}"
        + (" (reprocess)" if args.reprocess else "")
        + (" (dry run)" if args.dry_run else ""),
        file=sys.stderr,
    )
    started = time.monotonic()
    try:
        manifest = run_night(
            config,
            run_date,
            list(plan.sources) or None,
            reprocess=plan.reprocess,
            dry_run=plan.dry_run,
            progress=Progress(),
        )
    except RunFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    print(format_summary(manifest["summary"]))
    print(
        f"done in {time.monotonic() - started:.1f}s; rows: {manifest['rows']}"
        + ("" if args.dry_run else f"; lake: {config.lake}")
    )
    if not args.dry_run:
        from cleaning.store import Lake

        _print_health(Lake(config.lake), run_date, None)
    return 0


def cmd_unlock(args) -> int:
    from cleaning import lease
    from cleaning.config import load_config
    from cleaning.store import Lake

    config = load_config(args.config, lake=args.lake)
    removed = lease.unlock(Lake(config.lake), args.date)
    for claim in removed:
        print(f"removed the claim of {claim.describe()}")
    if not removed:
        print(f"no run claims {args.date} in {config.lake}")
    return 0


class InputProblem(Exception):
    """A page that could not be read: ``reason`` is short, as in the fetch stage's failures."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def _gunzip_file(file: Path, cap: int) -> bytes:
    """A gzipped page, unzipped without ever holding more than ``cap + 1`` bytes of output
    (a gzip bomb stops at the cap). Several members are joined, as gzip allows; a stream that
    stops before its end is ``truncated``."""
    import zlib

    out, total = [], 0
    with file.open("rb") as fh:
        data = b""
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while True:
            if not data:
                data = fh.read(64 * 1024)
                if not data:
                    if not inflater.eof:
                        raise InputProblem("truncated", f"gzip stream ends early ({total} bytes unzipped)")
                    break
            if inflater.eof:  # the next member, or padding after the last
                while len(data) < 2 and (more := fh.read(64 * 1024)):
                    data += more
                if not data.startswith(b"\x1f\x8b"):
                    break
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                piece = inflater.decompress(data, cap + 1 - total)
            except zlib.error as exc:
                raise InputProblem("unreadable", f"not gzip: {exc}") from None
            out.append(piece)
            total += len(piece)
            if total > cap:
                raise InputProblem("too_large", f"unzips to more than {cap} bytes")
            data = inflater.unused_data if inflater.eof else b""
    return b"".join(out)


def _read_page_file(file: Path, cap: int) -> bytes:
    if file.suffix.lower() == ".gz":
        return _gunzip_file(file, cap)
    size = file.stat().st_size
    if size > cap:
        raise InputProblem("too_large", f"{size} bytes, over {cap}")
    return file.read_bytes()


def _pages_of(inputs: list[str], cap: int):
    """(source_path, url, bytes or :class:`InputProblem`, content_type) for each page in files,
    folders and WARC files; a page over ``cap`` bytes (on disk or unzipped) is a problem, read
    no further. One bad file or record never stops the others."""
    from cleaning.discover import PAGE_SUFFIXES
    from cleaning.fetch.warc import WARC_SUFFIXES

    for item in inputs:
        path = Path(item)
        try:
            if path.is_dir():
                found = sorted(
                    p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(PAGE_SUFFIXES + WARC_SUFFIXES)
                )
            elif path.is_file():
                found = [path]
            else:  # a pipe or a device would block or never end
                yield item, None, InputProblem("unreadable", "not a regular file or folder"), None
                continue
        except OSError as exc:
            yield item, None, InputProblem("unreadable", exc.strerror or str(exc)), None
            continue
        for file in found:
            if file.name.lower().endswith(WARC_SUFFIXES):
                yield from _warc_pages(file, cap)
                continue
            try:
                data = _read_page_file(file, cap)
            except InputProblem as exc:
                yield str(file), None, exc, None
            except FileNotFoundError:
                yield str(file), None, InputProblem("not_found", "the file is gone"), None
            except OSError as exc:
                yield str(file), None, InputProblem("unreadable", exc.strerror or str(exc)), None
            except MemoryError:
                yield str(file), None, InputProblem("too_large", "not enough memory to read it"), None
            else:
                yield str(file), None, data, None


def _warc_pages(path: Path, cap: int):
    from cleaning.fetch.warc import iter_pages

    try:
        for page in iter_pages(path, with_bodies=True, only_html_200=False, max_bytes=cap):
            data = InputProblem(page.problem, page.error().detail) if page.problem else page.body
            yield str(path), page.url, data, page.content_type or None
    except Exception as exc:  # a WARC library error nobody foresaw still costs only this file
        yield str(path), None, InputProblem("unreadable", f"{type(exc).__name__}: {exc}"[:500]), None


EXTRACT_FIELDS = ("source_path", "url", "title", "text", "published_at", "wire_agency", "error")


class _RecordWriter:
    """Writes records as they come (JSONL lines, or one Parquet row group per batch), so a run
    that stops half-way keeps what it did; Parquet gets its footer even then."""

    def __init__(self, out: Path, fields: tuple[str, ...]):
        self.out, self.fields, self.count = out, fields, 0
        if out.suffix not in (".jsonl", ".ndjson", ".parquet"):
            raise SystemExit(f"error: --out must end in .jsonl or .parquet, got {out}")
        try:
            if out.suffix == ".parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                self.schema = pa.schema([(name, pa.string()) for name in fields])
                self.sink = pq.ParquetWriter(out, self.schema, compression="zstd")
            else:
                self.sink = out.open("w", encoding="utf-8")
        except OSError as exc:
            raise SystemExit(f"error: cannot write {out}: {exc.strerror or exc}") from None

    def write(self, records: list[dict]) -> None:
        if not records:
            return
        try:
            if self.out.suffix == ".parquet":
                import pyarrow as pa

                self.sink.write_table(pa.Table.from_pylist(records, schema=self.schema))
            else:
                self.sink.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records))
                self.sink.flush()
        except OSError as exc:
            raise SystemExit(f"error: cannot write {self.out}: {exc.strerror or exc}") from None
        self.count += len(records)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.sink.close()


def _clean_batch(pool, make_pool, clean, columns):
    """Results for one batch. A worker that dies (out of memory, a crash in a parser) costs
    only its own page: the batch is cleaned again one page at a time in a fresh pool."""
    from concurrent.futures.process import BrokenProcessPool

    if pool is None:
        return list(map(clean, *columns)), None
    try:
        return list(pool.map(clean, *columns, chunksize=4)), pool
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
    results = []
    pool = make_pool()
    for args in zip(*columns):
        try:
            results.append(pool.submit(clean, *args).result())
        except BrokenProcessPool:
            results.append((None, "worker_died", "the process cleaning this page died (out of memory?)"))
            pool.shutdown(wait=False, cancel_futures=True)
            pool = make_pool()
    return results, pool


def cmd_extract(args) -> int:
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial
    from itertools import islice

    from cleaning.clean import clean_one
    from cleaning.config import CleanConfig

    settings = CleanConfig(repeat_min_words=args.min_repeat_words)
    if args.workers < 0:
        raise SystemExit(f"error: --workers must be 0 (one per core) or more, got {args.workers}")
    missing = [item for item in args.inputs if not Path(item).exists()]
    if missing:
        raise SystemExit(f"error: input not found: {', '.join(missing)}")
    workers = args.workers or os.cpu_count() or 1
    make_pool = partial(ProcessPoolExecutor, max_workers=workers)
    pages = iter(_pages_of(args.inputs, settings.max_page_bytes))
    clean = partial(clean_one, settings=settings)
    failed = 0
    pool = make_pool() if workers > 1 else None
    try:
        with _RecordWriter(Path(args.out), EXTRACT_FIELDS) as writer:
            # In batches, so a folder of any size never holds more than one batch of pages in memory.
            while batch := list(islice(pages, EXTRACT_BATCH)):
                readable = [
                    (data, url, content_type) for _, url, data, content_type in batch if not isinstance(data, Exception)
                ]
                columns = list(zip(*readable)) or [(), (), ()]  # bodies, urls, content types
                cleaned, pool = _clean_batch(pool, make_pool, clean, columns)
                results = iter(cleaned)
                records = [
                    _extracted(source_path, url, data, None if isinstance(data, Exception) else next(results))
                    for source_path, url, data, _ in batch
                ]
                writer.write(records)
                failed += sum(1 for r in records if r["error"])
            total = writer.count
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    print(f"{total} pages, {total - failed} articles, {failed} rejected -> {args.out}", file=sys.stderr)
    return 0


EXTRACT_BATCH = 256


def _extracted(source_path: str, url: str | None, data, result) -> dict:
    record = dict.fromkeys(EXTRACT_FIELDS)
    record.update(source_path=source_path, url=url)
    if isinstance(data, InputProblem):
        record["error"] = str(data)
        return record
    if isinstance(data, Exception):
        record["error"] = f"unreadable: {data}"
        return record
    page, reason, detail = result
    if page is None:
        record["error"] = f"{reason}: {detail}" if detail else reason
    else:
        record.update(
            url=url or page.meta.canonical_url,
            title=page.meta.title,
            text=page.text,
            published_at=page.meta.published_at.isoformat() if page.meta.published_at else None,
            wire_agency=page.wire_agency,
        )
    return record


def cmd_dedup(args) -> int:
    """One output row per input record, the record's own fields first, as they came in."""
    from cleaning.dedup import dedup_records

    source = Path(args.input)
    if Path(args.out).suffix not in (".jsonl", ".ndjson", ".parquet"):
        raise SystemExit(f"error: --out must end in .jsonl or .parquet, got {args.out}")
    records = _read_records(source)
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise SystemExit(f"error: record {number} is not an object with 'id' and 'text'")
        if "id" not in record or "text" not in record:
            raise SystemExit(f"error: record {number} has no {'id' if 'id' not in record else 'text'!r} field")
        if record["id"] is None or isinstance(record["id"], (dict, list)):
            raise SystemExit(f"error: record {number} has an id that is not a string or number: {record['id']!r}")
        if record["text"] is not None and not isinstance(record["text"], str):
            raise SystemExit(f"error: record {number} has a 'text' that is not a string")
    inputs = []
    for number, record in enumerate(records, 1):  # parsed copies: the records are written back unchanged
        inputs.append(
            {
                "id": str(record["id"]),
                "text": record["text"],
                "published_at": _publication_time(record.get("published_at"), number),
            }
        )
    try:
        decided = dedup_records(inputs, _dedup_settings(args), workers=os.cpu_count() or 1)
    except ValueError as exc:  # repeated ids
        raise SystemExit(f"error: {exc}") from None
    decisions = {d.id: d for d in decided}
    # Ids come back as given (a number stays a number), unless they mix types and the output
    # is Parquet, whose columns hold one type: then all are strings.
    out = Path(args.out)
    as_given = out.suffix != ".parquet" or len({type(r["id"]) for r in records}) <= 1
    original_id = {str(r["id"]): r["id"] if as_given else str(r["id"]) for r in records}
    columns = {
        "cluster_id": [original_id[decisions[i["id"]].cluster_id] for i in inputs],
        "canonical_id": [original_id[decisions[i["id"]].canonical_id] for i in inputs],
        "is_duplicate": [decisions[i["id"]].is_duplicate for i in inputs],
    }
    if source.suffix == ".parquet" and out.suffix == ".parquet":
        _write_parquet_with(source, columns, out)
    else:
        rows = [
            {**r, "id": original_id[str(r["id"])], **{k: v[n] for k, v in columns.items()}}
            for n, r in enumerate(records)
        ]
        _write_records(rows, out)
    dupes = sum(columns["is_duplicate"])
    print(f"{len(records)} records, {dupes} duplicates, {len(records) - dupes} kept -> {args.out}", file=sys.stderr)
    return 0


def _publication_time(value, number: int) -> datetime | None:
    """A record's ``published_at`` as an aware UTC datetime (it only ranks canonicals)."""
    from datetime import timezone

    from cleaning.clean.metadata import parse_time

    if value is None:
        return None
    if isinstance(value, str):
        return parse_time(value)  # unreadable text ranks as unknown, like a page without a date
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    raise SystemExit(f"error: record {number} has a 'published_at' that is not a date or time: {value!r}")


def _dedup_settings(args):
    from dataclasses import replace

    from cleaning.config import DedupConfig

    settings = DedupConfig()
    for flag, field_name in (("threshold", "jaccard_threshold"), ("containment", "containment_threshold")):
        value = getattr(args, flag)
        if value is None:
            continue
        if not 0 < value <= 1:
            raise SystemExit(f"error: --{flag} must be in (0, 1], got {value}")
        settings = replace(settings, **{field_name: value})
    return settings


def _write_parquet_with(source: Path, columns: dict, out: Path) -> None:
    """Parquet in, Parquet out: the input table with the new columns appended, so every input
    column keeps its exact type."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(source)  # read once already: it is Parquet
    for name, values in columns.items():
        if name in table.column_names:
            table = table.drop_columns([name])
        kind = pa.bool_() if name == "is_duplicate" else table.schema.field("id").type
        table = table.append_column(name, pa.array(values, kind))
    try:
        pq.write_table(table, out, compression="zstd")
    except OSError as exc:
        raise SystemExit(f"error: cannot write {out}: {_first_line(exc)}") from None


def cmd_report(args) -> int:
    """Print a published night's summary; exit status 3 when that night failed its failure bound,
    5 when ``--check`` finds its parts are not the ones its manifest lists."""
    from cleaning import layout
    from cleaning.config import load_config
    from cleaning.publish import check_night, failed_reports, format_summary, manifest_file
    from cleaning.store import Lake

    config = load_config(args.config, lake=args.lake)
    lake = Lake(config.lake)
    rel = manifest_file(args.date)
    if not lake.exists(rel):
        raise SystemExit(f"error: no published run for {args.date} in {config.lake}")
    manifest = lake.read_json(rel)
    failed = manifest.get("status") == "failed"
    print(
        f"run {args.date}: {'FAILED' if failed else 'published'} {manifest['published_at']}, code "
        f"{manifest['code_version']}, config {manifest['config_digest']}"
    )
    if failed:
        print(f"error: {manifest.get('error', 'failure share above the bound')}")
        print("nothing of the night was published but its failures; the counts show what would have been")
    for report in failed_reports(lake, args.date):
        attempt = lake.read_json(report)
        print(
            f"note: a later run failed at {attempt['published_at']} and changed nothing: {attempt.get('error')} "
            f"(report: {report})"
        )
    print(format_summary(manifest["summary"]))
    rows = manifest.get("rows", {})
    if rows:
        print("rows: " + ", ".join(f"{table} {n}" for table, n in rows.items()))
        parts = {table: len(layout.manifest_parts(manifest, table)) for table in rows}
        listed = ", ".join(f"{table} {n}" for table, n in parts.items())
        print(f"parts: {listed} (attempt {manifest.get('attempt')})")
    withheld = manifest.get("withheld_rows", {})
    if withheld:
        print("withheld, not published: " + ", ".join(f"{table} {n}" for table, n in withheld.items()))
    seconds: dict[str, float] = {}
    from cleaning.plan import STAGES

    for stats in sorted(
        manifest.get("stages", []), key=lambda s: STAGES.index(s["stage"]) if s["stage"] in STAGES else 99
    ):
        seconds[stats["stage"]] = seconds.get(stats["stage"], 0.0) + float(stats.get("seconds", 0.0))
    if seconds:
        print("seconds: " + ", ".join(f"{stage} {s:.1f}" for stage, s in seconds.items()))
    _print_health(lake, args.date, args.nights)
    if failed:
        return 3
    if args.check:
        problems = check_night(lake, args.date)
        if problems:
            print(f"check: {args.date} is NOT consistent ({len(problems)} problem(s); publishing, or run it again):")
            print("\n".join(f"  {p}" for p in problems))
            return 5
        print(f"check: {args.date} is consistent: every part the manifest lists, from its attempt, and no other")
    return 0


def _print_health(lake, run_date: date, nights: int | None) -> None:
    """The night's health flags (and with ``nights``, each source's trend), when recorded."""
    from cleaning import layout
    from cleaning.health import format_flags, read_night
    from cleaning.health.report import format_trend

    if not lake.exists(layout.health_file(run_date)):
        print("source health: not recorded for this night")
        return
    if nights:
        print()
        print(format_trend(lake, run_date, nights))
    else:
        flags = [{"source": r["source"], **f} for r in read_night(lake, run_date) for f in r["flags"]]
        print(format_flags(run_date, flags))
    report = layout.health_report(run_date)
    if lake.exists(report):
        print(f"health report: {lake.path(report)}")


def cmd_eval_extraction(args) -> int:
    from cleaning.evaluate.extraction import evaluate, format_results

    try:
        results = evaluate(
            args.gold, rounds=args.bootstrap, half=args.half, workers=args.workers or os.cpu_count() or 1
        )
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from None
    print(format_results(results))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from cleaning.config import DedupConfig

    parser = argparse.ArgumentParser(
        prog="cleaning", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(p):
        p.add_argument(
            "--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s, or $NEWSCLEAN_CONFIG)"
        )
        p.add_argument("--lake", help="lake root, a folder or s3:// URI (overrides [pipeline] lake)")

    p = sub.add_parser(
        "run",
        help="run the nightly pipeline in this process",
        description="Run discover, fetch, clean, dedup, publish and source health for one date, without Airflow.",
    )
    with_config(p)
    p.add_argument("--date", type=_date, help="run date YYYY-MM-DD (default: today in the config's timezone)")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--reprocess", action="store_true", help="clean the date's kept raw captures again; no network")
    p.add_argument("--dry-run", action="store_true", help="do everything but publish")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "extract",
        help="HTML files or folders -> cleaned articles",
        description="Extract cleaned articles from .html/.html.gz files or folders of them; one record per page.",
    )
    p.add_argument("inputs", nargs="+", help=".html, .html.gz or .warc[.gz] files, or folders of them")
    p.add_argument("--out", required=True, help="output file, .jsonl or .parquet")
    p.add_argument(
        "--min-repeat-words", type=int, default=8, help="shortest repeated block removed (default: %(default)s)"
    )
    p.add_argument("--workers", type=int, default=0, help="processes to clean pages with (default: one per core)")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser(
        "dedup",
        help="records with id and text -> duplicate flags",
        description="Find exact and near-duplicate records; one output row per input with cluster_id, "
        "canonical_id, is_duplicate.",
    )
    p.add_argument("input", help="JSONL or Parquet with 'id' and 'text' (other fields are carried through)")
    p.add_argument("--out", required=True, help="output file, .jsonl or .parquet")
    p.add_argument(
        "--threshold",
        type=float,
        help=f"Jaccard threshold for near duplicates (default {DedupConfig.jaccard_threshold})",
    )
    p.add_argument(
        "--containment",
        type=float,
        help=f"containment threshold for abridged copies (default {DedupConfig.containment_threshold})",
    )
    p.set_defaults(func=cmd_dedup)

    p = sub.add_parser(
        "report",
        help="per-source summary of a published night",
        description="Print the per-source counts of one published run date.",
    )
    with_config(p)
    p.add_argument("date", type=_date, help="run date YYYY-MM-DD")
    p.add_argument(
        "--nights",
        type=_nights,
        metavar="N",
        help="also show each source's health over the last N published nights, with the flags",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="check that the night's parts in the lake are those its manifest lists, from its attempt "
        "(reads every part's footer; exit status 5 when not)",
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "unlock",
        help="remove the claims of runs on a date (after a crash)",
        description="Remove every run's claim on a run date's lease. Only when the run holding it is surely gone: "
        "a live run would go on writing beside the next one.",
    )
    with_config(p)
    p.add_argument("date", type=_date, help="run date YYYY-MM-DD")
    p.set_defaults(func=cmd_unlock)

    p = sub.add_parser("eval", help="quality evaluations", description="Quality evaluations.")
    evals = p.add_subparsers(dest="evaluation", required=True, metavar="EVALUATION")
    e = evals.add_parser(
        "extraction",
        help="score extraction against gold bodies, beside plain trafilatura",
        description="Score our extraction and plain trafilatura.extract on a folder of <id>.html[.gz] + <id>.json "
        "(gold text in 'body'; the article-extraction-benchmark metric), or on a folder with evaldata.json and "
        "pages/ (trafilatura's evaluation set; its snippet metric), with a bootstrap 95%% interval.",
    )
    e.add_argument(
        "--gold", required=True, help="folder of <id>.html[.gz] and <id>.json, or of evaldata.json and pages/"
    )
    e.add_argument(
        "--half", choices=["tune", "holdout"], help="score only one half of the pages (split by a hash of the page id)"
    )
    e.add_argument("--workers", type=int, default=0, help="processes (default: one per core)")
    e.add_argument("--bootstrap", type=int, default=1000, help="bootstrap rounds (default: %(default)s)")
    e.add_argument("--out", help="also write the full results (per page) as JSON here")
    e.set_defaults(func=cmd_eval_extraction)
    return parser


def main(argv: list[str] | None = None) -> int:
    from cleaning.config import ConfigError
    from cleaning.lease import LeaseHeld
    from cleaning.plan import PlanError
    from cleaning.store import LakeError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, PlanError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except LeaseHeld as exc:  # another run is writing this date
        print(f"error: {exc}", file=sys.stderr)
        return 4
    except FileNotFoundError as exc:  # a reprocess without kept captures, a missing input
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except LakeError as exc:  # a missing bucket, an endpoint that does not answer
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
