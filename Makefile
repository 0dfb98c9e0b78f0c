# The two commands: `make run` (the whole cockpit on loopback) and `make test` (everything CI runs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every package, direct and transitive, comes pinned with its hashes from requirements/: `make run`
# installs run.lock, the first `make test` adds dev.lock (which holds run.lock's pins). Nothing is
# resolved at install time; `make lock` re-resolves, and its diff is a commit of its own.
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed
LOCK_VENV := $(VENV)/lock-tools
PIP_TOOLS := pip-tools==7.7.0 pip==26.3
# The project itself, without resolving anything: its build backend (setuptools) is in the lock.
# PYTHONWARNINGS hides setuptools' notice that an editable install is one.
INSTALL_SELF := PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
LOCKED := $(BIN)/python -m pip install --quiet --require-hashes --no-deps -r
COMPILE := --quiet --generate-hashes --allow-unsafe --strip-extras --all-build-deps \
	--no-emit-find-links --extra postgres

.PHONY: run test lint unit integration services bench bench-company clean lock i18n

$(RUN_STAMP): requirements/run.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(LOCKED) requirements/run.lock
	$(INSTALL_SELF)
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements/dev.lock
	$(LOCKED) requirements/dev.lock
	$(INSTALL_SELF)
	touch $(STAMP)

# Re-resolve every pin to the newest releases pyproject.toml allows (Python 3.11); with
# `UPGRADE=` empty, add what pyproject.toml newly lists and keep every other pin.
UPGRADE ?= --upgrade
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet $(PIP_TOOLS); }
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile $(COMPILE) $(UPGRADE) -o requirements/run.lock pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile $(COMPILE) $(UPGRADE) --extra dev -c requirements/run.lock \
		-o requirements/dev.lock pyproject.toml

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

# Collect the messages of the code into app/locales/messages.pot and add the new ones, untranslated,
# to each language's catalogue (app/locales/<language>.po); tests/unit/test_catalogues.py names
# those still to translate.
i18n: $(STAMP)
	$(BIN)/python -m app.locales.extract

bench: $(STAMP)
	$(BIN)/python bench/ingest_throughput.py

# A generated company of 500 stores and 100,000 responses loaded through the worker, then its
# barometers read back, on SQLite and PostgreSQL (a few minutes; see "See it at scale").
bench-company: $(STAMP)
	$(BIN)/python bench/company_barometers.py

clean:
	rm -rf $(VENV) .voc voc.db voc.db-* .mypy_cache .pytest_cache .ruff_cache
