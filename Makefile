# Strata developer commands. Everything installs what it needs into .venv (Python) and .tools (buf, node).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
NODE_STAMP := .tools/node_modules/.installed
DOCS_STAMP := $(VENV)/.docs-installed
BUF := .tools/node_modules/.bin/buf
STRATA_ADDR ?= 127.0.0.1:50051

.PHONY: help install run test test-fast proto proto-check lint bench clean tools docs browser console-screenshots

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ./clients/python[pandas] -e .[dev]
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the server, the client and dev tools

$(NODE_STAMP): package.json package-lock.json
	mkdir -p .tools && cp package.json package-lock.json .tools/
	cd .tools && npm ci --silent --no-audit --no-fund
	touch $(NODE_STAMP)

tools: $(NODE_STAMP)  ## install buf and the Node.js gRPC client used by the polyglot test

run: $(STAMP)  ## start all services and the web console (http://127.0.0.1:8080) in one process on $(STRATA_ADDR)
	$(VENV)/bin/strata server --addr $(STRATA_ADDR)

browser:  ## install Chromium and chromedriver (Debian packages) for the console's browser tests, when missing
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing chromium and chromium-driver"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

console-screenshots: $(STAMP) browser  ## refresh the console guide's screenshots (docs/images) from the browser tests
	STRATA_DOCS_SCREENSHOTS=docs/images $(PY) -m pytest -q -p no:cacheprovider tests/web/test_browser.py

test: $(STAMP) $(NODE_STAMP) browser  ## install everything and run the whole test suite
	$(PY) -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast: $(STAMP)  ## run the suite without the slow fault-injection tests
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

proto: $(STAMP)  ## regenerate the Python code from proto/ into clients/python/strata
	$(PY) scripts/gen_proto.py

proto-check: $(STAMP)  ## fail when the committed generated code is stale
	$(PY) scripts/gen_proto.py --check

lint: $(STAMP) $(NODE_STAMP)  ## buf lint (STANDARD), buf breaking against the previous commit, ruff
	cd proto && ../$(BUF) lint
	@if git rev-parse -q --verify HEAD~1 >/dev/null && git cat-file -e HEAD~1:proto/buf.yaml 2>/dev/null; then \
		echo "buf breaking against HEAD~1"; \
		$(BUF) breaking proto --against '.git#ref=HEAD~1,subdir=proto'; \
	else echo "buf breaking: no previous commit with proto/, skipped"; fi
	$(VENV)/bin/ruff check services clients/python tests bench scripts
	$(VENV)/bin/ruff format --check services clients/python tests bench scripts

$(DOCS_STAMP): $(STAMP)
	$(PIP) install -q -e .[dev,docs]
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)  ## check the generated pages and README links, then build docs/ into site/ (mkdocs --strict)
	$(PY) scripts/gen_docs.py --check
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

bench: $(STAMP)  ## run the benchmarks; each prints its figure and the ratio to a same-run baseline
	$(PY) -m bench $(BENCH_ARGS)

clean:  ## remove the virtual environment, tools and local data
	rm -rf $(VENV) .tools .strata .pytest_cache
