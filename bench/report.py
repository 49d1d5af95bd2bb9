"""What every benchmark writes beside its numbers: the command that reproduces them, the date and
the machine, then the whole report as JSON."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import date
from pathlib import Path


def provenance(script: str, argv: list[str] | None) -> dict:
    args = argv if argv is not None else sys.argv[1:]
    return {
        "command": " ".join(["python", f"bench/{script}", *args]),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def write_report(path: str | Path, report: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
