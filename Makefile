# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv.
PYTHON ?= python3
CHROMIUM := /usr/bin/chromium
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint bench clean install postgres

# Browser tests drive Debian's Chromium through Playwright (no browser download).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	  || { echo "make test needs Debian's chromium package (apt-get install chromium)"; exit 1; }

# The team-server tests (tests/server) need PostgreSQL on 127.0.0.1:5432: Debian's package is
# installed and started when none answers; prints which PostgreSQL is used.
postgres:
	bash .ci/postgres.sh

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cin-ml demo

lint: $(STAMP)
	$(BIN)/ruff check cin_ml tests benchmarks
	$(BIN)/lint-imports

# Notebooks run top to bottom on a small simulated CSS, in a throw-away workspace.
test: lint $(CHROMIUM) postgres
	$(BIN)/python -m pytest -q --durations=25 tests
	nbwork=$$(mktemp -d) && CIN_ML_NB_STUDENTS=4000 CIN_ML_NB_WORKDIR=$$nbwork \
	  $(BIN)/python -m pytest -q -p no:cacheprovider --nbmake notebooks; rc=$$?; \
	  rm -rf $$nbwork; exit $$rc

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) mlruns reports data .pytest_cache
