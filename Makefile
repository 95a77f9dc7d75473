# The two commands a user needs: `make demo` and `make test`. Everything they need is installed here,
# from scratch, on a fresh machine: the venv (Debian's python3-venv if ensurepip is missing), the pinned Python
# packages, Debian's redis-server and chromium, and the pinned MCP Inspector CLI from npm.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INSPECTOR_DIR := .tools/inspector
INSPECTOR_VERSION := 0.15.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all install test lint typecheck pytest demo demo-dashboard bench slow redis-server inspector chromium clean

all: test

$(STAMP): pyproject.toml
	@test -x $(BIN)/pip || $(PYTHON) -m venv --clear $(VENV) 2>/dev/null || { \
	  echo "installing python3-venv from Debian packages (ensurepip is missing)" >&2; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null \
	  && $(PYTHON) -m venv --clear $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# redis-server backs the shared-feed tests (issue: scale out through Redis).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server from Debian packages" >&2; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server >/dev/null; }

# Debian's chromium for the browser tests: Playwright drives it (Playwright's own browser download cannot reach its servers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium from Debian packages" >&2; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The real MCP Inspector CLI, pinned (0.15.0 is the newest that runs on Node 20).
inspector: $(INSPECTOR_DIR)/node_modules/.bin/mcp-inspector
$(INSPECTOR_DIR)/node_modules/.bin/mcp-inspector:
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	mkdir -p $(INSPECTOR_DIR)
	cd $(INSPECTOR_DIR) && npm install --silent --no-audit --no-fund @modelcontextprotocol/inspector@$(INSPECTOR_VERSION) >/dev/null

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) redis-server inspector chromium
	$(BIN)/pytest -m "not slow" -q

test: lint typecheck pytest

# Live-venue tests: need internet. Not part of `make test`.
slow: $(STAMP)
	$(BIN)/pytest -m slow -q

demo: $(STAMP)
	$(BIN)/python -m polymarket_realtime.demo

# The demo with the control room beside it (POLYMARKET_MCP_DASHBOARD): open the printed link; Enter ends it.
demo-dashboard: $(STAMP)
	$(BIN)/python -m polymarket_realtime.demo --dashboard

bench: $(STAMP) redis-server
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache
