# wasteroute developer tasks. CI runs `make test` (see .ci/run).
#
#   make install   create .venv (if absent) and install the project with its dev tools
#   make run       install, print the demo tenant's API key (docs/security.md), then serve
#                  the API on WASTEROUTE_HOST:WASTEROUTE_PORT
#   make lint      install, then ruff, mypy and lint-imports (the import contracts in pyproject.toml)
#   make system    install the Debian packages the tests drive (Chromium, PostgreSQL)
#   make test      install, then ruff, mypy, the Debian packages, and pytest
#
# The install is remembered by a stamp file inside the venv: it runs again only when
# pyproject.toml changes or the venv is new.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.wasteroute-installed

.PHONY: install system run lint test

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
	$(BIN)/wasteroute serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits 5 when it collects no tests: that is a failure too, and says so.
test: lint system
	@status=0; $(BIN)/python -m pytest || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; failing" >&2; fi; \
	exit $$status
