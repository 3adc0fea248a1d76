# Make targets for working on the template itself. Needs only python3 and make:
# the first run bootstraps .venv (uv from PyPI, then the test tools).
.DEFAULT_GOAL := help
PYTHON3 ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
DEMO := .demo

.PHONY: help test test-fast test-slow demo lint clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r pyproject.toml
	touch $@

test: $(STAMP) ## Run the whole template suite: fast render checks, then generated projects' own lint/tests/docs
	$(PY) -m pytest

test-fast: $(STAMP) ## Run only the fast render checks (seconds)
	$(PY) -m pytest -m "not slow"

test-slow: $(STAMP) ## Run only the slow checks that install and run generated projects
	$(PY) -m pytest -m slow

lint: $(STAMP) ## Lint the template's own tests, hooks and Jinja extension
	$(PY) -m black --check tests hooks
	$(PY) -m flake8 --max-line-length 99 --extend-ignore E203,W503 tests hooks

demo: $(STAMP) ## Render the default project into .demo/ and run it end to end
	$(PY) tests/demo.py $(DEMO)

clean: ## Remove the template's virtualenv, caches and demo output
	rm -rf $(VENV) .cache $(DEMO)
