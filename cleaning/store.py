"""The lake: every file the pipeline reads or writes goes through here.

Paths are relative to the lake root, which may be a local folder or a URI that
:func:`pyarrow.fs.FileSystem.from_uri` understands, so moving the lake to object storage is a
config change. For S3-compatible storage the endpoint and region come from the URI's query
(``s3://bucket/prefix?endpoint_override=http://127.0.0.1:9000&scheme=http&region=us-east-1``) or,
when the URI leaves them out, from the standard ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` and
``AWS_REGION`` / ``AWS_DEFAULT_REGION`` variables; credentials from the usual AWS chain.

Every file is written whole or not at all: on a local disk it is written to a temporary name and
renamed into place (atomic on POSIX); on object storage it is encoded in memory first and sent in
one upload, which the store makes visible all at once. (Streaming a Parquet file straight into an
S3 object is not safe: an error half-way through still completes the upload with a truncated
object, measured with pyarrow 26 on moto.) :meth:`Lake.commit` moves a staged file to its
published name in one step: a rename on a local disk, a server-side copy on object storage. See
``docs/lake.md`` for how publishing uses these.

A lake that cannot be used raises :class:`LakeError` (an ``OSError``) with a one-line message
that names the lake (credentials left out): a bucket that does not exist is refused when the
:class:`Lake` is made, before any stage writes (pyarrow would otherwise answer "no such file"
for every read of it, and a night would run to its first write); an endpoint that does not
answer, or any other storage error, says so instead of a traceback. A file that is simply not
there still raises ``FileNotFoundError``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 8_192  # about 30-60 MB of news text per row group: big enough for scans
COMPRESSION = "zstd"


def parquet_bytes(
    table: pa.Table, row_group_rows: int = ROW_GROUP_ROWS, dictionary: bool = True, statistics: bool = True
) -> bytes:
    """``table`` as one Parquet file (zstd, statistics on unless told), in memory."""
    sink = pa.BufferOutputStream()
    write_parquet(table, sink, row_group_rows, dictionary, statistics)
    return sink.getvalue().to_pybytes()


def write_parquet(table: pa.Table, sink, row_group_rows: int, dictionary: bool, statistics: bool) -> None:
    """The lake's one way of encoding Parquet: zstd, row groups of ``row_group_rows``."""
    pq.write_table(
        table,
        sink,
        compression=COMPRESSION,
        row_group_size=row_group_rows,
        write_statistics=statistics,
        use_dictionary=dictionary,
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def filesystem_from_uri(uri: str) -> tuple[pafs.FileSystem, str]:
    """:func:`pyarrow.fs.FileSystem.from_uri`, with the S3 endpoint and region filled in from the
    standard AWS environment variables when the URI does not give them.

    Giving the region (in the URI or the environment) also spares pyarrow a request to AWS to
    look the bucket's region up; with an ``endpoint_override`` pyarrow never makes that request.
    """
    parts = urlsplit(uri)
    if parts.scheme == "s3":
        query = parse_qsl(parts.query, keep_blank_values=True)
        given = {key for key, _ in query}
        added = []
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint and "endpoint_override" not in given:
            added.append(("endpoint_override", endpoint))
            scheme = urlsplit(endpoint).scheme if "://" in endpoint else ""
            if scheme and "scheme" not in given:
                added.append(("scheme", scheme))
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region and "region" not in given:
            added.append(("region", region))
        if added:
            uri = urlunsplit(parts._replace(query=urlencode(query + added)))
    return pafs.FileSystem.from_uri(uri)


class LakeError(OSError):
    """The lake cannot be used (a missing bucket, an endpoint that does not answer, ...)."""


def display_uri(uri: str) -> str:
    """A lake URI fit for a message: no credentials, and of the query only where it points."""
    if "://" not in uri:
        return uri
    parts = urlsplit(uri)
    shown = "&".join(
        f"{k}={v}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k in ("endpoint_override", "region", "scheme")
    )
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1], query=shown))


def _explain(exc: BaseException) -> str:
    """pyarrow's S3 error, in a line."""
    text = " ".join(str(exc).split())
    if "NETWORK_CONNECTION" in text or "curlCode" in text:
        detail = re.search(r"Details: (.*)$", text)
        return f"cannot reach the storage endpoint ({(detail.group(1) if detail else text)[:200]})"
    if "NO_SUCH_BUCKET" in text:
        bucket = re.search(r"in bucket '([^']*)'", text)
        return f"bucket {bucket.group(1)!r} does not exist" if bucket else "the bucket does not exist"
    return text[:300]


def _storage_errors(method):
    """Storage errors of a :class:`Lake` method become :class:`LakeError` naming the lake."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (FileNotFoundError, LakeError):
            raise
        except OSError as exc:
            raise LakeError(f"lake {display_uri(self.uri)}: {_explain(exc)}") from exc

    return wrapper


class Lake:
    def __init__(self, root: str, filesystem: pafs.FileSystem | None = None):
        self.uri = root
        if filesystem is not None:
            self.fs, self.root = filesystem, root.rstrip("/")
        elif "://" in root:
            try:
                self.fs, self.root = filesystem_from_uri(root)
            except (pa.ArrowException, ValueError, OSError) as exc:
                raise LakeError(f"lake {display_uri(root)}: not a usable lake URI ({_explain(exc)})") from None
            self.root = self.root.rstrip("/")
        else:
            self.fs, self.root = pafs.LocalFileSystem(), str(Path(root).resolve())
        self.is_local = isinstance(self.fs, pafs.LocalFileSystem)
        # Object stores have no folders: creating one writes an empty "name/" marker object.
        self._needs_dirs = not isinstance(self.fs, pafs.S3FileSystem)
        if filesystem is None and isinstance(self.fs, pafs.S3FileSystem):
            self._check_bucket()

    def _check_bucket(self) -> None:
        """Refuse a bucket that does not exist or an endpoint that does not answer, now.

        A bucket we may not look at (access denied on HeadBucket) is let through: object-level
        permissions may still allow everything the pipeline does."""
        bucket = self.root.split("/", 1)[0]
        try:
            info = self.fs.get_file_info(bucket)
        except OSError as exc:
            if "ACCESS_DENIED" in str(exc) or "403" in str(exc):
                return
            raise LakeError(f"lake {display_uri(self.uri)}: {_explain(exc)}") from None
        if info.type == pafs.FileType.NotFound:
            raise LakeError(
                f"lake {display_uri(self.uri)}: bucket {bucket!r} does not exist "
                "(create it, or fix [pipeline] lake / --lake)"
            )

    def __repr__(self) -> str:
        return f"Lake({self.uri!r})"

    def path(self, relpath: str) -> str:
        return f"{self.root}/{relpath}".rstrip("/")

    @_storage_errors
    def exists(self, relpath: str) -> bool:
        return self.fs.get_file_info(self.path(relpath)).type != pafs.FileType.NotFound

    @_storage_errors
    def size(self, relpath: str) -> int | None:
        """Size in bytes of a file, None when there is no file at ``relpath``."""
        info = self.fs.get_file_info(self.path(relpath))
        return info.size if info.type == pafs.FileType.File else None

    @_storage_errors
    def list_files(self, reldir: str, suffix: str = "") -> list[str]:
        """Relative paths of the files under ``reldir`` (recursive), sorted."""
        selector = pafs.FileSelector(self.path(reldir), recursive=True, allow_not_found=True)
        prefix = self.root + "/"
        found = [
            info.path[len(prefix) :]
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File and info.path.endswith(suffix)
        ]
        return sorted(found)

    @_storage_errors
    def delete_dir(self, reldir: str) -> None:
        if self.exists(reldir):
            self.fs.delete_dir(self.path(reldir))

    @_storage_errors
    def delete_file(self, relpath: str) -> None:
        if self.exists(relpath):
            self.fs.delete_file(self.path(relpath))

    def _parent_of(self, final: str) -> str:
        parent = final.rsplit("/", 1)[0]
        if self._needs_dirs:
            self.fs.create_dir(parent, recursive=True)
        return parent

    def _write_local(self, relpath: str, write) -> None:
        """Write through a temporary name next to the target, then rename it into place."""
        final = self.path(relpath)
        parent = self._parent_of(final)
        tmp = f"{parent}/.{final.rsplit('/', 1)[1]}.{uuid.uuid4().hex}.tmp"
        try:
            with self.fs.open_output_stream(tmp) as sink:
                write(sink)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    @_storage_errors
    def write_table(
        self,
        relpath: str,
        table: pa.Table,
        row_group_rows: int = ROW_GROUP_ROWS,
        dictionary: bool = True,
        statistics: bool = True,
    ) -> None:
        """Write ``table`` as one Parquet file. ``dictionary=False`` skips dictionary encoding, which
        only costs time and space on columns of distinct values such as hashes; ``statistics=False``
        leaves out min/max values, which a work file read by row number never uses and which make
        the footer of a file of many small row groups large."""
        if self.is_local:  # streamed to a temporary file: no second copy of the file in memory
            self._write_local(relpath, lambda sink: write_parquet(table, sink, row_group_rows, dictionary, statistics))
        else:
            self.write_bytes(relpath, parquet_bytes(table, row_group_rows, dictionary, statistics))

    @_storage_errors
    def read_table(self, relpath: str, columns: list[str] | None = None, schema: pa.Schema | None = None) -> pa.Table:
        with self.fs.open_input_file(self.path(relpath)) as source:
            table = pq.read_table(source, columns=columns)
        return table.cast(schema) if schema is not None and columns is None else table

    @_storage_errors
    def read_rows(self, relpath: str, rows, columns: list[str]) -> pa.Table:
        """Rows ``rows`` (positions in the file, in the order given) of ``columns``, reading only
        the row groups that hold them: a file written in small row groups serves a few rows for
        the cost of those groups, not of the whole column."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        with self.fs.open_input_file(self.path(relpath)) as source:
            parquet = pq.ParquetFile(source)
            sizes = np.array([parquet.metadata.row_group(g).num_rows for g in range(parquet.num_row_groups)])
            starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            if len(rows) and (rows.min() < 0 or rows.max() >= starts[-1]):
                raise IndexError(f"{relpath} has {starts[-1]} rows; asked for row {rows.min()} to {rows.max()}")
            group_of = np.searchsorted(starts, rows, side="right") - 1
            groups = np.unique(group_of)
            table = parquet.read_row_groups(groups.tolist(), columns=columns)
        read_starts = np.concatenate([[0], np.cumsum(sizes[groups])]).astype(np.int64)
        at = read_starts[np.searchsorted(groups, group_of)] + rows - starts[group_of]
        return table.take(pa.array(at, pa.int64()))

    @_storage_errors
    def read_tables(self, relpaths: list[str], schema: pa.Schema, columns: list[str] | None = None) -> pa.Table:
        """Concatenate several files that share ``schema`` (an empty table when there are none)."""
        if columns is not None:
            schema = pa.schema([schema.field(c) for c in columns])

        def read(relpath: str) -> pa.Table:
            return self.read_table(relpath, columns=columns).select(schema.names).cast(schema)

        if len(relpaths) > 4:  # many small files (a key range of every shard and night): read side by side
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(16, len(relpaths)), thread_name_prefix="lake-read") as pool:
                tables = list(pool.map(read, relpaths))
        else:
            tables = [read(p) for p in relpaths]
        return pa.concat_tables(tables) if tables else schema.empty_table()

    @_storage_errors
    def read_metadata(self, relpath: str) -> pq.FileMetaData:
        """The Parquet footer of a file (reads only the end of the file)."""
        with self.fs.open_input_file(self.path(relpath)) as source:
            return pq.read_metadata(source)

    @_storage_errors
    def write_bytes(self, relpath: str, data: bytes) -> None:
        if self.is_local:
            self._write_local(relpath, lambda sink: sink.write(data))
            return
        final = self.path(relpath)
        self._parent_of(final)
        with self.fs.open_output_stream(final) as sink:  # the whole object in one write
            sink.write(data)

    @_storage_errors
    def read_bytes(self, relpath: str) -> bytes:
        with self.fs.open_input_stream(self.path(relpath)) as source:
            return source.read()

    @_storage_errors
    def write_json(self, relpath: str, data) -> None:
        self.write_bytes(relpath, json.dumps(data, indent=2, sort_keys=True, default=str).encode() + b"\n")

    @_storage_errors
    def read_json(self, relpath: str):
        return json.loads(self.read_bytes(relpath))

    @_storage_errors
    def commit(self, staged: str, final: str) -> None:
        """Make the staged file ``staged`` visible as ``final`` in one step, replacing any file there.

        Local disk: fsync, then rename (the staged file is gone afterwards). Object storage: a
        server-side copy, which creates the new object all at once (the staged object stays until
        its staging folder is deleted). Either way a reader of ``final`` sees the old file or the
        new one, never a mix.
        """
        source, target = self.path(staged), self.path(final)
        self._parent_of(target)
        if self.is_local:
            fd = os.open(source, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(source, target)
        else:
            self.fs.copy_file(source, target)
