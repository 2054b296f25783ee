# random-likes — the two commands that matter: `make dev` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp

.PHONY: dev test lint format unit integration e2e bench build deploy spec clean help screenshots

help:
	@echo "make dev    - run the whole system offline on http://127.0.0.1:$${PORT:-3000} (ARGS='--help' for flags)"
	@echo "make test   - lint, type-check and run every test"
	@echo "make lint   - ruff, mypy and cfn-lint only"
	@echo "make bench  - run the benchmarks under bench/ and print their results"
	@echo "make screenshots - retake the README's screenshots (docs/screenshots/) on the offline stack"
	@echo "make build  - sam build (needs the SAM CLI)"

# The venv is (re)built whenever pyproject.toml changes; a fresh clone needs nothing else.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

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

build:
	@command -v sam >/dev/null || { echo "sam build needs the AWS SAM CLI: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"; exit 1; }
	sam build

deploy: build
	sam deploy --guided

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
