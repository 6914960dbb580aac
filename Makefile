# Two commands on a fresh machine (Python 3.11 + pip):  make release   and   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: release test test-install test-browser validate setup wasm clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,browser]'
	touch $(STAMP)

setup: $(STAMP)

## Validate the package and build dist/<version>/ (the main job)
release: $(STAMP)
	$(BIN)/azkz build --out dist

validate: $(STAMP)
	$(BIN)/azkz validate

## The catalogue site's SQL console vendors DuckDB-WASM from npm once per machine (into
## ~/.cache/azkz), before any test runs, so the tests themselves stay offline. Without npm
## this says so and the site tests that need it are skipped with that reason.
wasm: $(STAMP)
	@if command -v npm >/dev/null; then \
	  $(BIN)/python -c "from azkz.publish.site.wasm import ensure_vendored; print('DuckDB-WASM:', ensure_vendored())"; \
	else \
	  echo "npm not found: the catalogue-site tests that need DuckDB-WASM will be skipped"; \
	fi

## The import contracts (pyproject.toml [tool.importlinter]: stages import downwards only),
## then the test suite (fast, offline, one worker per core); browser tests: make test-browser.
## Bytecode caches are written even where PYTHONDONTWRITEBYTECODE is set (as on this
## project's machines): the suite starts about a hundred interpreters, and without
## __pycache__ (gitignored) each one compiles azkz again and pytest rewrites every test.
test: $(STAMP) wasm
	$(BIN)/lint-imports --no-logo
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -n auto

## `pip install .` (a wheel, not editable) into a fresh virtual environment, used from outside
## the checkout (slow, so not part of `make test`)
test-install: $(STAMP)
	$(BIN)/python -m pytest -q -m install

## Real-browser tests of the catalogue site (installs Debian chromium and npm if missing)
test-browser: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)
	$(MAKE) wasm
	$(BIN)/python -m pytest -q -m browser

clean:
	rm -rf dist $(VENV)
