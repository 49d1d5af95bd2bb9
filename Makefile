# `make run` and `make test` bootstrap everything on a machine that has only Python 3.11.
SHELL := /bin/bash
PYTHON ?= python3
export UV_COMPILE_BYTECODE := 1
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN := sqlite:///$(CURDIR)/.airflow/airflow.db
export AIRFLOW__CORE__PARALLELISM := 4
export NEWSCLEAN_CONFIG := $(CURDIR)/data/sources.toml
RUN_DATE ?= 2025-08-28

.PHONY: setup run test clean-lake

.venv/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@if command -v uv >/dev/null 2>&1; then uv sync --frozen --compile-bytecode; else $(PYTHON) -m uv sync --frozen --compile-bytecode; fi
	@touch $@

.airflow/airflow.db: .venv/.synced
	@mkdir -p .airflow
	@.venv/bin/airflow db migrate > .airflow/migrate.log 2>&1 || (cat .airflow/migrate.log; exit 1)

setup: .venv/.synced .airflow/airflow.db

# The nightly DAG, run by Airflow (dags test) on the bundled sample corpus, for $(RUN_DATE).
run: setup
	@rm -rf data/lake/_work
	.venv/bin/airflow dags test news_nightly -c '{"run_date": "$(RUN_DATE)"}' > .airflow/last-run.log 2>&1 || (tail -50 .airflow/last-run.log; exit 1)
	@grep -q "DagRun Finished.*state=success" .airflow/last-run.log || (echo "DAG run did not succeed; see .airflow/last-run.log"; exit 1)
	.venv/bin/cleaning report $(RUN_DATE)

test: setup
	.venv/bin/python -m pytest -q

clean-lake:
	rm -rf data/lake
