"""The lake: every file the pipeline reads or writes goes through here.

Paths are relative to the lake root, which may be a local folder or a URI that
:func:`pyarrow.fs.FileSystem.from_uri` understands (``s3://bucket/prefix``), so moving the lake to
object storage is a config change. Single files are written whole and then moved into place (on a
local disk a rename, which is atomic); on object storage one PUT is already all-or-nothing.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 8_192  # about 30-60 MB of news text per row group: big enough for scans


class Lake:
    def __init__(self, root: str, filesystem: pafs.FileSystem | None = None):
        self.uri = root
        if filesystem is not None:
            self.fs, self.root = filesystem, root.rstrip("/")
        elif "://" in root:
            self.fs, self.root = pafs.FileSystem.from_uri(root)
            self.root = self.root.rstrip("/")
        else:
            self.fs, self.root = pafs.LocalFileSystem(), str(Path(root).resolve())
        self.is_local = isinstance(self.fs, pafs.LocalFileSystem)

    def __repr__(self) -> str:
        return f"Lake({self.uri!r})"

    def path(self, relpath: str) -> str:
        return f"{self.root}/{relpath}".rstrip("/")

    def exists(self, relpath: str) -> bool:
        return self.fs.get_file_info(self.path(relpath)).type != pafs.FileType.NotFound

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

    def _move_into_place(self, tmp: str, final: str) -> None:
        if self.is_local:
            os.replace(tmp, final)
        else:  # object stores: the PUT of `final` was written directly, nothing to move
            raise AssertionError("unreachable")

    def _target(self, relpath: str) -> tuple[str, str]:
        """Where to write first, and where the file must end up."""
        final = self.path(relpath)
        parent = final.rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)
        if not self.is_local:
            return final, final
        name = final.rsplit("/", 1)[1]
        return f"{parent}/.{name}.{uuid.uuid4().hex}.tmp", final

    def write_table(self, relpath: str, table: pa.Table, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        tmp, final = self._target(relpath)
        try:
            with self.fs.open_output_stream(tmp) as sink:
                pq.write_table(
                    table,
                    sink,
                    compression="zstd",
                    row_group_size=row_group_rows,
                    write_statistics=True,
                )
            if tmp != final:
                self._move_into_place(tmp, final)
        finally:
            if tmp != final and self.fs.get_file_info(tmp).type != pafs.FileType.NotFound:
                self.fs.delete_file(tmp)

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

    def write_bytes(self, relpath: str, data: bytes) -> None:
        tmp, final = self._target(relpath)
        with self.fs.open_output_stream(tmp) as sink:
            sink.write(data)
        if tmp != final:
            self._move_into_place(tmp, final)

    def read_bytes(self, relpath: str) -> bytes:
        with self.fs.open_input_stream(self.path(relpath)) as source:
            return source.read()

    def write_json(self, relpath: str, data) -> None:
        self.write_bytes(relpath, json.dumps(data, indent=2, sort_keys=True, default=str).encode() + b"\n")

    def read_json(self, relpath: str):
        return json.loads(self.read_bytes(relpath))
