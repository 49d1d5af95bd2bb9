"""What the tests share: paths of the bundled data, a config writer, and a scriptable HTTP server
on loopback with a fake DNS.

Every made-up host name (``*.example``, ``*.test``) is resolved to 127.0.0.1 by :func:`fake_dns`,
so nothing here can reach beyond loopback. Fixtures that pytest injects are in ``conftest.py``.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cleaning.config import FetchConfig
from cleaning.fetch import Fetcher

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
SEED_TEXT = ROOT / "tests" / "fixtures" / "seed.txt"


def _toml_value(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def write_config(path: Path, pipeline=None, fetch=None, clean=None, dedup=None, sources=None) -> Path:
    """Write a copy of data/sources.toml to ``path`` with every sample path made absolute, so it
    works from anywhere. Each section argument is a dict of keys to change; ``sources`` maps a
    source name to the keys to change in it (``None``: drop the source)."""
    import tomllib

    base = ROOT / "data"
    data = tomllib.loads((base / "sources.toml").read_text(encoding="utf-8"))
    for name, changes in (("pipeline", pipeline), ("fetch", fetch), ("clean", clean), ("dedup", dedup)):
        data.setdefault(name, {}).update(changes or {})
    data["pipeline"].pop("lake", None)  # tests give the lake with NEWSCLEAN_LAKE or lake=
    out_sources = []
    for source in data.get("sources", []):
        if "://" not in source.get("url", "://"):
            source["url"] = str((base / source["url"]).resolve())
        if "path" in source:
            source["path"] = str((base / source["path"]).resolve())
        source["mirror"] = {
            prefix: str((base / folder).resolve()) for prefix, folder in source.get("mirror", {}).items()
        }
        if sources and source["name"] in sources:
            if sources[source["name"]] is None:
                continue
            source.update(sources[source["name"]])
        out_sources.append(source)
    lines = []
    for name in ("pipeline", "fetch", "clean", "dedup"):
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in data[name].items()]
        lines.append("")
    for source in out_sources:
        lines.append("[[sources]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in source.items()]
        lines.append("")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@dataclass
class Hit:
    at: float  # time.monotonic() when the request arrived
    host: str  # Host header without the port
    path: str
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    drip: float | None = None  # seconds between body bytes: a slow server
    delay: float = 0.0  # seconds before the status line: a slow server
    length: bool = True  # send Content-Length


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        with server.lock:
            server.hits.append(Hit(time.monotonic(), host, self.path, {k.lower(): v for k, v in self.headers.items()}))
        path = self.path.split("?", 1)[0]  # like most servers, ignore a query the route does not name
        route = (
            server.routes.get((host, self.path))
            or server.routes.get(self.path)
            or server.routes.get((host, path))
            or server.routes.get(path)
        )
        if route is None:
            reply = Reply(404, b"no such page")
        else:
            reply = route(self) if callable(route) else route
        try:
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.length:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.drip is None:
                self.wfile.write(reply.body)
            else:
                for i in range(len(reply.body)):
                    self.wfile.write(reply.body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(reply.drip)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the default backlog of 5 drops connections under parallel fetches


class Site:
    """A loopback server whose answers are set per path (or per (host, path)) by the test."""

    def __init__(self):
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.routes = {}
        self.httpd.hits = []
        self.httpd.lock = threading.Lock()
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def routes(self) -> dict:
        return self.httpd.routes

    @property
    def hits(self) -> list[Hit]:
        with self.httpd.lock:
            return list(self.httpd.hits)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self, host: str | None = None) -> list[str]:
        return [h.path for h in self.hits if host is None or h.host == host]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def fake_dns(mapping: dict[str, str] | None = None, default: str | None = "127.0.0.1"):
    """A ``getaddrinfo`` stand-in: names in ``mapping`` (else any name, to ``default``); IP literals as given."""
    mapping = mapping or {}
    asked: list[str] = []

    def resolve(host, port, *args, **kwargs):
        asked.append(host)
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
            ip = host
        except OSError:
            ip = mapping.get(host, default)
        if ip is None:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not known")
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (ip, port))]

    resolve.asked = asked
    return resolve


def loopback_settings(**overrides) -> FetchConfig:
    """Fast, loopback-only settings for tests: no delay, tiny backoff, loopback allowed."""
    values = dict(
        allow_networks=("127.0.0.0/8",),
        delay_seconds=0.0,
        timeout_seconds=2.0,
        connect_timeout_seconds=2.0,
        total_timeout_seconds=5.0,
        retries=2,
        backoff_seconds=0.01,
        backoff_max_seconds=0.05,
        max_bytes=200_000,
    )
    values.update(overrides)
    return FetchConfig(**values)


def loopback_fetcher(mirrors=None, dns=None, **overrides) -> Fetcher:
    return Fetcher(loopback_settings(**overrides), mirrors or {}, dns or fake_dns())


def page(title: str, words: int = 60, charset: str | None = "utf-8") -> bytes:
    meta = f"<meta charset='{charset}'>" if charset else ""
    text = " ".join(f"{title.lower()}-word{i}" for i in range(words))
    return f"<html><head>{meta}<title>{title}</title></head><body><article><h1>{title}</h1><p>{text}</p></article></body></html>".encode()


def code_blocks(text: str) -> list[tuple[str | None, str, str]]:
    """``(example name or None, language, code)`` of each fenced block, in order. A block is
    named by an ``<!-- example: NAME -->`` line right before its opening fence."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            lang = lines[i][3:].strip()
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            previous = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
            named = re.fullmatch(r"<!-- example: ([\w-]+) -->", previous.strip())
            blocks.append((named.group(1) if named else None, lang, "\n".join(lines[i + 1 : end])))
            i = end
        i += 1
    return blocks
