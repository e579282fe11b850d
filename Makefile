# The project's vocabulary. Every target installs what it needs from uv.lock first.
#   make demo    run the whole pipeline on synthetic data and show the KPIs
#   make test    run the whole test suite (dbt build and tests, Airflow end-to-end included)
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
SYNCED := $(VENV)/.synced
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Install compiled bytecode: where Python may not write it (PYTHONDONTWRITEBYTECODE, a
# read-only image), every process would compile dbt, Airflow and pandas from source again,
# 1-2 s per CLI call, Airflow task and nightly run.
export UV_COMPILE_BYTECODE := 1
PYTEST_WORKERS ?= 2

.PHONY: setup demo test test-fast lint format docs airflow bench clean help \
	spark-setup test-spark test-spark-cluster

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $(SYNCED)

setup: $(SYNCED) ## create .venv from uv.lock

demo: setup ## generate synthetic data, run ingest -> build -> gate -> publish, print KPIs
	$(BIN)/attribution demo

test: setup ## the whole suite: unit, sources, dbt, quality, publish, DAGs, Airflow end-to-end
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -q

test-fast: setup ## everything but the slow Airflow end-to-end run
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -q -m "not airflow"

lint: setup ## ruff (with the AIR rules) and the portable-SQL lint of the dbt project
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pipelines.portability

format: setup ## apply ruff formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docs: setup ## dbt docs into data/reports/dbt-docs
	$(BIN)/python -c "from pipelines.config import load_settings; from pipelines.warehouse import generate_docs; print(generate_docs(load_settings()))"

airflow: setup ## run Airflow 3 locally (standalone, SQLite) on this project's dags/
	AIRFLOW_HOME=$(CURDIR)/.airflow AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False $(BIN)/airflow standalone

bench: setup ## benchmark against the floor and the alternatives (writes data/reports/bench.json)
	$(BIN)/attribution bench --events 1000000 --events 10000000 --days 60

SPARK_VENV := .venv-spark
SPARK_SYNCED := $(SPARK_VENV)/.synced

# The Spark check's own environment: dbt-spark[session] + pyspark 4.3 from the pinned
# spark/requirements.txt (uv pip compile spark/requirements.in), and this package without
# its dependencies, so pyspark never touches .venv.
$(SPARK_SYNCED): spark/requirements.txt pyproject.toml | $(UV)
	$(UV) venv --allow-existing --python $(PYTHON) $(SPARK_VENV)
	$(UV) pip install --python $(SPARK_VENV)/bin/python -r spark/requirements.txt
	$(UV) pip install --python $(SPARK_VENV)/bin/python --no-deps -e .
	@touch $(SPARK_SYNCED)

spark-setup: $(SPARK_SYNCED) ## create .venv-spark (dbt-spark, PySpark 4.3) from spark/requirements.txt

test-spark: setup spark-setup ## build on DuckDB and on Spark (local[2]) from the same data; compare every mart
	$(SPARK_VENV)/bin/python -m pipelines.parity

test-spark-cluster: setup spark-setup ## the same on a standalone Spark cluster (1 master, 2 workers)
	$(SPARK_VENV)/bin/python -m pipelines.parity --cluster

clean: ## remove generated data (not the venv)
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
