"""Per-host politeness: how often, and how many at once, we may knock on one host's door.

One :class:`HostGate` is shared by every thread of a fetch task, so the rules hold however the
work is spread: two requests to the same host start at least ``delay`` seconds apart (measured
start to start, so a slow answer does not add to the wait), at most ``concurrency`` are in flight
at once, and a host that asked us to back off (Retry-After, 5xx) is left alone until the time it
named, by every thread and not only the one that was told.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class _Host:
    next_start: float = 0.0  # monotonic time before which no new request may start
    in_flight: int = 0


class HostGate:
    def __init__(self, concurrency: int = 1, clock=time.monotonic):
        self.concurrency = max(1, concurrency)
        self._clock = clock
        self._cond = threading.Condition()
        self._hosts: dict[str, _Host] = {}

    @contextmanager
    def slot(self, host: str, delay: float):
        """Wait for the host's turn, hold it for one request, then let the next one in."""
        with self._cond:
            state = self._hosts.setdefault(host, _Host())
            while True:
                now = self._clock()
                if state.in_flight < self.concurrency and now >= state.next_start:
                    break
                timeout = state.next_start - now if state.in_flight < self.concurrency else None
                self._cond.wait(timeout)
            state.in_flight += 1
            state.next_start = now + max(0.0, delay)
        try:
            yield
        finally:
            with self._cond:
                state.in_flight -= 1
                self._cond.notify_all()

    def defer(self, host: str, seconds: float) -> None:
        """Keep every request to ``host`` waiting at least ``seconds`` from now."""
        with self._cond:
            state = self._hosts.setdefault(host, _Host())
            state.next_start = max(state.next_start, self._clock() + max(0.0, seconds))
            self._cond.notify_all()
