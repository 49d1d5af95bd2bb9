"""docs/schema.md must describe exactly the Arrow schemas the code writes."""

import re

from cleaning.schema import PUBLISHED, SCHEMA_VERSION
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")


def documented_tables() -> dict[str, list[tuple[str, str, bool]]]:
    tables, current = {}, None
    for line in DOC.splitlines():
        heading = re.match(r"^### `(\w+)`", line)
        if heading:
            current = tables.setdefault(heading.group(1), [])
            continue
        row = re.match(r"^\| `(\w+)` \| `([^`]+)` \| (yes|no) \|", line)
        if row and current is not None:
            current.append((row.group(1), row.group(2), row.group(3) == "yes"))
    return tables


def test_doc_matches_arrow_schemas():
    documented = documented_tables()
    assert set(documented) == set(PUBLISHED)
    for name, schema in PUBLISHED.items():
        actual = [(f.name, str(f.type), f.nullable) for f in schema]
        assert documented[name] == actual, name


def test_doc_states_the_schema_version():
    assert f"Schema version: **{SCHEMA_VERSION}**" in DOC
    for schema in PUBLISHED.values():
        assert schema.metadata[b"schema_version"].decode() == SCHEMA_VERSION
        assert all(f.metadata and f.metadata.get(b"description") for f in schema)
