# Quick start: `make run` (server on 6379) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint oracle bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/snakedis

# Debian's redis-server is the test oracle; install it when missing and we are root.
oracle:
	@if ! command -v redis-server >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null; \
		else \
			echo "redis-server is missing: apt-get install redis-server redis-tools"; \
		fi; \
	fi

test: install oracle
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check snakedis tests bench tools

docs: install
	$(BIN)/python tools/gen_commands_md.py > docs/COMMANDS.md

bench: install oracle
	$(BIN)/python bench/compare.py

clean:
	rm -rf $(VENV) build *.egg-info
