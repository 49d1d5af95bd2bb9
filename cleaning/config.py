"""Pipeline configuration, loaded from a TOML file (by default ``data/sources.toml``).

Every key is checked: an unknown key, a wrong type, a bad URL or a missing file raises
:class:`ConfigError` whose message names the file and line, so an operator never has to read a
traceback to fix a typo. Relative paths are resolved against the config file's folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

SOURCE_KINDS = ("feed", "sitemap", "urls", "local", "warc")


class ConfigError(ValueError):
    """A configuration problem, worded for the person who edits the file.

    ``key`` names the offending key when the check ran without the file at hand, so the loader
    can add the line it was written on."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    url: str | None = None  # feed or sitemap location: http(s) URL, file: URL or a path
    path: str | None = None  # urls: a text file of URLs; local: a folder of pages; warc: a file or folder
    mirror: dict[str, str] = field(default_factory=dict)  # URL prefix -> local folder
    max_items: int | None = None  # at most this many candidates from this source per night
    delay_seconds: float | None = None  # politeness delay for this source's hosts (default: [fetch])


@dataclass(frozen=True)
class FetchConfig:
    """The one HTTP client of a run (see :mod:`cleaning.httpclient`) and the incremental state."""

    user_agent: str = "newsclean/0.1 (+https://example.org/newsclean; ops@example.org)"
    timeout_seconds: float = 20.0  # read timeout: longest silence while waiting for bytes
    connect_timeout_seconds: float = 10.0
    total_timeout_seconds: float = 60.0  # one request, headers and body, however slowly they drip
    max_bytes: int = 10_000_000  # body as sent on the wire
    max_decompressed_bytes: int = 0  # body after gzip/deflate; 0 means the same as max_bytes
    max_redirects: int = 5
    delay_seconds: float = 1.0  # per host, between the starts of two requests
    per_host_concurrency: int = 1  # requests in flight to one host at once
    max_workers: int = 32  # threads of one fetch task (hosts fetched side by side)
    retries: int = 3  # extra attempts after a timeout, connection error, 408, 429 or 5xx
    backoff_seconds: float = 1.0  # first retry waits about this long, doubling each time (jittered)
    backoff_max_seconds: float = 60.0
    max_retry_after_seconds: float = 300.0  # a longer Retry-After gives up on the URL for tonight
    obey_robots: bool = True
    max_crawl_delay_seconds: float = 60.0  # a host asking for more is skipped tonight, with a reason
    max_sitemaps: int = 50  # child sitemaps read per sitemap source and night
    skip_seen: bool = True  # URLs fetched over the network on an earlier night are not fetched again
    seen_days: int = 90  # how far back "already fetched" looks
    write_warc: bool = True  # also keep each shard's raw captures as raw/run_date=D/shard-N.warc.gz
    allow_networks: tuple[str, ...] = ()  # private/loopback ranges explicitly allowed

    def __post_init__(self):
        at_least = {
            "timeout_seconds": 0.001, "connect_timeout_seconds": 0.001, "total_timeout_seconds": 0.001,
            "max_bytes": 1, "max_decompressed_bytes": 0, "max_redirects": 0, "delay_seconds": 0,
            "per_host_concurrency": 1, "max_workers": 1, "retries": 0, "backoff_seconds": 0,
            "backoff_max_seconds": 0, "max_retry_after_seconds": 0, "max_crawl_delay_seconds": 0,
            "max_sitemaps": 0, "seen_days": 1,
        }
        for name, low in at_least.items():
            if getattr(self, name) < low:
                raise ConfigError(f"[fetch] {name!r} must be at least {low}, got {getattr(self, name)!r}", name)


@dataclass(frozen=True)
class CleanConfig:
    min_words: int = 20  # shorter bodies are rejected; the shortest wire briefs run 20-30 words
    repeat_min_words: int = 8  # shortest block that counts as a repeat inside one page
    furniture_min_pages: int = 5  # a site needs this many pages before lines are learned
    furniture_min_share: float = 0.4  # share of a site's pages a line must recur in
    page_timeout_seconds: float = 30.0
    max_page_bytes: int = 5_000_000  # bigger pages are rejected before parsing


@dataclass(frozen=True)
class DedupConfig:
    # Defaults chosen on the syndication simulator (bench/RESULTS.md, "Duplicate detection"):
    # 4-word shingles survive the one-to-three word edits per paragraph that copy desks make.
    shingle_words: int = 4
    num_perm: int = 128
    lsh_threshold: float = 0.5  # LSH tuned to find candidates at or above this Jaccard
    lead_words: int = 100  # a second signature over the lead finds abridged copies; 0: off
    jaccard_threshold: float = 0.6
    containment_threshold: float = 0.7
    containment_min_shingles: int = 40  # shorter bodies are judged by Jaccard alone
    min_shingles: int = 3  # fewer than this: exact matching only
    history_days: int = 30


@dataclass(frozen=True)
class Config:
    path: Path
    lake: str
    timezone: str = "UTC"
    shards: int = 4
    max_failure_share: float = 0.5
    sources: tuple[Source, ...] = ()
    fetch: FetchConfig = field(default_factory=FetchConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError(f"{self.path}: no source named {name!r}")

    def digest(self) -> str:
        """A short hash of the effective settings, recorded in each run's manifest."""
        data = asdict(self)
        data.pop("path")
        data.pop("lake")  # where results go is not how they are made: same hash on S3 and disk
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


_SECTIONS = {
    "pipeline": {"lake": str, "timezone": str, "shards": int, "max_failure_share": float},
    "fetch": {
        "user_agent": str,
        "timeout_seconds": float,
        "connect_timeout_seconds": float,
        "total_timeout_seconds": float,
        "max_bytes": int,
        "max_decompressed_bytes": int,
        "max_redirects": int,
        "delay_seconds": float,
        "per_host_concurrency": int,
        "max_workers": int,
        "retries": int,
        "backoff_seconds": float,
        "backoff_max_seconds": float,
        "max_retry_after_seconds": float,
        "obey_robots": bool,
        "max_crawl_delay_seconds": float,
        "max_sitemaps": int,
        "skip_seen": bool,
        "seen_days": int,
        "write_warc": bool,
        "allow_networks": list,
    },
    "clean": {
        "min_words": int,
        "repeat_min_words": int,
        "furniture_min_pages": int,
        "furniture_min_share": float,
        "page_timeout_seconds": float,
        "max_page_bytes": int,
    },
    "dedup": {
        "shingle_words": int,
        "num_perm": int,
        "lsh_threshold": float,
        "lead_words": int,
        "jaccard_threshold": float,
        "containment_threshold": float,
        "containment_min_shingles": int,
        "min_shingles": int,
        "history_days": int,
    },
}
_SOURCE_KEYS = {
    "name": str,
    "kind": str,
    "url": str,
    "path": str,
    "mirror": dict,
    "max_items": int,
    "delay_seconds": float,
}


class _Locator:
    """Finds the line a key was written on, since tomllib does not report positions."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = text.splitlines()

    def _section_span(self, header: str, index: int = 0) -> tuple[int, int]:
        pattern = re.compile(r"^\s*\[\[?\s*" + re.escape(header) + r"\s*\]\]?\s*(#.*)?$")
        starts = [i for i, line in enumerate(self.lines) if pattern.match(line)]
        if index >= len(starts):
            return (0, len(self.lines))
        start = starts[index]
        end = next(
            (i for i in range(start + 1, len(self.lines)) if self.lines[i].lstrip().startswith("[")),
            len(self.lines),
        )
        return (start, end)

    def line_of(self, key: str, header: str | None = None, index: int = 0) -> int | None:
        start, end = self._section_span(header, index) if header else (0, len(self.lines))
        pattern = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i + 1
        return start + 1 if header else None

    def error(self, message: str, key: str | None = None, header: str | None = None, index: int = 0):
        line = self.line_of(key, header, index) if key else (self._section_span(header, index)[0] + 1 if header else None)
        where = f"{self.path}:{line}" if line else str(self.path)
        return ConfigError(f"{where}: {message}")


def _check_type(value, expected, loc: _Locator, key: str, header: str, index: int = 0):
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, bool) or not isinstance(value, expected):
        raise loc.error(
            f"{key!r} must be {expected.__name__}, got {type(value).__name__} {value!r}",
            key,
            header,
            index,
        )
    return value


def _check_url(url: str, loc: _Locator, key: str, header: str, index: int) -> None:
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        if not parsed.hostname:
            raise loc.error(f"{key!r} is not a valid URL (no host): {url!r}", key, header, index)
        return
    if parsed.scheme in ("", "file"):
        return
    raise loc.error(f"{key!r} has unsupported scheme {parsed.scheme!r}: {url!r} (use http, https, file or a path)", key, header, index)


def _resolve(base: Path, value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def _local_path_of(url: str, base: Path) -> str | None:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return _resolve(base, parsed.path if parsed.netloc in ("", "localhost") else url)
    if parsed.scheme == "":
        return _resolve(base, url)
    return None


def _build(cls, values: dict, loc: "_Locator", section: str):
    """Construct a settings dataclass; its own checks' errors get the file and line."""
    try:
        return cls(**values)
    except ConfigError as exc:
        if exc.key is None:
            raise
        raise loc.error(str(exc).removeprefix(f"[{section}] "), exc.key, section) from None


def load_config(path: str | Path, lake: str | None = None) -> Config:
    """Read and validate a config file. ``lake`` overrides ``[pipeline] lake``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    loc = _Locator(path, text)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    base = path.resolve().parent

    allowed = set(_SECTIONS) | {"sources"}
    for key, value in raw.items():
        if key not in allowed:
            if isinstance(value, dict):
                raise loc.error(f"unknown section [{key}]; expected one of {sorted(allowed)}", None, key)
            raise loc.error(f"unknown top-level key {key!r}; expected one of {sorted(allowed)}", key)

    sections: dict[str, dict] = {}
    for name, schema in _SECTIONS.items():
        values = raw.get(name, {})
        if not isinstance(values, dict):
            raise loc.error(f"[{name}] must be a table", name)
        checked = {}
        for key, value in values.items():
            if key not in schema:
                raise loc.error(
                    f"unknown key {key!r} in [{name}]; expected one of {sorted(schema)}", key, name
                )
            checked[key] = _check_type(value, schema[key], loc, key, name)
        sections[name] = checked

    pipeline = sections["pipeline"]
    if "lake" in pipeline and "://" not in pipeline["lake"]:
        pipeline["lake"] = _resolve(base, pipeline["lake"])
    lake_root = lake or pipeline.pop("lake", None) or _resolve(base, "lake")
    pipeline.pop("lake", None)
    if pipeline.get("shards", 1) < 1:
        raise loc.error("'shards' must be at least 1", "shards", "pipeline")
    share = pipeline.get("max_failure_share", 0.5)
    if not 0 <= share <= 1:
        raise loc.error("'max_failure_share' must be between 0 and 1", "max_failure_share", "pipeline")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(pipeline.get("timezone", "UTC"))
    except Exception:
        raise loc.error(f"unknown timezone {pipeline.get('timezone')!r}", "timezone", "pipeline") from None

    for name in ("jaccard_threshold", "containment_threshold", "lsh_threshold"):
        value = sections["dedup"].get(name)
        if value is not None and not 0 < value <= 1:
            raise loc.error(f"{name!r} must be in (0, 1]", name, "dedup")
    fetch = sections["fetch"]
    if "allow_networks" in fetch:
        import ipaddress

        nets = []
        for item in fetch["allow_networks"]:
            try:
                nets.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise loc.error(f"'allow_networks' entry {item!r} is not a network", "allow_networks", "fetch") from None
        fetch["allow_networks"] = tuple(nets)

    raw_sources = raw.get("sources", [])
    if not isinstance(raw_sources, list):
        raise loc.error("'sources' must be an array of tables: use [[sources]]", "sources")
    sources = []
    seen_names = set()
    for index, item in enumerate(raw_sources):
        header = "sources"
        for key in item:
            if key not in _SOURCE_KEYS:
                raise loc.error(
                    f"unknown key {key!r} in source #{index + 1}; expected one of {sorted(_SOURCE_KEYS)}",
                    key,
                    header,
                    index,
                )
        values = {key: _check_type(v, _SOURCE_KEYS[key], loc, key, header, index) for key, v in item.items()}
        for required in ("name", "kind"):
            if required not in values:
                raise loc.error(f"source #{index + 1} has no {required!r}", None, header, index)
        if values["name"] in seen_names:
            raise loc.error(f"source name {values['name']!r} is used twice", "name", header, index)
        seen_names.add(values["name"])
        kind = values["kind"]
        if kind not in SOURCE_KINDS:
            raise loc.error(f"unknown kind {kind!r}; expected one of {list(SOURCE_KINDS)}", "kind", header, index)
        if kind in ("feed", "sitemap"):
            if "url" not in values:
                raise loc.error(f"{kind} source {values['name']!r} needs 'url'", None, header, index)
            _check_url(values["url"], loc, "url", header, index)
            local = _local_path_of(values["url"], base)
            if local is not None:
                if not Path(local).is_file():
                    raise loc.error(f"{kind} file not found: {local}", "url", header, index)
                values["url"] = local
        else:
            if "path" not in values:
                raise loc.error(f"{kind} source {values['name']!r} needs 'path'", None, header, index)
            values["path"] = _resolve(base, values["path"])
            found = Path(values["path"])
            exists = {"local": found.is_dir(), "urls": found.is_file(), "warc": found.exists()}[kind]
            if not exists:
                raise loc.error(f"{kind} source path not found: {values['path']}", "path", header, index)
        if values.get("delay_seconds") is not None and values["delay_seconds"] < 0:
            raise loc.error("'delay_seconds' must not be negative", "delay_seconds", header, index)
        mirror = {}
        for prefix, folder in values.get("mirror", {}).items():
            _check_url(prefix, loc, "mirror", header, index)
            resolved = _resolve(base, folder)
            if not Path(resolved).is_dir():
                raise loc.error(f"mirror folder not found: {resolved}", "mirror", header, index)
            mirror[prefix] = resolved
        values["mirror"] = mirror
        if values.get("max_items") is not None and values["max_items"] < 1:
            raise loc.error("'max_items' must be at least 1", "max_items", header, index)
        sources.append(Source(**values))

    return Config(
        path=path.resolve(),
        lake=lake_root,
        sources=tuple(sources),
        fetch=_build(FetchConfig, fetch, loc, "fetch"),
        clean=CleanConfig(**sections["clean"]),
        dedup=DedupConfig(**sections["dedup"]),
        **pipeline,
    )
