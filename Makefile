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
AIRFLOW_PORT ?= 8080
HTTP_POOL_SLOTS ?= 4

.PHONY: setup run test test-distributed airflow clean-lake

.venv/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@if command -v uv >/dev/null 2>&1; then uv sync --frozen --compile-bytecode; else $(PYTHON) -m uv sync --frozen --compile-bytecode; fi
	@touch $@

.airflow/airflow.db: .venv/.synced
	@mkdir -p .airflow
	@.venv/bin/airflow db migrate > .airflow/migrate.log 2>&1 || (cat .airflow/migrate.log; exit 1)

# The pool that bounds outbound HTTP (discover and fetch tasks). Without it, those tasks wait
# forever under a scheduler; `airflow dags test` ignores pools. Pools live in the database, so
# this runs once (remove .airflow/ as a whole to start afresh).
.airflow/pools.done: | .airflow/airflow.db
	@.venv/bin/airflow pools set newsclean_http $(HTTP_POOL_SLOTS) "newsclean: outbound HTTP (feeds and article pages)" > .airflow/pools.log 2>&1 || (cat .airflow/pools.log; exit 1)
	@touch $@

setup: .venv/.synced .airflow/airflow.db .airflow/pools.done

# The nightly DAG, run by Airflow (dags test) on the bundled sample corpus, for $(RUN_DATE).
run: setup
	@rm -rf data/lake/_work
	@# A demo run on this machine: a claim left by an earlier `make run` that failed mid-way
	@# (an Airflow run keeps its claim until it expires) must not block this one.
	@.venv/bin/cleaning unlock $(RUN_DATE) > /dev/null
	.venv/bin/airflow dags test news_nightly -c '{"run_date": "$(RUN_DATE)"}' > .airflow/last-run.log 2>&1 || (tail -50 .airflow/last-run.log; exit 1)
	@grep -q "DagRun Finished.*state=success" .airflow/last-run.log || (echo "DAG run did not succeed; see .airflow/last-run.log"; exit 1)
	.venv/bin/cleaning report $(RUN_DATE)

test: setup
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -q

# news_nightly on CeleryExecutor, all on 127.0.0.1 in a temporary folder: PostgreSQL, Redis, an S3
# server (moto) holding the lake, Airflow and two Celery workers; checks that the mapped tasks ran on
# both workers and that the tables equal those of `cleaning run` (ops/distributed/README.md; about
# 1.5 min). Installs redis-server with apt-get when missing and root; outside CI it skips with a
# message when the servers cannot be had, under CI (CI set) it fails instead.
test-distributed: setup
	.venv/bin/python ops/distributed/run.py

define PORT_FREE
import socket, sys
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", port))
except OSError:
    sys.exit(f"port {port} on 127.0.0.1 is in use (another Airflow?): stop it first, or: make airflow AIRFLOW_PORT=8081")
endef
export PORT_FREE

# The Airflow UI for this project's DAGs on http://127.0.0.1:$(AIRFLOW_PORT) (airflow standalone,
# low parallelism); Ctrl-C stops it. Login: see docs/operations.md.
airflow: setup
	@.venv/bin/python -c "$$PORT_FREE" $(AIRFLOW_PORT)
	PATH="$(CURDIR)/.venv/bin:$$PATH" \
	AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT=$(AIRFLOW_PORT) AIRFLOW__API__WORKERS=1 \
	AIRFLOW__API__BASE_URL=http://127.0.0.1:$(AIRFLOW_PORT) \
	AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$(AIRFLOW_PORT)/execution/ \
	AIRFLOW__CORE__EXECUTOR=LocalExecutor AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=4 \
	.venv/bin/airflow standalone

clean-lake:
	rm -rf data/lake
