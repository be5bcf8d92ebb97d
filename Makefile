# recon: two commands on a fresh machine.
#   make demo   set up everything, run 3 generated days through the DAGs, print the summary from the marts
#   make test   set up everything and run the whole test suite
# Everything the stack creates lives in .stack/ (git-ignored): virtualenvs, MariaDB, S3 state, Airflow home.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
STACK := .stack
VENV := $(STACK)/venv
DBT_VENV := $(STACK)/dbt-venv
RECON := $(VENV)/bin/recon
PYTEST_ARGS ?=
BENCH_ARGS ?=
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros -type f 2>/dev/null) dbt_project/dbt_project.yml

.PHONY: help setup venvs up down status env manifest docs airflow demo bench test test-unit clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(VENV)/.installed: requirements.txt pyproject.toml
	@echo "== Airflow virtualenv ($(VENV))"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(DBT_VENV)/.installed: requirements-dbt.txt
	@echo "== dbt virtualenv ($(DBT_VENV))"
	$(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dbt.txt
	touch $@

venvs: $(VENV)/.installed $(DBT_VENV)/.installed ## create both virtualenvs (cached until requirements change)

dbt_project/target/manifest.json: $(DBT_SOURCES) | venvs
	$(RECON) dbt-manifest

manifest: dbt_project/target/manifest.json ## precompile the dbt manifest cosmos renders from

up: venvs ## start the local stack: private MariaDB (port 3317), moto S3 (5055), Airflow home
	$(RECON) stack up

down: ## stop the local stack's servers and Airflow (data stays in .stack/)
	@if [ -x $(RECON) ]; then $(RECON) stack down; fi

status: ## what runs in the local stack
	$(RECON) stack status

env: ## print the local stack's settings as shell exports: eval "$$(make -s env)"
	@$(RECON) stack env

setup: up manifest ## everything: virtualenvs, stack, dbt manifest

airflow: setup ## start Airflow on the local stack (UI + REST API on http://localhost:8080, scheduler, dag-processor, triggerer); make down stops it
	$(RECON) airflow up

docs: up ## build the dbt docs site (models, columns, lineage, catalog) and serve it on http://localhost:8081
	$(RECON) docs --port 8081

demo: setup ## generate 3 days, run ingest + reconcile for each, print the summary from the marts
	$(RECON) demo --days 3 --per-day 200 --seed 42

bench: setup ## the benchmark (2-3 h on 2 cores): a 1M-entry day vs the raw floor, memory, 30-day growth; figures in .stack/bench/ (docs/benchmarks.md)
	$(RECON) bench $(BENCH_ARGS)

test: setup ## run the whole test suite (unit, integration, end-to-end) on the local stack
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-unit: venvs ## only the fast unit tests (no services)
	$(VENV)/bin/pytest -m unit $(PYTEST_ARGS)

clean: down ## stop the stack and delete .stack/ entirely (virtualenvs, data, Airflow home)
	rm -rf $(STACK) dbt_project/target dbt_project/logs
