"""Pipeline configuration, loaded from a TOML file (by default ``data/sources.toml``).

Every key is checked before any stage runs: an unknown key, a wrong type, a number out of range
(NaN and infinities included), a bad URL or network, or a missing file raises
:class:`ConfigError` whose message names the file and line, so an operator never has to read a
traceback to fix a typo. Relative paths are resolved against the config file's folder.

The keys of each section and their types are the fields of the settings classes below, read
from their annotations; each class checks its own ranges when it is built, so settings made in
Python are held to the same rules as a file.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import re
import tomllib
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from urllib.parse import urlparse

SOURCE_KINDS = ("feed", "sitemap", "urls", "local", "warc")

DAY_SECONDS = 86_400  # the longest any wait may be: a nightly run cannot use a longer one
MAX_BYTES = 2**40  # byte limits above 1 TiB are typos (and overflow the decompressor's counters)
MAX_DAYS = 36_500  # day counts beyond a century overflow date arithmetic

# Where an ``allow_networks`` entry must lie: ranges that hold no public address (RFC 1918
# private, RFC 6890 special-purpose, loopback, link-local, shared, documentation, benchmarking,
# multicast and reserved; IPv6 loopback, unspecified, discard, documentation, unique-local,
# link-local and multicast). Public addresses need no entry, so an entry reaching outside these
# is a mistake such as "0.0.0.0/0", which would switch the address guard off; it is refused
# unless ``allow_networks_include_public = true`` says it is meant.
NON_PUBLIC_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/29",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "100::/64",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)


class ConfigError(ValueError):
    """A configuration problem, worded for the person who edits the file.

    ``key`` names the offending key when the check ran without the file at hand, so the loader
    can add the line it was written on."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


# ---------------------------------------------------------------- checks the settings classes share
def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_ranges(settings, section: str, limits: dict) -> None:
    """``limits`` maps a field to ``(low, high)``; ``low`` may be ``("above", x)`` for an open
    bound and ``high`` None for none. Every number must also be finite."""
    for name, (low, high) in limits.items():
        value = getattr(settings, name)
        if value is None:
            continue
        if not _is_number(value):
            kind = "int" if isinstance(low, int) and not isinstance(low, bool) else "float"
            raise ConfigError(f"[{section}] {name!r} must be {kind}, got {type(value).__name__} {value!r}", name)
        if not math.isfinite(value):
            raise ConfigError(f"[{section}] {name!r} must be a finite number, got {value!r}", name)
        if isinstance(low, tuple):
            if value <= low[1]:
                raise ConfigError(f"[{section}] {name!r} must be more than {low[1]}, got {value!r}", name)
        elif value < low:
            raise ConfigError(f"[{section}] {name!r} must be at least {low}, got {value!r}", name)
        if high is not None and value > high:
            raise ConfigError(f"[{section}] {name!r} must be at most {high}, got {value!r}", name)


def _one_line(settings, section: str, name: str) -> None:
    value = getattr(settings, name)
    if not isinstance(value, str) or not value.isprintable():
        raise ConfigError(f"[{section}] {name!r} must be one line of printable text, got {value!r}", name)


def check_allow_networks(entries, include_public: bool = False) -> tuple[str, ...]:
    """``allow_networks`` entries in canonical form; raises :class:`ConfigError` (key
    ``allow_networks``) for anything but strings naming networks, and for a network that
    reaches outside :data:`NON_PUBLIC_NETWORKS` unless ``include_public``."""
    nets = []
    for number, item in enumerate(entries, 1):
        if not isinstance(item, str):  # ip_network(1) would read it as 0.0.0.1/32
            raise ConfigError(
                f"[fetch] 'allow_networks' item {number} must be str, got {type(item).__name__} {item!r}",
                "allow_networks",
            )
        try:
            net = ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            raise ConfigError(f"[fetch] 'allow_networks' entry {item!r} is not a network", "allow_networks") from None
        if not include_public and not any(
            net.version == block.version and net.subnet_of(block) for block in NON_PUBLIC_NETWORKS
        ):
            raise ConfigError(
                f"[fetch] 'allow_networks' entry {item!r} covers public addresses; the list is for opening "
                "private, loopback or link-local ranges (public addresses need no entry). Set "
                "allow_networks_include_public = true if it is meant",
                "allow_networks",
            )
        nets.append(str(net))
    return tuple(nets)


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
    """The one HTTP client of a run (see :mod:`cleaning.fetch.httpclient`) and the incremental state."""

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
    allow_networks_include_public: bool = False  # let allow_networks reach public space ("0.0.0.0/0")

    LIMITS: typing.ClassVar[dict] = {
        "timeout_seconds": (0.001, DAY_SECONDS),
        "connect_timeout_seconds": (0.001, DAY_SECONDS),
        "total_timeout_seconds": (0.001, DAY_SECONDS),
        "max_bytes": (1, MAX_BYTES),
        "max_decompressed_bytes": (0, MAX_BYTES),
        "max_redirects": (0, 100),
        "delay_seconds": (0, DAY_SECONDS),
        "per_host_concurrency": (1, 10_000),
        "max_workers": (1, 10_000),
        "retries": (0, 100),  # the backoff doubles per attempt: 2**1024 overflows a float
        "backoff_seconds": (0, DAY_SECONDS),
        "backoff_max_seconds": (0, DAY_SECONDS),
        "max_retry_after_seconds": (0, DAY_SECONDS),
        "max_crawl_delay_seconds": (0, DAY_SECONDS),
        "max_sitemaps": (0, 1_000_000),
        "seen_days": (1, MAX_DAYS),
    }

    def __post_init__(self):
        _check_ranges(self, "fetch", self.LIMITS)
        _one_line(self, "fetch", "user_agent")
        for name in ("obey_robots", "skip_seen", "write_warc", "allow_networks_include_public"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"[fetch] {name!r} must be bool, got {getattr(self, name)!r}", name)
        if isinstance(self.allow_networks, (str, bytes)) or not isinstance(self.allow_networks, (tuple, list)):
            raise ConfigError(
                f"[fetch] 'allow_networks' must be a list of str, got {self.allow_networks!r}", "allow_networks"
            )
        object.__setattr__(
            self, "allow_networks", check_allow_networks(self.allow_networks, self.allow_networks_include_public)
        )


@dataclass(frozen=True)
class CleanConfig:
    min_words: int = 20  # shorter bodies are rejected; the shortest wire briefs run 20-30 words
    repeat_min_words: int = 8  # shortest block that counts as a repeat inside one page
    furniture_min_pages: int = 5  # a site needs this many pages before lines are learned
    furniture_min_share: float = 0.4  # share of a site's pages a line must recur in
    page_timeout_seconds: float = 30.0  # 0: no limit
    max_page_bytes: int = 5_000_000  # bigger pages are rejected before parsing

    LIMITS: typing.ClassVar[dict] = {
        "min_words": (0, None),
        "repeat_min_words": (1, None),
        "furniture_min_pages": (0, None),
        "furniture_min_share": (0, 1),
        "page_timeout_seconds": (0, DAY_SECONDS),
        "max_page_bytes": (1, MAX_BYTES),
    }

    def __post_init__(self):
        _check_ranges(self, "clean", self.LIMITS)


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
    # How the dedup stages split the night's work (the decisions do not depend on it): key ranges
    # (a power of two), one bucket task and one verify task each. Raise it as nights grow, so that
    # each task's memory stays put (docs/operations.md, "Scaling out").
    key_ranges: int = 4
    max_bucket: int = 10_000  # a key shared by more stories than this pairs only the first ones

    LIMITS: typing.ClassVar[dict] = {
        "key_ranges": (1, 1 << 16),
        "max_bucket": (2, None),
        "shingle_words": (1, 1_000),
        "num_perm": (1, 4_096),
        "lsh_threshold": (("above", 0), 1),
        "lead_words": (0, None),
        "jaccard_threshold": (("above", 0), 1),
        "containment_threshold": (("above", 0), 1),
        "containment_min_shingles": (0, None),
        "min_shingles": (1, None),
        "history_days": (0, MAX_DAYS),
    }

    def __post_init__(self):
        _check_ranges(self, "dedup", self.LIMITS)
        if isinstance(self.key_ranges, int) and self.key_ranges & (self.key_ranges - 1):
            raise ConfigError(f"[dedup] 'key_ranges' must be a power of two, got {self.key_ranges}", "key_ranges")


@dataclass(frozen=True)
class HealthConfig:
    """Source health (:mod:`cleaning.health`): how far back a source's nights are compared, when a
    night is judged anomalous, and what happens then. Defaults chosen on simulated breakages
    (``bench/health_sim.py``, bench/RESULTS.md "Source health")."""

    history_nights: int = 14  # published nights before tonight that form a source's history
    min_history: int = 5  # a source is judged only with at least this many nights of history
    z_threshold: float = 4.0  # robust z (distance from the median in scaled MADs) a change must pass
    no_items_min_median: float = 2.0  # "no items" only for sources that usually clean at least this many
    yield_drop_min: float = 0.25  # the yield share must also fall at least this far below its median
    body_collapse_ratio: float = 0.5  # median body length at most this share of its usual median
    failure_spike_min: float = 0.2  # the failure share must also rise at least this far above its median
    new_reason_min_count: int = 3  # a failure reason never seen before counts from this many failures...
    new_reason_min_share: float = 0.1  # ...or from this share of the source's attempted URLs
    wire_regular_share: float = 0.8  # an agency seen on at least this share of the nights is expected nightly
    report_nights: int = 30  # nights shown in the HTML report's charts
    fail_on_flags: bool = False  # the DAG's health task fails (instead of ending skipped) when flags are raised
    alert_command: str = ""  # run with the flags as JSON on stdin when flags are raised; "" for none
    alert_callable: str = ""  # "module:function" called with (run_date, flags) when flags are raised

    LIMITS: typing.ClassVar[dict] = {
        "history_nights": (1, 366),
        "min_history": (1, 366),
        "z_threshold": (("above", 0), 1_000),
        "no_items_min_median": (0, None),
        "yield_drop_min": (0, 1),
        "body_collapse_ratio": (0, 1),
        "failure_spike_min": (0, 1),
        "new_reason_min_count": (1, None),
        "new_reason_min_share": (0, 1),
        "wire_regular_share": (("above", 0), 1),
        "report_nights": (1, 366),
    }

    def __post_init__(self):
        _check_ranges(self, "health", self.LIMITS)
        if self.min_history > self.history_nights:
            raise ConfigError(
                f"[health] 'min_history' ({self.min_history}) must be at most 'history_nights' ({self.history_nights})",
                "min_history",
            )
        if not isinstance(self.fail_on_flags, bool):
            raise ConfigError(f"[health] 'fail_on_flags' must be bool, got {self.fail_on_flags!r}", "fail_on_flags")
        _one_line(self, "health", "alert_command")
        _one_line(self, "health", "alert_callable")
        if self.alert_callable and not re.fullmatch(r"[\w.]+:[\w.]+", self.alert_callable):
            raise ConfigError(
                f"[health] 'alert_callable' must be 'module:function', got {self.alert_callable!r}", "alert_callable"
            )


@dataclass(frozen=True)
class Config:
    path: Path
    lake: str
    timezone: str = "UTC"
    shards: int = 4
    max_failure_share: float = 0.5
    lease_hours: float = 12.0  # a run's claim on its date lapses this long after it was taken
    sources: tuple[Source, ...] = ()
    fetch: FetchConfig = field(default_factory=FetchConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    health: HealthConfig = field(default_factory=HealthConfig)

    LIMITS: typing.ClassVar[dict] = {
        "shards": (1, 100_000),
        "max_failure_share": (0, 1),
        "lease_hours": (("above", 0), 8760),
    }

    def __post_init__(self):
        _check_ranges(self, "pipeline", self.LIMITS)

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
        data.pop("health")  # watching the results does not change them
        if not data["fetch"]["allow_networks_include_public"]:  # a later key: old digests stay valid
            del data["fetch"]["allow_networks_include_public"]
        del data["dedup"]["key_ranges"]  # the split of the work, not the results
        if data["dedup"]["max_bucket"] == DedupConfig.max_bucket:
            del data["dedup"]["max_bucket"]
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- the file's keys and their types
def _keys_of(cls, skip: tuple[str, ...] = ()) -> dict[str, object]:
    """A settings class's fields and their annotated types: the keys its section accepts."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls) if f.name not in skip}


_SECTIONS = {
    "pipeline": _keys_of(Config, skip=("path", "sources", "fetch", "clean", "dedup", "health")),
    "fetch": _keys_of(FetchConfig),
    "clean": _keys_of(CleanConfig),
    "dedup": _keys_of(DedupConfig),
    "health": _keys_of(HealthConfig),
}
_SOURCE_KEYS = _keys_of(Source)


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
        line = (
            self.line_of(key, header, index) if key else (self._section_span(header, index)[0] + 1 if header else None)
        )
        where = f"{self.path}:{line}" if line else str(self.path)
        return ConfigError(f"{where}: {message}")


class _Mismatch(Exception):
    """A value that does not fit its annotated type; the message ends the sentence "'key' ..."."""


def _type_name(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is tuple:
        return f"a list of {_type_name(args[0])}"
    if origin is dict:
        return f"a table of {_type_name(args[1])}"
    return hint.__name__


def _got(value) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, (list, dict)) else type(value).__name__


def _convert(value, hint):
    """``value`` as read from TOML, checked against ``hint`` strictly (a bool is no int, an int is
    a fine float, a float must be finite); lists become tuples. Raises :class:`_Mismatch`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):  # "X | None": TOML has no null, so X
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(value, inner)
    if origin is tuple:
        if not isinstance(value, list):
            raise _Mismatch(f"must be {_type_name(hint)}, got {_got(value)}")
        items = []
        for number, item in enumerate(value, 1):
            try:
                items.append(_convert(item, args[0]))
            except _Mismatch as exc:
                raise _Mismatch(f"item {number} {exc}") from None
        return tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise _Mismatch(f"must be {_type_name(hint)}, got {_got(value)}")
        converted = {}
        for key, item in value.items():
            try:
                converted[key] = _convert(item, args[1])
            except _Mismatch as exc:
                raise _Mismatch(f"value for {key!r} {exc}") from None
        return converted
    if hint is float:
        if not _is_number(value):
            raise _Mismatch(f"must be float, got {_got(value)}")
        if not math.isfinite(value):
            raise _Mismatch(f"must be a finite number, got {value!r}")
        return float(value)
    if hint is int and isinstance(value, bool) or not isinstance(value, hint):
        raise _Mismatch(f"must be {hint.__name__}, got {_got(value)}")
    return value


def _check_type(value, expected, loc: _Locator, key: str, header: str, index: int = 0):
    try:
        return _convert(value, expected)
    except _Mismatch as exc:
        raise loc.error(f"{key!r} {exc}", key, header, index) from None


def _check_url(url: str, loc: _Locator, key: str, header: str, index: int) -> None:
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        if not parsed.hostname:
            raise loc.error(f"{key!r} is not a valid URL (no host): {url!r}", key, header, index)
        return
    if parsed.scheme in ("", "file"):
        return
    raise loc.error(
        f"{key!r} has unsupported scheme {parsed.scheme!r}: {url!r} (use http, https, file or a path)",
        key,
        header,
        index,
    )


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


def _build(cls, values: dict, loc: "_Locator", section: str, **extra):
    """Construct a settings dataclass; its own checks' errors get the file and line."""
    try:
        return cls(**values, **extra)
    except ConfigError as exc:
        if exc.key is None:
            raise
        raise loc.error(str(exc).removeprefix(f"[{section}] "), exc.key, section) from None


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); TOML files must be "
            "saved as UTF-8"
        ) from None


def load_config(path: str | Path, lake: str | None = None) -> Config:
    """Read and validate a config file. ``lake`` overrides ``[pipeline] lake``."""
    path = Path(path)
    text = _read_text(path)
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
                raise loc.error(f"unknown key {key!r} in [{name}]; expected one of {sorted(schema)}", key, name)
            checked[key] = _check_type(value, schema[key], loc, key, name)
        sections[name] = checked

    pipeline = sections["pipeline"]
    if "lake" in pipeline and not pipeline["lake"].strip():
        raise loc.error("'lake' is empty: name a folder or an s3://bucket/prefix URI", "lake", "pipeline")
    if "lake" in pipeline and "://" not in pipeline["lake"]:
        pipeline["lake"] = _resolve(base, pipeline["lake"])
    lake_root = lake or pipeline.pop("lake", None) or _resolve(base, "lake")
    pipeline.pop("lake", None)
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(pipeline.get("timezone", "UTC"))
    except Exception:
        raise loc.error(f"unknown timezone {pipeline.get('timezone')!r}", "timezone", "pipeline") from None

    raw_sources = raw.get("sources", [])
    if not isinstance(raw_sources, list):
        raise loc.error("'sources' must be an array of tables: use [[sources]]", "sources")
    sources = []
    seen_names = set()
    for index, item in enumerate(raw_sources):
        header = "sources"
        if not isinstance(item, dict):
            raise loc.error(
                f"source #{index + 1} is {item!r}, not a table: write each source as [[sources]]", "sources"
            )
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
        delay = values.get("delay_seconds")
        if delay is not None and not 0 <= delay <= DAY_SECONDS:
            raise loc.error(
                f"'delay_seconds' must be between 0 and {DAY_SECONDS}, got {delay!r}", "delay_seconds", header, index
            )
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

    return _build(
        Config,
        pipeline,
        loc,
        "pipeline",
        path=path.resolve(),
        lake=lake_root,
        sources=tuple(sources),
        fetch=_build(FetchConfig, sections["fetch"], loc, "fetch"),
        clean=_build(CleanConfig, sections["clean"], loc, "clean"),
        dedup=_build(DedupConfig, sections["dedup"], loc, "dedup"),
        health=_build(HealthConfig, sections["health"], loc, "health"),
    )
