# Quick start: `make demo` (local deploy against an embedded AWS emulator) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
# Node 20 works for jsii but makes it print an end-of-life banner on every synth.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

.PHONY: setup demo test lint typecheck unit synth bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt lambda/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

demo: setup
	$(BIN)/python -m cfnlocal.demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The stacks and the Lambda code are separate programs: type-check them separately.
typecheck: setup
	$(BIN)/mypy --strict cfnlocal $(wildcard app.py) $(wildcard stacks)
	cd lambda && ../$(BIN)/mypy --config-file ../pyproject.toml --strict .

# pytest exits 5 when it collected nothing: for this suite that is a failure, not a pass.
unit: setup
	$(BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; exit $$rc

test: lint typecheck unit

# Needs Node.js; the CLI version is pinned in package.json.
synth: setup
	npm ci --no-audit --no-fund
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet

bench: setup
	for script in benchmarks/*.py; do $(BIN)/python "$$script" || exit 1; done

clean:
	rm -rf $(VENV) cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
