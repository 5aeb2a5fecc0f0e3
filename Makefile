# The two commands: `make demo` runs zoo's main job, `make test` runs the test suite.
# Both create a local virtual environment in .venv and install zoo into it first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.zoo-installed

.PHONY: demo test lint format install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "zoo needs Python >= 3.10, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zoo demo

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check zoo tests benchmarks scripts
	$(BIN)/ruff format --check zoo tests benchmarks scripts

format: $(STAMP)
	$(BIN)/ruff format zoo tests benchmarks scripts
	$(BIN)/ruff check --fix zoo tests benchmarks scripts

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
