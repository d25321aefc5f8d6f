# Two commands for a newcomer: `make up` and `make test`. Everything else is here for the curious.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
VENV := .venv/bin
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros -type f 2>/dev/null) dbt_project/dbt_project.yml
MANIFEST := dbt_project/target/manifest.json

.PHONY: help install redis-server httpyac up test coverage-floors lint bench eval docs validate clean

help:
	@echo "make up     start PostgreSQL + NATS, load the sample data, serve Dagster UI (:3000), API (:8000), dbt docs (:8080)"
	@echo "make test   the whole test suite against real PostgreSQL and NATS (throw-away instances), with coverage"
	@echo "make lint   ruff, mypy, the import-layer contract;  make bench  performance ratios;  make validate  dagster definitions"
	@echo "make eval   Q2Q quality: every provider on the project's labelled set (test split), figures in .teei/eval/"
	@echo "make docs   dbt docs (dbt_project/target/static_index.html) and docs/schema.md (ER diagram from the manifest)"

# uv comes from PyPI when missing; the environment is exactly uv.lock.
.venv/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv || $(PYTHON) -m pip install --quiet --break-system-packages uv
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: .venv/.installed $(MANIFEST) redis-server httpyac

# Debian's redis-server, for the test of a rate limit shared through Redis (TEEI_API_RATE_LIMIT_STORAGE):
# installed when missing and apt-get can (as root); otherwise that test is skipped and says why.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& { apt-get install -y -qq redis-server >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }; }; } \
		|| echo "redis-server is not installed (needs apt-get as root): the Redis rate-limit test will be skipped"

# httpyac, which sends the .http files of docs/http/ in the tests: npm ci from tools/httpyac's lockfile
# into tools/httpyac/node_modules (git-ignored), again only when the lockfile changed. Without npm that
# test is skipped and says why.
HTTPYAC_STAMP := tools/httpyac/node_modules/.installed
httpyac:
	@[ $(HTTPYAC_STAMP) -nt tools/httpyac/package-lock.json ] || { command -v npm >/dev/null 2>&1 \
		&& npm ci --prefix tools/httpyac --no-audit --no-fund --loglevel=error && touch $(HTTPYAC_STAMP); } \
		|| echo "httpyac is not installed (needs npm from Node.js 18+ and its registry): the test of the .http files will be skipped"

# The dbt manifest is built ahead, never parsed when Dagster loads the code location.
$(MANIFEST): .venv/.installed $(DBT_SOURCES)
	cd dbt_project && ../$(VENV)/dbt parse --quiet --profiles-dir . --target-path target
	@touch $@

up: install
	$(VENV)/teei up

# Coverage of the whole suite: the table (lines not run) printed at the end, HTML in .teei/coverage/html.
# pytest fails under the overall floor of pyproject.toml ([tool.coverage.report] fail_under); then
# coverage-floors holds the column mappers and the reading rules to floors of their own.
test: install
	@mkdir -p .teei/coverage
	$(VENV)/pytest --cov --cov-report=term-missing:skip-covered --cov-report=html
	@$(MAKE) --no-print-directory coverage-floors

# <percent>:<files>, read from the data of the last `make test` (.teei/coverage/.coverage). One floor per
# line of the rule: a file under it fails `make test` even when the total is above.
COVERAGE_FLOORS := 80:connectors/* 80:contracts/field_kinds.py,contracts/fields.py,teei/ingest/record_checks.py
coverage-floors:
	@failed=0; for floor in $(COVERAGE_FLOORS); do \
		minimum=$${floor%%:*}; files=$${floor#*:}; \
		total=$$($(VENV)/coverage report --include="$$files" --format=total --fail-under="$$minimum") || failed=1; \
		echo "coverage $$total % of $$files (at least $$minimum %)"; \
	done; \
	[ $$failed = 0 ] || { echo "coverage is under a floor: see the table above"; exit 1; }

lint: install
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy .
	$(VENV)/lint-imports

validate: install
	$(VENV)/dagster definitions validate -w workspace.yaml

bench: install
	$(VENV)/python -m benchmarks

# Q2Q providers on the untouched test split of the project's labelled set (train and dev are for
# training and thresholds); the figures and predictions land in .teei/eval/.
eval: install
	@mkdir -p .teei/eval
	$(VENV)/teei eval q2q --labels tests/fixtures/q2q/labelled.jsonl --split test \
		--json .teei/eval/q2q.json --predictions .teei/eval/q2q_predictions.jsonl

# dbt's catalog would need a running database; --no-compile and --empty-catalog need none, so this works
# on a fresh machine (types then come from the yml only; `make up` serves docs with the database's types).
# --static writes one self-contained HTML file; docs/schema.md is generated from the same manifest.
docs: install
	cd dbt_project && ../$(VENV)/dbt docs generate --quiet --no-compile --empty-catalog --static --profiles-dir . --target-path target
	$(VENV)/python -m teei.devtools.docs.schema
	@echo "dbt docs: dbt_project/target/static_index.html (open it in a browser)"

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache .mypy_cache .ruff_cache .teei/coverage tools/httpyac/node_modules
