# Two commands on a fresh machine (Python 3.11 + pip):  make release   and   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: release test test-browser validate setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,browser]'
	@# The catalogue site's SQL console vendors DuckDB-WASM from npm once per machine
	@# (into ~/.cache/azkz), so that tests and site builds run offline afterwards.
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)
	$(BIN)/python -c "from azkz.duckdb_wasm import ensure_vendored; print('DuckDB-WASM:', ensure_vendored())"
	touch $(STAMP)

setup: $(STAMP)

## Validate the package and build dist/<version>/ (the main job)
release: $(STAMP)
	$(BIN)/azkz build --out dist

validate: $(STAMP)
	$(BIN)/azkz validate

## The test suite (fast, offline); browser tests are separate: make test-browser
test: $(STAMP)
	$(BIN)/python -m pytest -q

## Real-browser tests of the catalogue site (installs Debian chromium if missing)
test-browser: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	$(BIN)/python -m pytest -q -m browser

clean:
	rm -rf dist $(VENV)
