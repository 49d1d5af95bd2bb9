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
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 8_192  # about 30-60 MB of news text per row group: big enough for scans
COMPRESSION = "zstd"


def parquet_bytes(table: pa.Table, row_group_rows: int = ROW_GROUP_ROWS) -> bytes:
    """``table`` as one Parquet file (zstd, statistics on), in memory."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=COMPRESSION, row_group_size=row_group_rows, write_statistics=True)
    return sink.getvalue().to_pybytes()


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


class Lake:
    def __init__(self, root: str, filesystem: pafs.FileSystem | None = None):
        self.uri = root
        if filesystem is not None:
            self.fs, self.root = filesystem, root.rstrip("/")
        elif "://" in root:
            self.fs, self.root = filesystem_from_uri(root)
            self.root = self.root.rstrip("/")
        else:
            self.fs, self.root = pafs.LocalFileSystem(), str(Path(root).resolve())
        self.is_local = isinstance(self.fs, pafs.LocalFileSystem)
        # Object stores have no folders: creating one writes an empty "name/" marker object.
        self._needs_dirs = not isinstance(self.fs, pafs.S3FileSystem)

    def __repr__(self) -> str:
        return f"Lake({self.uri!r})"

    def path(self, relpath: str) -> str:
        return f"{self.root}/{relpath}".rstrip("/")

    def exists(self, relpath: str) -> bool:
        return self.fs.get_file_info(self.path(relpath)).type != pafs.FileType.NotFound

    def size(self, relpath: str) -> int | None:
        """Size in bytes of a file, None when there is no file at ``relpath``."""
        info = self.fs.get_file_info(self.path(relpath))
        return info.size if info.type == pafs.FileType.File else None

    def list_files(self, reldir: str, suffix: str = "") -> list[str]:
        """Relative paths of the files under ``reldir`` (recursive), sorted."""
        selector = pafs.FileSelector(self.path(reldir), recursive=True, allow_not_found=True)
        prefix = self.root + "/"
        found = [
            info.path[len(prefix):]
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File and info.path.endswith(suffix)
        ]
        return sorted(found)

    def delete_dir(self, reldir: str) -> None:
        if self.exists(reldir):
            self.fs.delete_dir(self.path(reldir))

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

    def write_table(self, relpath: str, table: pa.Table, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        if self.is_local:  # streamed to a temporary file: no second copy of the file in memory
            self._write_local(
                relpath,
                lambda sink: pq.write_table(
                    table, sink, compression=COMPRESSION, row_group_size=row_group_rows, write_statistics=True
                ),
            )
        else:
            self.write_bytes(relpath, parquet_bytes(table, row_group_rows))

    def read_table(self, relpath: str, columns: list[str] | None = None, schema: pa.Schema | None = None) -> pa.Table:
        with self.fs.open_input_file(self.path(relpath)) as source:
            table = pq.read_table(source, columns=columns)
        return table.cast(schema) if schema is not None and columns is None else table

    def read_tables(self, relpaths: list[str], schema: pa.Schema, columns: list[str] | None = None) -> pa.Table:
        """Concatenate several files that share ``schema`` (an empty table when there are none)."""
        if columns is not None:
            schema = pa.schema([schema.field(c) for c in columns])
        tables = [self.read_table(p, columns=columns).select(schema.names).cast(schema) for p in relpaths]
        return pa.concat_tables(tables) if tables else schema.empty_table()

    def read_metadata(self, relpath: str) -> pq.FileMetaData:
        """The Parquet footer of a file (reads only the end of the file)."""
        with self.fs.open_input_file(self.path(relpath)) as source:
            return pq.read_metadata(source)

    def write_bytes(self, relpath: str, data: bytes) -> None:
        if self.is_local:
            self._write_local(relpath, lambda sink: sink.write(data))
            return
        final = self.path(relpath)
        self._parent_of(final)
        with self.fs.open_output_stream(final) as sink:  # the whole object in one write
            sink.write(data)

    def read_bytes(self, relpath: str) -> bytes:
        with self.fs.open_input_stream(self.path(relpath)) as source:
            return source.read()

    def write_json(self, relpath: str, data) -> None:
        self.write_bytes(relpath, json.dumps(data, indent=2, sort_keys=True, default=str).encode() + b"\n")

    def read_json(self, relpath: str):
        return json.loads(self.read_bytes(relpath))

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
