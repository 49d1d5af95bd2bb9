"""robots.txt as RFC 9309 reads it, plus Crawl-delay, fetched once per origin and run.

Why not :mod:`urllib.robotparser`: it applies the first matching rule rather than the longest, and
knows neither ``*`` nor ``$`` in paths, so ``Disallow: /`` followed by ``Allow: /news/`` (a common
pattern) would shut us out of a site that invites us in.

What the fetch of robots.txt means (RFC 9309 section 2.3.1):

* 2xx: the rules in the file apply (only its first 500 KiB are read);
* 4xx other than 429: no rules, everything may be fetched;
* 429, 5xx, a timeout or a refused connection: the site is "unreachable", so nothing may be
  fetched from it tonight; its URLs fail with ``robots_unavailable`` and come back next night.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Callable

MAX_ROBOTS_BYTES = 512 * 1024


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: ``newsclean/0.1 (...)`` -> ``newsclean``."""
    return re.split(r"[/\s]", user_agent.strip(), maxsplit=1)[0].lower()


def _compile(pattern: str) -> re.Pattern:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(regex + (r"\Z" if anchored else ""), re.DOTALL)


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[tuple[int, bool, re.Pattern]] = field(default_factory=list)  # (length, allow, pattern)
    crawl_delay: float | None = None


@dataclass
class Robots:
    groups: list[_Group] = field(default_factory=list)
    unreachable: bool = False

    @classmethod
    def parse(cls, text: str) -> "Robots":
        groups: list[_Group] = []
        current: _Group | None = None
        in_agents = False
        for raw_line in text.splitlines():
            line = raw_line.split("#", 1)[0].strip()
            if ":" not in line:
                continue
            key, value = (part.strip() for part in line.split(":", 1))
            key = key.lower()
            if key == "user-agent":
                if not in_agents:
                    current = _Group()
                    groups.append(current)
                    in_agents = True
                current.agents.append(agent_token(value) if value != "*" else "*")
                continue
            in_agents = False
            if current is None:
                continue  # rules before any user-agent line belong to nobody
            if key in ("allow", "disallow"):
                if not value:
                    continue  # "Disallow:" with nothing means no restriction
                current.rules.append((len(value), key == "allow", _compile(value)))
            elif key == "crawl-delay":
                try:
                    delay = float(value)
                except ValueError:
                    continue
                if delay >= 0:
                    current.crawl_delay = delay if current.crawl_delay is None else max(current.crawl_delay, delay)
        return cls(groups)

    @classmethod
    def from_fetch(cls, status: int | None, body: bytes) -> "Robots":
        """Rules from the outcome of fetching robots.txt (``status`` None: no answer at all)."""
        if status is not None and 200 <= status < 300:
            return cls.parse(body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace"))
        if status is not None and 400 <= status < 500 and status != 429:
            return cls()
        return cls(unreachable=True)

    def _groups_for(self, token: str) -> list[_Group]:
        exact = [g for g in self.groups if token in g.agents]
        return exact or [g for g in self.groups if "*" in g.agents]

    def allows(self, token: str, path: str) -> bool:
        """Longest matching rule wins; on a tie, Allow wins; no match allows."""
        if self.unreachable:
            return False
        if path == "/robots.txt":
            return True
        best: tuple[int, bool] | None = None
        for group in self._groups_for(token):
            for length, allow, pattern in group.rules:
                if pattern.match(path) and (best is None or (length, allow) > best):
                    best = (length, allow)
        return best is None or best[1]

    def crawl_delay(self, token: str) -> float | None:
        delays = [g.crawl_delay for g in self._groups_for(token) if g.crawl_delay is not None]
        return max(delays) if delays else None


class RobotsCache:
    """One :class:`Robots` per origin for the run; concurrent askers wait for a single fetch.

    ``fetch(url)`` returns ``(status, body)``, with status None when no answer came.
    """

    def __init__(self, fetch: Callable[[str], tuple[int | None, bytes]]):
        self._fetch = fetch
        self._lock = threading.Lock()
        self._rules: dict[str, Robots] = {}
        self._loading: dict[str, threading.Lock] = {}

    def rules_for(self, origin: str) -> Robots:
        with self._lock:
            if origin in self._rules:
                return self._rules[origin]
            loading = self._loading.setdefault(origin, threading.Lock())
        with loading:
            with self._lock:
                if origin in self._rules:
                    return self._rules[origin]
            status, body = self._fetch(origin + "/robots.txt")
            robots = Robots.from_fetch(status, body)
            with self._lock:
                self._rules[origin] = robots
            return robots
