"""docs/schema.md must describe exactly the Arrow schemas and the manifest the code writes, and
every example query in it must run, on a lake produced from the samples, and give the answer it
claims (queries marked as computing the same thing in DuckDB, Polars and pandas must agree)."""

from __future__ import annotations

import ast
import re
from datetime import date, datetime

import pytest

from cleaning.schema import DERIVED, PUBLISHED, SCHEMA_VERSION
from tests.support import ROOT, code_blocks

DOC = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")


def documented_tables() -> dict[str, list[tuple[str, str, bool]]]:
    tables, current = {}, None
    for line in DOC.splitlines():
        heading = re.match(r"^### `(\w+)`", line)
        if heading:
            current = tables.setdefault(heading.group(1), [])
            continue
        if line.startswith("#"):  # any other heading ends the column list
            current = None
            continue
        row = re.match(r"^\| `(\w+)` \| `([^`]+)` \| (yes|no) \|", line)
        if row and current is not None:
            current.append((row.group(1), row.group(2), row.group(3) == "yes"))
    return tables


def run_block(lang: str, code: str, con):
    """Run one example; its answer is the SQL result, or the value of a Python block's last
    expression."""
    if lang == "sql":
        return con.execute(code).fetchall()
    tree = ast.parse(code)
    namespace: dict = {}
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = tree.body[:-1] if last else tree.body
    exec(compile(ast.Module(body=body, type_ignores=[]), "<docs/schema.md>", "exec"), namespace)  # noqa: S102
    return eval(compile(ast.Expression(last.value), "<docs/schema.md>", "eval"), namespace) if last else None  # noqa: S307


def scalar(value):
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        value = value.item()  # numpy scalars
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def answer(result):
    """Rows as tuples of plain Python values, whatever library produced them."""
    import pandas as pd
    import polars as pl

    if isinstance(result, pl.DataFrame):
        rows = result.rows()
    elif isinstance(result, pd.DataFrame):
        rows = list(result.reset_index().itertuples(index=False, name=None))
    elif isinstance(result, list):
        rows = result
    elif isinstance(result, dict):
        return {k: scalar(v) for k, v in result.items()}
    else:
        return result
    return [tuple(scalar(v) for v in row) for row in rows]


def test_doc_matches_arrow_schemas():
    documented = documented_tables()
    assert set(documented) == set(PUBLISHED) | set(DERIVED)
    for name, schema in {**PUBLISHED, **DERIVED}.items():
        actual = [(f.name, str(f.type), f.nullable) for f in schema]
        assert documented[name] == actual, name


def test_doc_states_the_schema_version():
    assert f"Schema version: **{SCHEMA_VERSION}**" in DOC
    for schema in [*PUBLISHED.values(), *DERIVED.values()]:
        assert schema.metadata[b"schema_version"].decode() == SCHEMA_VERSION
        assert schema.metadata[b"description"]
        assert all(f.metadata and f.metadata.get(b"description") for f in schema)


def test_doc_lists_every_manifest_field(sample_lake):
    _, _, manifest = sample_lake
    section = DOC.split("## The manifest", 1)[1].split("\n## ", 1)[0]
    documented = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            documented |= set(re.findall(r"`(\w+)`", line.split("|")[1]))
    only_when_failed = {"status", "failure_bound", "error", "withheld_rows"}
    assert set(manifest) == documented - only_when_failed
    assert set(manifest["files"]) == set(PUBLISHED)
    assert set(manifest["files"]["articles"]) == {"path", "rows", "bytes", "parts"}
    assert set(manifest["files"]["articles"]["parts"][0]) == {"path", "rows", "bytes", "sha256"}


EXPECTED_EXAMPLES = {
    "per-source": 3,
    "by-method": 2,
    "dropped-and-kept": 1,
    "failures": 1,
    "consistent-read": 1,
    "attempt-check": 1,
}


@pytest.fixture
def in_repo_layout(sample_lake, tmp_path, monkeypatch):
    """A working folder where ``data/lake`` is the sample lake, as after ``make run``."""
    _, lake, manifest = sample_lake
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "lake").symlink_to(lake, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return manifest


def test_doc_examples_run_and_agree(in_repo_layout):
    import duckdb

    manifest = in_repo_layout
    rows = manifest["rows"]
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    blocks = [(name, lang, code) for name, lang, code in code_blocks(DOC) if lang in ("sql", "python")]
    counts: dict[str, int] = {}
    answers: dict[str, list] = {}
    for name, lang, code in blocks:
        result = run_block(lang, code, con)
        if name:
            counts[name] = counts.get(name, 0) + 1
            answers.setdefault(name, []).append(answer(result))
    assert counts == EXPECTED_EXAMPLES, "every example in docs/schema.md is named and run"
    for name, found in answers.items():
        assert all(a == found[0] for a in found), (name, found)

    per_source = answers["per-source"][0]
    assert sum(r[1] for r in per_source) == rows["articles"]
    assert sum(r[2] for r in per_source) == rows["duplicates"]  # the first night: all canonicals are tonight's
    assert sum(r[1] for r in answers["by-method"][0]) == rows["duplicates"]
    assert len(answers["dropped-and-kept"][0]) == rows["duplicates"]  # every canonical is found
    assert sum(r[2] for r in answers["failures"][0]) == rows["failures"]
    assert answers["consistent-read"][0] == rows
    parts = sum(len(manifest["files"][t]["parts"]) for t in rows)
    assert parts > 3  # several parts per table: the sample night has several shards
    assert answers["attempt-check"][0] == [(manifest["attempt"], parts, parts, parts)]


def test_doc_consistency_example_refuses_a_mixed_night(in_repo_layout, sample_lake, tmp_path):
    """The doc's consistent read raises when a table comes from another attempt than the
    manifest names (here: the manifest is swapped for one naming another attempt)."""
    import json
    import shutil

    _, lake, manifest = sample_lake
    copy = tmp_path / "copy"
    shutil.copytree(lake, copy, symlinks=True)
    (tmp_path / "data" / "lake").unlink()
    (tmp_path / "data" / "lake").symlink_to(copy, target_is_directory=True)
    path = copy / "manifests" / "run_date=2025-08-28" / "manifest.json"
    path.write_text(json.dumps({**manifest, "attempt": "20000101T000000Z-000000000000"}))
    code = next(code for name, _, code in code_blocks(DOC) if name == "consistent-read")
    with pytest.raises(RuntimeError, match="being published again"):
        run_block("python", code, None)
