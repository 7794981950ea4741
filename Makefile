# Two entry points on a fresh machine: `make run` (demo site) and `make test`.
# `make test-django6` runs the suite again on Python 3.12 with the newest Django 6.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

# Python 3.12 for the Django 6 leg: pyenv's newest 3.12, unless PYTHON312 is given.
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null)
PYTHON312 ?= $(lastword $(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.12*/bin/python /root/.pyenv/versions/3.12*/bin/python)))
VENV_DJANGO6 := .venv-django6
BIN_DJANGO6 := $(VENV_DJANGO6)/bin

.PHONY: install run test test-outside test-django6 lint typecheck clean

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

# mypy, strict, on the eventstore package (configured in pyproject.toml).
typecheck: install
	$(BIN)/mypy

test: lint typecheck test-outside
	$(BIN)/pytest

# The app as another project gets it: the built wheel in a fresh venv, without the demo site.
test-outside:
	PYTHON=$(PYTHON) bash tests/outside/run.sh

$(BIN_DJANGO6)/.installed: pyproject.toml
	@if [ -z "$(PYTHON312)" ] || [ ! -x "$(PYTHON312)" ]; then \
		echo "test-django6 needs Python 3.12, and PYTHON312='$(PYTHON312)' is no executable:" \
			"none under \$$(pyenv root)/versions/3.12* or /root/.pyenv/versions/3.12*;" \
			"install Python 3.12 or set PYTHON312=/path/to/python3.12" >&2; \
		exit 1; \
	fi
	$(PYTHON312) -m venv $(VENV_DJANGO6)
	$(BIN_DJANGO6)/python -m pip install --quiet --upgrade pip
	$(BIN_DJANGO6)/python -m pip install --quiet -e '.[site,test]' 'django>=6.0,<7'
	touch $@

test-django6: $(BIN_DJANGO6)/.installed
	$(BIN_DJANGO6)/python -m django --version
	$(BIN_DJANGO6)/pytest
	PYTHON=$(PYTHON312) bash tests/outside/run.sh  # the wheel's newest requirements: Django 6

clean:
	rm -rf $(VENV) $(VENV_DJANGO6) db.sqlite3 .pytest_cache .mypy_cache test-output
