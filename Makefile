# Two commands do all the set-up on a machine with only Python 3.10+ and make:
#   make demo   install, generate the demo world, materialise every asset, print a summary
#   make test   install the dev environment, run ruff and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: demo test lint ui bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

demo: $(VENV)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/elv demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check elv_assets elv_assets_tests bench

test: lint
	$(BIN)/python -m pytest -q

ui: $(VENV)/.installed-dev $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/lakehouse.py $(if $(SIZES),--sizes $(SIZES),)
	$(BIN)/python bench/elv.py

clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/serving data/artifacts $(DAGSTER_HOME)
