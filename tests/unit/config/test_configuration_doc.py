"""docs/configuration.md must list exactly the keys the settings classes of cleaning/config.py
define, each in its section's table with the class's type, default and range; every TOML example
in it, and the one in the README's "Your own sources" section, must load with load_config."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shlex
import socket
import tomllib
import types
import typing
from pathlib import Path

import pytest

from cleaning import config as cfg
from cleaning.config import (
    CleanConfig,
    Config,
    ConfigError,
    DedupConfig,
    FetchConfig,
    HealthConfig,
    Source,
    load_config,
)
from tests.support import ROOT, code_blocks

DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
HEADER = "| key | type | default | allowed | meaning |"

# section title in the doc -> (settings class, fields that are not keys of that section)
SECTIONS = {
    "[pipeline]": (Config, {"path", "sources", "fetch", "clean", "dedup", "health"}),
    "[fetch]": (FetchConfig, set()),
    "[clean]": (CleanConfig, set()),
    "[dedup]": (DedupConfig, set()),
    "[health]": (HealthConfig, set()),
    "[[sources]]": (Source, set()),
}
# Ranges the loader checks for sources (Source itself has no LIMITS).
SOURCE_LIMITS = {"max_items": (1, None), "delay_seconds": (0, cfg.DAY_SECONDS)}


# ---------------------------------------------------------------- rendering, as the doc writes it
def render_value(value) -> str:
    """A default as a TOML literal: ``true``, ``4``, ``10_000_000``, ``20.0``, ``"UTC"``, ``[]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{json.dumps(k)} = {render_value(v)}" for k, v in value.items()) + "}" if value else "{}"
        )
    raise TypeError(f"no rendering for {value!r}")


def render_default(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        return "not set" if field.default is None else f"`{render_value(field.default)}`"
    if field.default_factory is not dataclasses.MISSING:
        return f"`{render_value(field.default_factory())}`"
    return "required"


def render_type(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(render_type(a) for a in args if a is not type(None))
    if origin is tuple:
        return f"list of {render_type(args[0])}"
    if origin is dict:
        return f"table of {render_type(args[1])}"
    return hint.__name__


def render_number(x) -> str:
    return f"{x:,}"


def render_range(low, high) -> str:
    if isinstance(low, tuple):
        assert low[0] == "above" and high is not None
        return f"more than {render_number(low[1])}, at most {render_number(high)}"
    if high is None:
        return f"at least {render_number(low)}"
    return f"{render_number(low)} to {render_number(high)}"


# ---------------------------------------------------------------- reading the doc
def section_tables(text: str) -> dict[str, dict[str, list[str]]]:
    """``{"[fetch]": {"retries": [type, default, allowed, meaning], ...}, ...}``: the key table
    under each ``## `[section]` `` heading."""
    tables: dict[str, dict[str, list[str]]] = {}
    current, rows = None, None
    for line in text.splitlines():
        heading = re.match(r"^## `(\[\[?\w+\]\]?)`\s*$", line)
        if line.startswith("## "):
            current, rows = (heading.group(1) if heading else None), None
            continue
        if current is None:
            continue
        if line.strip() == HEADER:
            assert current not in tables, f"two key tables under {current}"
            rows = tables[current] = {}
            continue
        if rows is not None:
            if not line.startswith("|"):
                rows = None
                continue
            if set(line.replace("|", "").strip()) <= {"-", " "}:
                continue
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            assert len(cells) == 5, f"{current}: row does not have 5 cells: {line}"
            key = re.fullmatch(r"`(\w+)`", cells[0])
            assert key, f"{current}: key cell is not `name`: {line}"
            assert key.group(1) not in rows, f"{current}: {key.group(1)} listed twice"
            rows[key.group(1)] = cells[1:]
    return tables


def readme_section(title: str) -> tuple[str, str | None]:
    """The body of the README's ``## title`` section, and the title of the section before it."""
    parts = re.split(r"^## (.+)$", README, flags=re.M)
    titles = parts[1::2]
    assert title in titles, f"README has no section {title!r}"
    index = titles.index(title)
    return parts[2 + 2 * index], titles[index - 1] if index else None


TABLES = section_tables(DOC)
TOML_EXAMPLES = [(name, code) for name, lang, code in code_blocks(DOC) if lang == "toml"]


# ---------------------------------------------------------------- loading examples
@pytest.fixture
def no_network(monkeypatch):
    """Loading a config must not resolve or connect anything."""

    def refuse(*args, **kwargs):
        raise AssertionError("load_config used the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def prepare(folder: Path, text: str) -> Path:
    """Write ``text`` as ``folder/config.toml`` and create the local files and folders its
    sources name (HOME is expected to point into ``folder`` for ``~`` paths)."""
    folder.mkdir(parents=True, exist_ok=True)

    def local(value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else folder / path

    for source in tomllib.loads(text).get("sources", []):
        kind, url, path = source.get("kind"), source.get("url"), source.get("path")
        if kind in ("feed", "sitemap") and url and not url.startswith(("http://", "https://")):
            target = local(url.removeprefix("file://"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("<rss><channel></channel></rss>" if kind == "feed" else "<urlset/>", encoding="utf-8")
        elif kind == "urls":
            local(path).parent.mkdir(parents=True, exist_ok=True)
            local(path).write_text("# one URL per line\nhttps://example.org/a.html\n", encoding="utf-8")
        elif kind in ("local", "warc"):
            local(path).mkdir(parents=True, exist_ok=True)
        for folder_name in source.get("mirror", {}).values():
            local(folder_name).mkdir(parents=True, exist_ok=True)
    target = folder / "config.toml"
    target.write_text(text, encoding="utf-8")
    return target


# ---------------------------------------------------------------- the tables
def test_every_section_has_one_key_table():
    assert set(TABLES) == set(SECTIONS)
    for name, (cls, internal) in SECTIONS.items():
        assert internal <= {f.name for f in dataclasses.fields(cls)}, f"{name}: internal fields renamed?"


@pytest.mark.parametrize("section", list(SECTIONS))
def test_table_lists_exactly_the_keys(section):
    cls, internal = SECTIONS[section]
    keys = [f.name for f in dataclasses.fields(cls) if f.name not in internal]
    documented = list(TABLES[section])
    assert sorted(set(keys) - set(documented)) == [], f"{section}: keys missing from docs/configuration.md"
    assert sorted(set(documented) - set(keys)) == [], (
        f"{section}: keys in docs/configuration.md that {cls.__name__} does not have"
    )
    assert documented == keys, f"{section}: list the keys in the order of {cls.__name__}"


def test_internal_fields_are_not_keys():
    """The fields the doc leaves out are exactly the ones the loader does not take as keys."""
    hints = typing.get_type_hints(Config)
    for name in SECTIONS["[pipeline]"][1]:
        hint = hints[name]
        assert name == "path" or dataclasses.is_dataclass(hint) or typing.get_args(hint)[:1] == (Source,), name


@pytest.mark.parametrize("section", list(SECTIONS))
def test_types_defaults_and_ranges(section, tmp_path):
    cls, internal = SECTIONS[section]
    hints = typing.get_type_hints(cls)
    limits = getattr(cls, "LIMITS", SOURCE_LIMITS if cls is Source else {})
    for field in dataclasses.fields(cls):
        if field.name in internal:
            continue
        type_cell, default_cell, allowed_cell, meaning = TABLES[section][field.name]
        where = f"{section} {field.name}"
        assert type_cell == render_type(hints[field.name]), where
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING and cls is Config:
            continue  # a default the loader supplies: checked in test_lake_default
        assert default_cell == render_default(field), where
        if field.name in limits:
            assert render_range(*limits[field.name]) in allowed_cell, (
                f"{where}: allowed should say {render_range(*limits[field.name])!r}"
            )
        if hints[field.name] is bool:
            assert "`true` or `false`" in allowed_cell, where
        assert meaning, f"{where}: no meaning"


def test_lake_default(tmp_path, no_network):
    """``lake`` has no default in Config; the loader's (a folder next to the file) is documented."""
    cell = TABLES["[pipeline]"]["lake"][1]
    literal = re.fullmatch(r"`(.+)`", cell)
    assert literal, cell
    config = load_config(prepare(tmp_path, ""))
    assert config.lake == str((tmp_path / tomllib.loads(f"v = {literal.group(1)}")["v"]).resolve())


def test_source_ranges_are_the_loaders(tmp_path, no_network):
    """The ranges documented for sources, which only the loader checks, hold at their edges."""

    def with_source(extra: str) -> Path:
        (tmp_path / "urls.txt").write_text("https://example.org/a\n", encoding="utf-8")
        (tmp_path / "c.toml").write_text(
            f'[[sources]]\nname = "s"\nkind = "urls"\npath = "urls.txt"\n{extra}\n', encoding="utf-8"
        )
        return tmp_path / "c.toml"

    hints = typing.get_type_hints(Source)
    for key, (low, high) in SOURCE_LIMITS.items():
        step = 1 if render_type(hints[key]) == "int" else 0.5  # just outside, in the key's type
        load_config(with_source(f"{key} = {low}"))
        with pytest.raises(ConfigError, match=key):
            load_config(with_source(f"{key} = {low - step}"))
        if high is not None:
            load_config(with_source(f"{key} = {high}"))
            with pytest.raises(ConfigError, match=key):
                load_config(with_source(f"{key} = {high + step}"))


@pytest.mark.parametrize(
    "text",
    [
        "[fetch]\nretries = true",  # a bool is not an int
        "[fetch]\nobey_robots = 1",
        "[pipeline]\nshards = 2.0",
        "[fetch]\ndelay_seconds = nan",
        "[dedup]\njaccard_threshold = inf",
        "[fetch]\nretry = 3",  # unknown key
        "[fetcher]\nretries = 3",  # unknown section
    ],
)
def test_stated_rules_hold(tmp_path, text):
    with pytest.raises(ConfigError):
        load_config(prepare(tmp_path, text))


def test_python_settings_are_checked_too():
    """The doc says the range checks also run when the classes are built in Python."""
    with pytest.raises(ConfigError):
        FetchConfig(retries=-1)
    with pytest.raises(ConfigError):
        DedupConfig(jaccard_threshold=math.nan)


# ---------------------------------------------------------------- the examples
def test_doc_has_its_examples():
    names = [name for name, _ in TOML_EXAMPLES]
    assert "all-defaults" in names and "every-kind" in names, names


@pytest.mark.parametrize(
    "name,code", TOML_EXAMPLES, ids=[name or f"block{i}" for i, (name, _) in enumerate(TOML_EXAMPLES)]
)
def test_doc_example_loads(name, code, tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load_config(prepare(tmp_path / "example", code))
    assert len(config.sources) == len(tomllib.loads(code).get("sources", []))


def test_all_defaults_example_is_the_defaults(tmp_path, no_network):
    code = dict(TOML_EXAMPLES)["all-defaults"]
    raw = tomllib.loads(code)
    for section, (cls, internal) in SECTIONS.items():
        if section == "[[sources]]":
            continue
        keys = {f.name for f in dataclasses.fields(cls)} - internal
        assert set(raw[section.strip("[]")]) == keys, f"{section}: the all-defaults example must set every key"
    config = load_config(prepare(tmp_path, code))
    assert (config.fetch, config.clean, config.dedup) == (FetchConfig(), CleanConfig(), DedupConfig())
    defaults = Config(path=config.path, lake=str((tmp_path / "lake").resolve()))
    assert config == defaults


def test_examples_use_every_source_key():
    used = {key for _, code in TOML_EXAMPLES for source in tomllib.loads(code).get("sources", []) for key in source}
    assert used == {f.name for f in dataclasses.fields(Source)}
    kinds = {source["kind"] for _, code in TOML_EXAMPLES for source in tomllib.loads(code).get("sources", [])}
    assert kinds == set(cfg.SOURCE_KINDS)


# ---------------------------------------------------------------- the README section
def test_readme_own_sources_section(tmp_path, monkeypatch, no_network):
    body, before = readme_section("Your own sources")
    assert before == "What `make run` does", "the section follows 'What `make run` does'"
    assert "docs/configuration.md" in body
    blocks = [code for _, lang, code in code_blocks(body) if lang == "toml"]
    assert len(blocks) == 1, "one toml example in the section"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = prepare(tmp_path / "readme", blocks[0])
    declared = tomllib.loads(blocks[0]).get("pipeline", {}).get("lake")
    config = load_config(path)  # an s3:// lake is only a string here: nothing connects
    if declared and "://" in declared:
        assert config.lake == declared
    assert load_config(path, lake=str(tmp_path / "lake")).lake == str(tmp_path / "lake")
    kinds = {source.kind for source in config.sources}
    assert {"feed", "sitemap", "warc", "urls"} <= kinds
    assert all(s.url.startswith("https://") for s in config.sources if s.kind in ("feed", "sitemap"))


def test_readme_commands_parse():
    """The commands shown in the section are ones ``cleaning`` accepts."""
    from cleaning.cli import build_parser

    body, _ = readme_section("Your own sources")
    commands = [
        shlex.split(line, comments=True)
        for _, lang, code in code_blocks(body)
        if lang in ("sh", "bash", "console")
        for line in code.splitlines()
        if line.strip().startswith(".venv/bin/cleaning")
    ]
    assert any(cmd[1] == "run" and "--config" in cmd and "--date" in cmd for cmd in commands), commands
    for cmd in commands:
        build_parser().parse_args(cmd[1:])  # SystemExit on an unknown option
