# wasteroute developer tasks. CI runs `make test` (see .ci/run).
#
#   make install   create .venv (if absent) and install the project with its dev tools
#   make run       install, print the demo tenant's API key and its planner's and approver's keys
#                  (docs/security.md), then serve
#                  the API on WASTEROUTE_HOST:WASTEROUTE_PORT
#   make lint      install, then ruff, mypy and lint-imports (the import contracts in pyproject.toml)
#   make system    install the Debian packages the tests drive (Chromium, PostgreSQL)
#   make quick     install, then the tests that are neither `spawns`, `slow` nor `serial`, in
#                  parallel (pytest-xdist, a worker per core), the last run's failures first,
#                  stopping at the first failure: the developer's loop (docs/performance.md)
#   make test      install, then ruff, mypy, the Debian packages, and the whole suite: every
#                  test but the `serial` ones in parallel, then those alone (what CI runs)
#
# The markers are declared in pyproject.toml; tests/conftest.py adds `spawns` to every test
# using a fixture that starts a server, browser, database or cluster.
#
# The install is remembered by a stamp file inside the venv: it runs again only when
# pyproject.toml changes or the venv is new.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.wasteroute-installed

.PHONY: install system run lint quick test

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --editable '.[dev]'
	touch $@

# Debian packages the tests drive for real (Chromium, PostgreSQL); idempotent.
system:
	bash scripts/install_system_packages.sh

run: install
	$(BIN)/wasteroute keys demo
	$(BIN)/wasteroute users demo
	$(BIN)/wasteroute serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

PYTEST := $(BIN)/python -m pytest
# A worker per core, handed tests one by one (`--dist load`: the grouping modes key tests by node
# id, and schemathesis gives its 22 operations one id, so they would run only one of them).
PARALLEL := -n auto --dist load

quick: install
	$(PYTEST) $(PARALLEL) -m "not spawns and not slow and not serial" --failed-first --maxfail=1 -q

# Two passes: all but `serial` in parallel, then `serial` alone (both run even if the first
# fails). pytest exits 5 when it collects no tests: an empty serial pass is fine, but an
# empty suite (both passes empty) is a failure, and says so.
test: lint system
	@parallel=0; serial=0; \
	$(PYTEST) $(PARALLEL) -m "not serial" || parallel=$$?; \
	$(PYTEST) -m serial || serial=$$?; \
	if [ $$parallel -eq 5 ] && [ $$serial -eq 5 ]; then \
		echo "make test: pytest collected no tests; failing" >&2; exit 5; fi; \
	if [ $$parallel -ne 0 ] && [ $$parallel -ne 5 ]; then exit $$parallel; fi; \
	if [ $$serial -ne 0 ] && [ $$serial -ne 5 ]; then exit $$serial; fi
