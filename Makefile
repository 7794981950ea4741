# Two entry points on a fresh machine: `make run` (demo site) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run test test-outside lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[site,test]'
	touch $@

install: $(BIN)/.installed

run: install
	PORT=$(PORT) $(BIN)/python manage.py rundemo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint test-outside
	$(BIN)/pytest

# The app as another project gets it: the built wheel in a fresh venv, without the demo site.
test-outside:
	PYTHON=$(PYTHON) bash tests/outside/run.sh

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache test-output
