"""The host name a task reports to Airflow: ``NEWSCLEAN_WORKER_NAME`` when set, else the machine's.

`ops/distributed/run.py` starts two Celery workers on one machine; each gets its own name and
``AIRFLOW__CORE__HOSTNAME_CALLABLE=newsclean_worker.hostname`` (this folder on ``PYTHONPATH``), so
the ``hostname`` of every task instance says which worker ran it. On real machines leave
``hostname_callable`` at Airflow's default.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("NEWSCLEAN_WORKER_NAME") or socket.getfqdn()
