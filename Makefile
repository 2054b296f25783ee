# random-likes — the two commands that matter: `make dev` and `make test`.
# The functions run on python3.11 (template.yaml), so the tests do too.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
LOCKED := $(VENV)/.locked-stamp
STAMP := $(VENV)/.installed-stamp
# The SAM CLI, pinned, in a venv of its own, as a user installs it: it pins its own boto3, which must not meet
# the project's. SAM_CLI_TELEMETRY=0 unless you say otherwise: CI reaches no AWS endpoint.
SAM_CLI_VERSION := 1.170.0
SAM_VENV := .sam-cli
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY ?= 0
# `sam validate` wants a region even though it calls nothing; deploys use yours (`sam deploy --guided` asks).
VALIDATE_REGION ?= us-east-1

.PHONY: venv dev test lint format unit integration e2e bench lock validate build build-check deploy spec clean help screenshots

help:
	@echo "make dev    - run the whole system offline on http://127.0.0.1:$${PORT:-3000} (ARGS='--help' for flags)"
	@echo "make test   - lint, type-check and run every test"
	@echo "make lint   - ruff, mypy and cfn-lint only"
	@echo "make bench  - run the benchmarks under bench/ and print their results"
	@echo "make lock   - re-resolve uv.lock from pyproject.toml and export every requirements file (UPGRADE=1: newest allowed)"
	@echo "make build  - sam build: one package per function under .aws-sam/build (installs the pinned SAM CLI)"
	@echo "make build-check - sam validate --lint, sam validate and sam build, as CI runs them"
	@echo "make deploy - make build, then sam deploy --guided"
	@echo "make screenshots - retake the README's screenshots (docs/screenshots/) on the offline stack"

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

# The README's screenshots: the page's tour of its states on the offline stack, in Chromium (Playwright).
# The only target that writes docs/screenshots/; tests take the same tour into a temporary folder.
screenshots: $(STAMP)
	$(PY) -m scripts.screenshots

# Re-derive the part of X's OpenAPI spec the tests use (needs ../shared/x-api-openapi.json or SPEC=path).
spec: $(STAMP)
	$(PY) scripts/derive_x_spec.py $(if $(SPEC),--source $(SPEC))

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)

validate: $(SAM)
	$(SAM) validate --lint --region $(VALIDATE_REGION)
	$(SAM) validate --region $(VALIDATE_REGION)

# Each function is a makefile build (src/Makefile), run by make, not in a container: no Docker needed. Its pip is
# the SAM venv's Python 3.11, which the bytecode it compiles must match. The packages land in .aws-sam/ (ignored).
build: $(SAM)
	LAMBDA_PYTHON=$(abspath $(SAM_VENV))/bin/python $(SAM) build

build-check: validate build

deploy: build
	$(SAM) deploy --guided

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
