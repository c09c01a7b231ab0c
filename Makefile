# Agendum: `make serve` runs the demo server, `make test` runs the tests, `make lint` checks types.
# Each target creates the virtual environment and installs everything it needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install serve test lint schema bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/agendum serve --demo

test: $(STAMP)
	$(BIN)/pytest -q -n auto --maxprocesses 4

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/agendum schema > schema.graphql

bench: $(STAMP)
	$(BIN)/python bench/graphql.py
	$(BIN)/python bench/slots.py
	$(BIN)/python bench/slot_cost.py
	$(BIN)/python bench/outbox.py

clean:
	rm -rf $(VENV) agendum.sqlite3 agendum.sqlite3-wal agendum.sqlite3-shm
