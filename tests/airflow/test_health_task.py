"""The DAG's health task on a night with flags: it logs them, runs the alert hooks, and ends
skipped with the flags as its message, or fails with `[health] fail_on_flags = true`; on a
healthy night it succeeds. The task's function is called directly on a copy of the ten-night
lake of the `health_nights` fixture (no DAG run needed for the states it chooses)."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

from tests.support import ROOT


@pytest.fixture
def task_env(health_nights, tmp_path, monkeypatch):
    config, lake, _ = health_nights
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    monkeypatch.setenv("NEWSCLEAN_LAKE", str(copy))

    def use(**health):
        text = config.read_text(encoding="utf-8")
        extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in health.items())
        path = tmp_path / "config.toml"
        path.write_text(text.replace("[health]\n", "[health]\n" + extra), encoding="utf-8")
        monkeypatch.setenv("NEWSCLEAN_CONFIG", str(path))

    spec = importlib.util.spec_from_file_location("news_nightly_for_health", ROOT / "dags" / "news_nightly.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.health.function, use


def plan(night: str) -> dict:
    return {"run_date": night, "sources": [], "reprocess": False, "dry_run": False}


def test_flags_skip_the_task_and_call_the_hooks(task_env, tmp_path):
    from airflow.sdk.exceptions import AirflowSkipException

    health, use = task_env
    received = tmp_path / "alert.json"
    use(alert_command=f"cat > {received}")
    with pytest.raises(AirflowSkipException) as raised:
        health(plan("2025-09-08"), {})
    message = str(raised.value)
    assert message.startswith("source health 2025-09-08: 3 flag(s)")
    assert "valley-wire-daily: new_failure_reason: fetch:http_403" in message
    assert "report: " in message and message.rstrip().endswith("index.html")
    payload = json.loads(received.read_text())
    assert payload["run_date"] == "2025-09-08"
    assert {f["flag"] for f in payload["flags"]} == {"no_items", "failure_spike", "new_failure_reason"}


def test_fail_on_flags_fails_the_task(task_env):
    from airflow.sdk.exceptions import AirflowFailException

    health, use = task_env
    use(fail_on_flags=True)
    with pytest.raises(AirflowFailException, match="wire_agency_gone"):
        health(plan("2025-09-09"), {})


def test_a_healthy_night_succeeds(task_env):
    health, use = task_env
    use(fail_on_flags=True, alert_command="exit 1")
    result = health(plan("2025-09-10"), {})
    assert result["flags"] == [] and result["report"].endswith("run_date=2025-09-10/index.html")
