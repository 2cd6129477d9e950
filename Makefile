# The two commands: `make run` and `make test`. Each installs what it needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EHR_PROFILE ?= epic
# The local run's ports (make run and make demo): the connector, the sandbox EHR, the local sign-in.
PORT ?= 7071
EHR_PORT ?= 7072
IDENTITY_PORT ?= 7073
TELEMETRY ?=
PIP_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
VENDOR_STAMP := web/vendor/.installed
# Root installs Debian packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint typecheck pytest deps chromium bench demo screenshots clean rotate-join-link-key backup restore

deps: $(PIP_STAMP) $(NPM_STAMP) $(VENDOR_STAMP)

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

# The portal is plain ES modules served as they are; its two libraries come from npm (pinned in
# package-lock.json) and are copied next to it, so that web/ deploys as one folder.
$(VENDOR_STAMP): $(NPM_STAMP)
	mkdir -p web/vendor
	cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css web/vendor/
	cp node_modules/uplot/LICENSE web/vendor/uPlot.LICENSE
	cp node_modules/@azure/msal-browser/lib/msal-browser.min.js web/vendor/
	cp node_modules/@azure/msal-browser/LICENSE web/vendor/msal-browser.LICENSE
	touch $@

# The browser tests drive Debian's chromium (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# The sample's settings with this machine's own local secrets (the join-link and opt-out keys); func start reads it too.
local.settings.json:
	$(PYTHON) -m dev.host.local_settings $@

run: deps local.settings.json
	$(PY) -m dev --port $(PORT) --ehr-port $(EHR_PORT) --identity-port $(IDENTITY_PORT) \
		--ehr-profile $(EHR_PROFILE) $(if $(TELEMETRY),--telemetry $(TELEMETRY))

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: deps
	$(VENV)/bin/mypy .

pytest: deps chromium $(CHECKOV_STAMP)
	CHECKOV=$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest

test: lint typecheck pytest

demo: deps
	$(PY) -m dev.demo --api http://localhost:$(PORT) --ehr http://localhost:$(EHR_PORT) \
		--identity http://localhost:$(IDENTITY_PORT)

# Operator commands against a deployment, signed in as you (az login or azd auth login); see README, Deploy.
# The vault and the storage accounts come from azd's environment (its outputs) unless given.
VAULT ?= $(shell azd env get-value KEY_VAULT_NAME 2>/dev/null)
APP_STORAGE ?= $(shell azd env get-value APP_STORAGE_ACCOUNT 2>/dev/null)
DATA_STORAGE ?= $(shell azd env get-value DATA_STORAGE_ACCOUNTS 2>/dev/null)
BACKUP ?= latest
STORAGE_OPTIONS = --storage '$(APP_STORAGE)' --data-storage-accounts '$(DATA_STORAGE)'

rotate-join-link-key: deps
	@test -n "$(VAULT)" || { echo 'Name the key vault: make rotate-join-link-key VAULT=<name> (or run it where azd knows the environment)'; exit 2; }
	$(PY) -m ops rotate-join-link-key --vault $(VAULT)

backup: deps
	@test -n "$(APP_STORAGE)" || { echo 'Name the storage: make backup APP_STORAGE=<account> DATA_STORAGE=<azd DATA_STORAGE_ACCOUNTS>'; exit 2; }
	$(PY) -m ops backup $(STORAGE_OPTIONS)

restore: deps
	@test -n "$(APP_STORAGE)" || { echo 'Name the storage: make restore APP_STORAGE=<account> DATA_STORAGE=<azd DATA_STORAGE_ACCOUNTS> BACKUP=<blob>'; exit 2; }
	$(PY) -m ops restore --from $(BACKUP) $(STORAGE_OPTIONS)

bench: deps
	$(PY) bench/import_time.py
	$(PY) bench/reminders.py
	$(PY) bench/sms_dispatch.py
	# Launch, HL7 and writeback: alternated with the commit before the processors' work (the merge-base with
	# main), 3 rounds each; sizes keep the whole run near 15 minutes on 2 cores.
	$(PY) bench/compare.py --rounds 3 "bench/launch.py --launches 50" "bench/hl7_ingest.py --messages 300" \
		"bench/writeback.py --visits 20 --events 10"
	$(PY) bench/costs.py

# Saves a screenshot of each step of the configuration wizard (and the reports page) to tests/screenshots/.
screenshots: deps chromium
	SCREENSHOTS=tests/screenshots $(PY) -m pytest -q tests/e2e/test_wizard.py tests/e2e/test_reports.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules web/vendor .mypy_cache .ruff_cache .pytest_cache
