# Mostrador: `make run` serves everything locally; `make test` runs lint and the whole suite.
# Both set up their own environment on a fresh machine (Python 3.11+ and Node.js).

# 3.12 and 3.11 first: the embedded PostgreSQL (pgserver) ships wheels up to CPython 3.12.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint unit bench eval migrate synth clean test-browser

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is required (the embedded PostgreSQL has no wheels for newer yet)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

run: install
	$(BIN)/mostrador local

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint test-browser
	$(BIN)/pytest

# The web chat page is tested in Debian's headless Chromium (installed with apt-get when missing).
test-browser:
	@bash local/install-test-browser.sh

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python -m bench

# Search evaluation (eval/): recall@5, MRR, negative accuracy per kind and split; ends with one JSON line.
eval: install
	$(BIN)/python -m eval.run_search_eval

migrate: install
	$(BIN)/mostrador migrate

synth: install
	$(BIN)/npx --yes aws-cdk@2 synth

clean:
	rm -rf $(VENV) .build cdk.out .pytest_cache .mypy_cache .ruff_cache
