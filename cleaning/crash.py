"""A test hook for fault injection: the process SIGKILLs itself right after a named step.

Set ``NEWSCLEAN_TEST_CRASH_AFTER`` to a step name: a pipeline stage (``discover``, ``fetch``,
``clean``, ``furniture``, ``sign``, ``dedup``: after its first shard's work files and counts are
written) or a publish step (``staged``, a table name, ``history``, ``state``, ``manifest``). The
fault tests use it to show that a crash at any boundary loses no story. Unset, it costs one
environment lookup per step.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "NEWSCLEAN_TEST_CRASH_AFTER"


def crash_point(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
