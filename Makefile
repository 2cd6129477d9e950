# The two commands: `make run` and `make test`. Each installs what it needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: run test lint typecheck pytest deps bench demo clean

deps: $(PIP_STAMP) $(NPM_STAMP)

# checkov validates infra/ in the tests; its pins clash with the app's, so it has a venv of its own.
$(CHECKOV_STAMP): infra/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r infra/requirements-checkov.txt
	touch $@

$(PIP_STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

local.settings.json:
	cp local.settings.sample.json $@

run: deps local.settings.json
	$(PY) -m dev

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: deps
	$(VENV)/bin/mypy .

pytest: deps $(CHECKOV_STAMP)
	CHECKOV=$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest

test: lint typecheck pytest

demo: deps
	$(PY) -m dev.demo

bench: deps
	$(PY) bench/import_time.py
	$(PY) bench/launch.py
	$(PY) bench/hl7_ingest.py
	$(PY) bench/reminders.py
	$(PY) bench/writeback.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
