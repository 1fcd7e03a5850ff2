# Two commands do all the set-up on a machine with only Python 3.10+ and make:
#   make demo   install, generate the demo world, materialise every asset, print a summary
#   make test   install the dev environment, run ruff and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: demo test lint browser ui dashboard bench clean

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

# The bundled demo a hosted dashboard opens on (dashboard/bundle.py): the size-s demo world run in a throwaway
# folder, then its snapshot and serving model copied to dashboard/demo_bundle (about 3 MB). Rebuild it when the
# snapshot's tables or the model change, and commit it.
.PHONY: demo-bundle
demo-bundle: $(VENV)/.installed
	$(BIN)/python -m dashboard.bundle

# ruff, then `dg check defs`: the code location loads and every definition is valid, as the deployment loads it.
lint: $(VENV)/.installed-dev $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/ruff check elv_assets elv_assets_tests bench dashboard
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs

# The browser test (elv_assets_tests/test_browser.py) drives Debian's Chromium through chromedriver.
# Installed only when missing, so this is silent on a machine that has them; needs root or sudo and apt-get.
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    echo "installing chromium and chromium-driver (apt-get) for the browser test"; \
	    $$sudo apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      chromium chromium-driver >/dev/null || { echo "chromium could not be installed" >&2; exit 1; }; \
	  else \
	    echo "no apt-get here: install Chromium and chromedriver by hand, or the browser test skips"; \
	  fi; \
	fi

# The PostgreSQL test (elv_assets_tests/test_postgres.py) starts Debian's PostgreSQL server itself, as a
# non-root user, on a free port. Installed only when missing; needs root or sudo and apt-get. PostgreSQL refuses
# to run as root: under root the test runs it as the package's `postgres` user, or `elvpg`, made here if neither exists.
.PHONY: postgres serve
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    echo "installing postgresql (apt-get) for the PostgreSQL instance-storage test"; \
	    $$sudo apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      postgresql >/dev/null || { echo "postgresql could not be installed" >&2; exit 1; }; \
	  else \
	    echo "no apt-get here: install the PostgreSQL server by hand, or the PostgreSQL test skips"; \
	  fi; \
	fi
	@if [ "$$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1 && ! id -u elvpg >/dev/null 2>&1; then \
	  useradd --system --no-create-home --shell /usr/sbin/nologin elvpg; \
	fi

test: lint browser postgres
	$(BIN)/python -m pytest -q

ui: $(VENV)/.installed-dev $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

# The marketer dashboard on http://localhost:8501: reads the serving snapshot (ELV_SERVING_DIR) only.
# `python -m dashboard.serve` is `streamlit run dashboard/app.py` with the first page's imports done before the
# server listens (dashboard/serve.py), so the first visitor does not wait for them.
dashboard: $(VENV)/.installed
	$(BIN)/python -m dashboard.serve --server.port 8501 --server.headless true

# Dagster (webserver + daemon: schedules, sensors, the run queue) on :3000 and the dashboard on :8501,
# without Docker. Dagster runs in the foreground (a background job would ignore Ctrl-C); Ctrl-C stops it
# gracefully and the trap then stops the dashboard.
serve: $(VENV)/.installed-dev $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/python -m dashboard.serve --server.port 8501 --server.address 127.0.0.1 \
	  --server.headless true & dashboard=$$!; \
	trap 'kill $$dashboard 2>/dev/null' EXIT INT TERM; \
	echo "Dagster UI http://localhost:3000   dashboard http://localhost:8501   (Ctrl-C stops both)"; \
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: $(VENV)/.installed-dev browser
	$(BIN)/python bench/lakehouse.py $(if $(SIZES),--sizes $(SIZES),)
	$(BIN)/python bench/elv.py
	$(BIN)/python bench/exports.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/pacing.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/graph.py $(if $(filter m l,$(SIZES)),--sizes $(filter m l,$(SIZES)),)

clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/serving data/artifacts $(DAGSTER_HOME)
