# memdiag: one Makefile for the Python package, the JupyterLab extension and their tests.
#   make lab    create .venv, install, build, open JupyterLab on examples/
#   make test   install whatever is missing, then ruff, prettier, eslint, protocol/examples made again, jest, Galata,
#               the kernel tests (pytest) on
#               every CPython 3.10-3.13 found here (nox, memdiag installed from the wheel) and the wheel alone
#   make test-python       the kernel tests through nox on each CPython (NOXFLAGS=-r reuses their venvs)
#   make test-python-fast  the kernel tests once, in .venv against the source tree
#   make wheel  dist/memdiag-*.whl (with the prebuilt labextension) and the sdist
#   make bench  overhead measurements against the naive triage and peers

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
LABEXT := $(VENV)/share/jupyter/labextensions/memdiag
TS_SOURCES := $(shell find src style schema -type f 2>/dev/null) package.json tsconfig.json

.PHONY: all install build lab lint examples test test-python test-python-fast test-js test-ui browser valgrind wheel test-wheel \
	bench bench-ui clean

all: build

# --- environment -------------------------------------------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The editable install runs the frontend build through the hatch build hook; then the labextension
# folder is linked into the venv so `make build` changes are live without reinstalling.
$(VENV)/.installed: $(BIN)/python pyproject.toml node_modules/.package-lock.json
	rm -rf $(LABEXT)  # never install through an old link into python/memdiag/labextension
	$(BIN)/python -m pip install --quiet -e ".[test,lab,dev]"
	rm -rf $(LABEXT)
	ln -s $(CURDIR)/python/memdiag/labextension $(LABEXT)
	@touch $@

install: $(VENV)/.installed

# --- frontend build ----------------------------------------------------------------------
python/memdiag/labextension/package.json: $(TS_SOURCES) node_modules/.package-lock.json
	npm run build
	@touch $@

build: install python/memdiag/labextension/package.json

# --- run ---------------------------------------------------------------------------------
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: build
	cd examples && $(CURDIR)/$(BIN)/jupyter lab $(ROOT_FLAG) memory-triage.ipynb

# --- tests -------------------------------------------------------------------------------
# Debian's Chromium for Galata (never a Playwright browser download); installed when root.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null; \
	  else \
	    echo "Galata needs /usr/bin/chromium: run 'sudo apt-get install chromium fonts-liberation'"; exit 1; \
	  fi; \
	fi

# Debian's valgrind for the `%%memdiag --valgrind` tests; installed when root, else those tests are skipped.
valgrind:
	@if ! command -v valgrind >/dev/null; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; \
	  else \
	    echo "valgrind is missing: its tests will be skipped ('sudo apt-get install valgrind' to run them)"; \
	  fi; \
	fi

# ruff, then prettier and eslint (with @jupyter/eslint-plugin) on src/ and ui-tests/: package.json `lint:check`;
# `npm run lint` fixes what they can.
lint: install node_modules/.package-lock.json
	$(BIN)/ruff check python benchmarks scripts noxfile.py
	npm run lint:check

# protocol/examples/*.json made again by the current kernel (scripts/make_examples.py), so jest never tests the
# frontend on reports the kernel no longer makes.
examples: install valgrind
	$(BIN)/python scripts/make_examples.py

# python/tests on each CPython 3.10-3.13 found (noxfile.py says where it looks), each in a venv of its own under .nox/
# with memdiag installed from dist/memdiag-*.whl plus the test extra: the tests import the installed package, and
# their kernels run that venv's interpreter. A missing version is skipped with one line, unless MEMDIAG_REQUIRE_PYTHONS
# lists it (.ci/run: "3.11 3.12 3.13"). Arguments for pytest: make test-python NOXFLAGS="-r -- -k verdict".
NOXFLAGS ?=
test-python: wheel valgrind
	$(BIN)/nox -f noxfile.py $(NOXFLAGS)

# The same tests once, with .venv's Python (3.11 by default) and the editable install: the quick loop while editing.
test-python-fast: install valgrind
	$(BIN)/python -m pytest python/tests -q

test-js: node_modules/.package-lock.json
	npx jest

test-ui: build browser
	cd ui-tests && npx playwright test

# Galata runs against the development build of the extension, before `wheel` replaces it with the production build.
test: lint build browser valgrind examples
	npx jest
	cd ui-tests && npx playwright test
	$(MAKE) test-python
	$(MAKE) test-wheel

# --- distribution ------------------------------------------------------------------------
# A production build of the frontend (no source maps) goes into both the sdist and the wheel; built once for
# test-python and test-wheel, again when a source changes.
PY_SOURCES := $(shell find python/memdiag -name '*.py' -not -path '*/labextension/*' 2>/dev/null)
wheel: dist/.built

dist/.built: $(VENV)/.installed $(TS_SOURCES) $(PY_SOURCES) pyproject.toml install.json README.md LICENSE
	$(BIN)/python -m pip install --quiet build
	npm run build:prod
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	@touch $@

# The wheel alone, in a fresh venv with JupyterLab: the extension is prebuilt and enabled, the kernel side imports.
WHEEL_VENV := $(CURDIR)/build/wheel-venv
test-wheel: wheel
	rm -rf $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install --quiet dist/memdiag-*.whl "jupyterlab==4.6.4" ipykernel
	$(WHEEL_VENV)/bin/jupyter labextension list 2>&1 | grep -E "memdiag v[0-9.]+ .*enabled.*OK"
	cd /tmp && $(WHEEL_VENV)/bin/python -c "import memdiag, IPython; print('memdiag', memdiag.__version__, 'imports')"

# The `bench` extra's requirements, read from pyproject.toml: memdiag itself is already installed (editable) by `install`,
# and rebuilding it here would run the frontend build hook again.
bench: install
	$(BIN)/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['bench'], sep='\n')" > $(VENV)/bench-requirements.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/bench-requirements.txt
	$(BIN)/python benchmarks/run.py

# Browser measurements: sidebar updates with long histories, scrolling decorated notebooks.
bench-ui: build browser
	cd ui-tests && npx playwright test -c playwright.bench.config.ts sidebar

clean:
	rm -rf lib tsconfig.tsbuildinfo python/memdiag/labextension dist ui-tests/test-results .nox

# Issue 7: 1,000 cells on a 5M-object heap through a real kernel (slow; not part of `make test`).
.PHONY: stress
stress: build browser
	$(BIN)/python python/tests/stress_kernel.py
	cd ui-tests && npx playwright test -c playwright.bench.config.ts stress
