# Mostrador: `make run` serves everything locally; `make test` runs lint and the whole suite.
# Both set up their own environment on a fresh machine (Python 3.11+ and Node.js).

# 3.12 first: it is the Lambda runtime (infra/functions.py) and the newest the embedded PostgreSQL
# (pgserver) ships wheels for; 3.11 still works. Each candidate is run, not just looked up: a pyenv shim
# for a version pyenv has not selected exists on PATH but fails, so pyenv's own 3.12 is tried by path.
PYTHON ?= $(shell for p in python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 python3.11 python3; do \
	"$$p" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' >/dev/null 2>&1 \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv turns pyproject.toml into uv.lock (make lock) and exports it for pip; pinned here, not in the lock.
UV_VERSION := 0.13.9
LOCK_EXPORT := $(VENV)/requirements.lock.txt

.PHONY: install run test lint unit bench eval migrate synth lock lock-upgrade clean test-browser python-path

# The venv, made with $(PYTHON) and remade when $(PYTHON) is another minor version, with uv in it.
$(BIN)/uv: Makefile
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is required (the embedded PostgreSQL has no wheels for newer yet)"; exit 1; }
	@want=$$("$(PYTHON)" -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	have=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	if [ "$$want" != "$$have" ]; then echo "creating $(VENV) with Python $$want ($(PYTHON))"; \
		rm -rf $(VENV) && "$(PYTHON)" -m venv $(VENV); fi
	$(BIN)/pip install --quiet --upgrade pip "uv==$(UV_VERSION)"
	@touch $@

# Everything comes from uv.lock, hash-checked; the same lock builds the Lambda layer (infra/layer_build.py).
$(STAMP): pyproject.toml uv.lock $(BIN)/uv
	@UV_PYTHON=$(BIN)/python $(BIN)/uv export --locked --offline --quiet --extra dev --no-emit-project \
		--no-header --format requirements.txt -o $(LOCK_EXPORT) \
		|| { echo "uv.lock does not match pyproject.toml: run 'make lock' and commit uv.lock"; exit 1; }
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK_EXPORT)
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

install: $(STAMP)

# Re-resolve after changing dependencies in pyproject.toml (keeps every pin that still fits), then commit
# uv.lock. lock-upgrade moves every pin to the newest allowed version.
lock: $(BIN)/uv
	UV_PYTHON=$(BIN)/python $(BIN)/uv lock

lock-upgrade: $(BIN)/uv
	UV_PYTHON=$(BIN)/python $(BIN)/uv lock --upgrade

python-path:
	@echo $(PYTHON)

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

# The CDK CLI comes from npm (Node.js); it runs the app with the venv's Python (cdk.json).
synth: install
	npx --yes aws-cdk@2 synth --quiet

clean:
	rm -rf $(VENV) .build cdk.out .pytest_cache .mypy_cache .ruff_cache
