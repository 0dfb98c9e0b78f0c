# The two commands: `make run` (the whole cockpit on loopback) and `make test` (everything CI runs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs only what the cockpit needs; the first `make test` adds the dev tools.
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed

.PHONY: run test lint unit integration services bench clean

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/voc run

services:
	bash deploy/install-services.sh
	bash deploy/kafka.sh jars

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app ingest sentiment alerts
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) services
	$(BIN)/pytest tests/integration

# Two processes, each test module whole in one of them (its module-scoped app is started once).
test: $(STAMP) services lint
	VOC_REQUIRE_SERVICES=1 $(BIN)/pytest -n 2 --dist loadscope

bench: $(STAMP)
	$(BIN)/python bench/ingest_throughput.py

clean:
	rm -rf $(VENV) .voc voc.db voc.db-* .mypy_cache .pytest_cache .ruff_cache
