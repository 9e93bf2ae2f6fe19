# fieldcrm developer entry points. `make` alone lists the targets.
#
# Stamp files keep every target fast when nothing changed:
#   .venv/.installed            <- pyproject.toml        (pip install -e '.[dev]')
#   pwa/node_modules/.installed <- pwa/package-lock.json (npm ci)
#   pwa/dist/index.html         <- PWA sources           (npm run build)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV     := .venv
PY       := $(VENV)/bin/python
FIELDCRM := $(VENV)/bin/fieldcrm
HOST     ?= 127.0.0.1
PORT     ?= 8000
# Extra arguments for both pytest legs, e.g. `make test PYTEST_ARGS="-x -k sync"`.
PYTEST_ARGS ?=
# Benchmark entry point (see `make bench`).
BENCH    ?= bench/run.py

# The folder for the database and photos of `make db|demo|run`; tests use their own.
FIELDCRM_INSTANCE ?= $(CURDIR)/instance
db demo run: export FIELDCRM_INSTANCE := $(FIELDCRM_INSTANCE)

PWA_SRC := $(shell find pwa/src pwa/public -type f 2>/dev/null) \
           $(wildcard pwa/index.html pwa/vite.config.* pwa/tsconfig*.json pwa/package.json)

.PHONY: help venv install pwa db demo run test bench clean

help: ## List the targets
	@echo "fieldcrm make targets:"
	@grep -E '^[a-z][a-zA-Z_ -]*:.*## ' $(MAKEFILE_LIST) | \
	  sed -E 's/^([^:]*):.*## (.*)$$/  \1\t\2/' | expand -t 20
	@echo
	@echo "Variables: HOST=$(HOST) PORT=$(PORT) FIELDCRM_INSTANCE=$(FIELDCRM_INSTANCE) PYTEST_ARGS=..."

# ---- Python ---------------------------------------------------------------------------------

venv install: $(VENV)/.installed ## Create .venv and pip install -e '.[dev]'

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $@

# ---- PWA ------------------------------------------------------------------------------------

pwa: pwa/dist/index.html ## npm ci (when the lock changed) and build the PWA into pwa/dist

pwa/node_modules/.installed: pwa/package-lock.json pwa/package.json
	cd pwa && npm ci --no-audit --no-fund
	@touch $@

pwa/dist/index.html: pwa/node_modules/.installed $(PWA_SRC)
	cd pwa && npm run build
	@touch $@

# ---- Database and demo ----------------------------------------------------------------------

db: $(VENV)/.installed ## Create or upgrade the database schema (fieldcrm db upgrade)
	@mkdir -p "$(FIELDCRM_INSTANCE)"
	$(FIELDCRM) db upgrade

demo: db ## Load the demo organisation once and print the demo logins
	$(FIELDCRM) demo

run: install pwa db demo ## Install, build, migrate, load the demo, then serve API + PWA (HOST, PORT)
	exec $(FIELDCRM) run --host $(HOST) --port $(PORT)

# ---- Tests ----------------------------------------------------------------------------------

test: install pwa ## PWA tests, Python suite on SQLite, then on PostgreSQL (required when CI=true)
	cd pwa && npm test
	@echo "== Python suite on SQLite =="
	FIELDCRM_TEST_DB=sqlite $(PY) -m pytest $(PYTEST_ARGS)
	@if $(PY) tests/pg_available.py; then \
	  echo "== Python suite on PostgreSQL (not e2e) =="; \
	  echo 'FIELDCRM_TEST_DB=postgresql $(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)'; \
	  FIELDCRM_TEST_DB=postgresql $(PY) -m pytest -m "not e2e" $(PYTEST_ARGS); \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "PostgreSQL not reachable: the PostgreSQL leg is required in CI" >&2; \
	  exit 1; \
	else \
	  echo "*** SKIPPED the PostgreSQL leg: PostgreSQL is not reachable" \
	       "(set FIELDCRM_TEST_PG_ADMIN_URL or start PostgreSQL; CI requires it) ***"; \
	fi

bench: install pwa ## Run the benchmarks (BENCH=bench/run.py)
	@test -f $(BENCH) || { echo "$(BENCH) not found: no benchmark to run" >&2; exit 1; }
	$(PY) $(BENCH)

# ---- Housekeeping ---------------------------------------------------------------------------

clean: ## Remove .venv, pwa/node_modules, pwa/dist and instance/
	rm -rf $(VENV) pwa/node_modules pwa/dist instance
