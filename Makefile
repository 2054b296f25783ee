# random-likes — the two commands that matter: `make dev` and `make test`.
# The functions run on python3.11 (template.yaml), so the tests do too.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
LOCKED := $(VENV)/.locked-stamp
STAMP := $(VENV)/.installed-stamp

.PHONY: venv dev test lint format unit integration e2e bench lock build deploy spec clean help

help:
	@echo "make dev    - run the whole system offline on http://127.0.0.1:$${PORT:-3000} (ARGS='--help' for flags)"
	@echo "make test   - lint, type-check and run every test"
	@echo "make lint   - ruff, mypy and cfn-lint only"
	@echo "make bench  - run the benchmarks under bench/ and print their results"
	@echo "make lock   - re-resolve uv.lock from pyproject.toml and export every requirements file (UPGRADE=1: newest allowed)"
	@echo "make build  - sam build (needs the SAM CLI)"

# The venv holds exactly the lock: every package at the version and hash in requirements-dev.txt (exported from
# uv.lock by `make lock`). It is made anew whenever that file changes, so nothing the lock dropped lingers.
# A fresh clone needs only Python 3.11 and make.
$(LOCKED): requirements-dev.txt
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $(LOCKED)

# Then the project itself, editable: its dependencies are all in the lock already (--no-deps), and it builds with
# the locked setuptools (--no-build-isolation), so nothing unpinned is fetched.
$(STAMP): $(LOCKED) pyproject.toml
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

# Re-resolve uv.lock from pyproject.toml (each pin kept while it still fits; UPGRADE=1 takes the newest allowed)
# and export every requirements file from it. tests/integration/test_lock.py fails when they disagree.
lock: $(STAMP)
	$(PY) scripts/lock.py $(if $(UPGRADE),--upgrade)

dev: $(STAMP)
	$(PY) -m local.dev $(ARGS)

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(STAMP)
	$(PY) -m pytest tests/unit

integration: $(STAMP)
	$(PY) -m pytest tests/integration

e2e: $(STAMP)
	$(PY) -m pytest tests/e2e

bench: $(STAMP)
	$(PY) -m bench

# Re-derive the part of X's OpenAPI spec the tests use (needs ../shared/x-api-openapi.json or SPEC=path).
spec: $(STAMP)
	$(PY) scripts/derive_x_spec.py $(if $(SPEC),--source $(SPEC))

build:
	@command -v sam >/dev/null || { echo "sam build needs the AWS SAM CLI: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"; exit 1; }
	sam build

deploy: build
	sam deploy --guided

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
