# Strata developer commands. Everything installs what it needs into .venv (Python) and .tools (buf, node).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
NODE_STAMP := .tools/node_modules/.installed
DOCS_STAMP := $(VENV)/.docs-installed
# Deployment-file validators live apart from .venv: checkov pins many libraries of its own.
DEPLOY_VENV := .tools/deploy-venv
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed
BUF := .tools/node_modules/.bin/buf
# protoc comes from an old grpcio-tools in a venv of its own: its code loads under protobuf 4.25 to 7.x
# (see scripts/gen_proto.py); it needs protobuf < 5, which cannot share .venv with the server.
GRPCIO_TOOLS := 1.62.3
PROTOC_VENV := .tools/protoc-venv
PROTOC_STAMP := $(PROTOC_VENV)/.installed-$(GRPCIO_TOOLS)
STRATA_ADDR ?= 127.0.0.1:50051

.PHONY: help install run cluster test test-fast fuzz proto proto-check protoc lint typecheck typecheck-services bench clean tools docs deploy-tools deploy-nginx deploy-check browser console-screenshots

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip "setuptools>=70.1"  # the wheel tests build with --no-build-isolation: bdist_wheel is built in from 70.1
	$(PIP) install -q -e ./clients/python[pandas,yaml] -e .[dev,embedded,otel]
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the server (with its [embedded] PostgreSQL), the client and dev tools

$(PROTOC_STAMP):
	test -x $(PROTOC_VENV)/bin/python || $(PYTHON) -m venv $(PROTOC_VENV)
	$(PROTOC_VENV)/bin/pip install -q grpcio-tools==$(GRPCIO_TOOLS)
	touch $(PROTOC_STAMP)

protoc: $(PROTOC_STAMP)  ## install the pinned code generator (grpcio-tools $(GRPCIO_TOOLS)) into .tools/protoc-venv

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
	STRATA_DOCS_SCREENSHOTS=docs/images $(PY) -m pytest -q -p no:cacheprovider tests/web/test_browser.py tests/web/test_media_browser.py tests/web/test_reports_browser.py


cluster: $(STAMP) deploy-nginx  ## each service its own process (2 ingest, 2 registry) behind the nginx gRPC router, and the console, until Ctrl-C
	$(PY) scripts/cluster.py

test: $(STAMP) $(NODE_STAMP) $(PROTOC_STAMP) deploy-nginx browser  ## install everything (nginx for tests/cluster, Chromium for tests/web) and run the whole test suite
	$(PY) -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast: $(STAMP) $(PROTOC_STAMP)  ## run the suite without the slow fault-injection tests
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

fuzz: $(STAMP)  ## run the RPC fuzzer long (STRATA_FUZZ_EXAMPLES per RPC, default 300)
	STRATA_FUZZ_EXAMPLES=$${STRATA_FUZZ_EXAMPLES:-300} $(PY) -m pytest -q -n 2 -p no:cacheprovider tests/hardening/test_fuzz_rpcs.py

proto: $(STAMP) $(PROTOC_STAMP)  ## regenerate the Python code from proto/ into clients/python/strata
	$(PY) scripts/gen_proto.py

proto-check: $(STAMP) $(PROTOC_STAMP)  ## fail when the committed generated code is stale
	$(PY) scripts/gen_proto.py --check

lint: $(STAMP) $(NODE_STAMP)  ## buf lint (STANDARD), buf breaking against the previous commit, ruff, mypy (client and server)
	cd proto && ../$(BUF) lint
	@if git rev-parse -q --verify HEAD~1 >/dev/null && git cat-file -e HEAD~1:proto/buf.yaml 2>/dev/null; then \
		echo "buf breaking against HEAD~1"; \
		$(BUF) breaking proto --against '.git#ref=HEAD~1,subdir=proto'; \
	else echo "buf breaking: no previous commit with proto/, skipped"; fi
	$(VENV)/bin/ruff check services clients/python tests bench scripts
	$(VENV)/bin/ruff format --check services clients/python tests bench scripts
	$(MAKE) --no-print-directory typecheck

typecheck: typecheck-services  ## mypy on the client and the server packages (strictness in pyproject.toml [tool.mypy])

# The server installs as `strata_server` from the folder services/, a mapping mypy cannot follow; a
# link named strata_server in a scratch folder lets it check the package under its real name.
typecheck-services: $(STAMP)  ## mypy on the client and the server package `strata_server` (part of `make lint`)
	mkdir -p $(VENV)/typecheck && ln -sfn "$(CURDIR)/services" $(VENV)/typecheck/strata_server
	MYPYPATH=$(VENV)/typecheck $(VENV)/bin/mypy -p strata -p strata_server

$(DOCS_STAMP): $(STAMP)
	$(PIP) install -q -e .[dev,docs]
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)  ## check the generated pages and README links, then build docs/ into site/ (mkdocs --strict)
	$(PY) scripts/gen_docs.py --check
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

$(DEPLOY_STAMP): deploy/requirements-tools.txt
	test -x $(DEPLOY_VENV)/bin/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install -q --upgrade pip
	$(DEPLOY_VENV)/bin/pip install -q -r deploy/requirements-tools.txt
	# The Compose specification's JSON schema, as the docker-compose wheel ships it (only the file is used).
	rm -rf $(DEPLOY_VENV)/compose-wheel && $(DEPLOY_VENV)/bin/pip download -q --no-deps docker-compose==1.29.2 -d $(DEPLOY_VENV)/compose-wheel
	$(DEPLOY_VENV)/bin/python -c "import glob,zipfile; zipfile.ZipFile(glob.glob('$(DEPLOY_VENV)/compose-wheel/*.whl')[0]).extract('compose/config/compose_spec.json', '$(DEPLOY_VENV)/compose-wheel')"
	touch $(DEPLOY_STAMP)

deploy-tools: $(DEPLOY_STAMP)  ## install the deployment-file validators (kubernetes-validate, checkov, hadolint)

deploy-nginx:  ## install Debian's nginx-light when missing (the router of deploy-check, make cluster and tests/cluster)
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
		{ echo "installing nginx-light for nginx -t"; apt-get update -q && apt-get install -y -q nginx-light; }

deploy-check: $(DEPLOY_STAMP) deploy-nginx  ## render the Kubernetes overlays; validate them, the Dockerfile, compose.yaml, the router
	$(DEPLOY_VENV)/bin/python deploy/check.py

bench: $(STAMP)  ## run the benchmarks; each prints its figure and the ratio to a same-run baseline
	$(PY) -m bench $(BENCH_ARGS)

clean:  ## remove the virtual environment, tools and local data
	rm -rf $(VENV) .tools .strata .pytest_cache
