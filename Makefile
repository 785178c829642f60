# Quick start: `make demo` (local deploy against an embedded AWS emulator) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
# Node 20 works for jsii but makes it print an end-of-life banner on every synth.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

.PHONY: setup demo test test-matrix test-wheel dist lint typecheck unit test-py313 synth bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt lambda/requirements.txt pyproject.toml
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
	$(BIN)/mypy --strict cfnlocal src hatch_build.py $(wildcard app.py) $(wildcard stacks)
	cd lambda && ../$(BIN)/mypy --config-file ../pyproject.toml --strict .

# pytest exits 5 when it collected nothing: for this suite that is a failure, not a pass.
unit: setup
	$(BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; exit $$rc

test: lint typecheck unit

# The pool-configuration matrix and the full error table take longer than `make test` may:
# `make test` skips the matrix (tests/matrix) and runs the error table's representative subset;
# CI runs both in full here.
test-matrix: setup
	MATRIX_RUN=1 ERROR_MATRIX=full $(BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS) \
		tests/matrix tests/errors; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; exit $$rc

# The distribution as a consumer gets it (tests/wheel): build the sdist and the wheel, install
# the wheel into a fresh venv outside the checkout, synthesize two consumer apps from a
# temporary directory, and compare them with the checkout's build. One process: the tests share
# one venv and print the wheel's figures in the summary.
test-wheel: setup
	WHEEL_RUN=1 $(BIN)/pytest -p no:cacheprovider tests/wheel $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; exit $$rc

# The sdist and the wheel, into dist/.
dist: setup
	$(BIN)/python -m build --outdir dist .

# -- The Lambda tier under the function's own runtime ------------------------------------------
# The function runs on Lambda's python3.13 runtime, with the boto3 that runtime provides.
# `make test-py313` runs the Lambda-tier tests (and the awslambdaric lifecycle) under Python
# 3.13 in a venv of its own, boto3/botocore pinned by constraints/lambda-py313.txt. It looks for
# python3.13 in PYTHON313, then on PATH (a pyenv shim counts only if it runs), then in
# pyenv's versions directory.
PY313_VENV := .venv-py313
PY313_BIN := $(PY313_VENV)/bin
PY313_STAMP := $(PY313_VENV)/.installed
PY313_CONSTRAINTS := constraints/lambda-py313.txt
PY313_TESTS := tests/core tests/adapters tests/handler tests/cli/handler tests/lifecycle/test_crash_points.py \
	tests/lifecycle/test_awslambdaric_lifecycle.py
PYENV_ROOT ?= $(HOME)/.pyenv
# Test-only requirements: everything in requirements-dev.txt except boto3 (pinned apart) and
# the lint and type-check tools.
PY313_SKIP := ^(-r |boto3|mypy|ruff|types-|cfn-lint|cdk-nag)

# After the install: the pins took, and moto still works with that botocore.
define PY313_CHECK
import pathlib, re, boto3, botocore, moto
from moto import mock_aws
pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", pathlib.Path("$(PY313_CONSTRAINTS)").read_text(), re.M))
assert boto3.__version__ == pins["boto3"] and botocore.__version__ == pins["botocore"], (boto3.__version__, botocore.__version__)
mock = mock_aws()
mock.start()
try:
    cognito = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    pool = cognito.create_user_pool(PoolName="check")["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool, Username="u", MessageAction="SUPPRESS")
    assert cognito.admin_get_user(UserPoolId=pool, Username="u")["Username"] == "u"
finally:
    mock.stop()
print(f"boto3 {boto3.__version__}, botocore {botocore.__version__}, moto {moto.__version__}: OK")
endef
export PY313_CHECK

$(PY313_STAMP): requirements.txt requirements-dev.txt lambda/requirements.txt pyproject.toml $(PY313_CONSTRAINTS)
	@py="$(PYTHON313)"; \
	if [ -z "$$py" ]; then \
	  for candidate in python3.13 $$(ls -d $(PYENV_ROOT)/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV); do \
	    if "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then \
	      py="$$candidate"; break; \
	    fi; \
	  done; \
	fi; \
	if [ -z "$$py" ]; then \
	  echo "test-py313: no python3.13 found (PATH, $(PYENV_ROOT)/versions). Install it with" >&2; \
	  echo "  pyenv install 3.13   (or set PYTHON313=/path/to/python3.13)" >&2; \
	  exit 1; \
	fi; \
	echo "test-py313: $$py ($$("$$py" --version 2>&1))"; \
	rm -rf $(PY313_VENV) && "$$py" -m venv $(PY313_VENV)
	$(PY313_BIN)/pip install --quiet --upgrade pip
	grep -vE '$(PY313_SKIP)' requirements-dev.txt > $(PY313_VENV)/test-requirements.txt
	$(PY313_BIN)/pip install --quiet -c $(PY313_CONSTRAINTS) \
	  -r requirements.txt -r $(PY313_VENV)/test-requirements.txt boto3 botocore
	$(PY313_BIN)/pip check
	$(PY313_BIN)/python -c "$$PY313_CHECK"
	touch $@

# botocore 1.35 itself calls datetime.utcnow(), which Python 3.12+ deprecates: not our warning.
test-py313: $(PY313_STAMP)
	$(PY313_BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS) \
	  -W 'ignore:datetime.datetime.utcnow() is deprecated:DeprecationWarning:botocore.auth' \
	  $(PY313_TESTS) $(PYTEST_ARGS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; \
	exit $$rc

# Needs Node.js; the CLI version is pinned in package.json.
synth: setup
	npm ci --no-audit --no-fund
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet

bench: setup
	for script in benchmarks/*.py; do $(BIN)/python "$$script" || exit 1; done

clean:
	rm -rf $(VENV) $(PY313_VENV) dist cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
