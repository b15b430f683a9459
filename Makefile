# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint bench clean install

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
test: lint
	$(BIN)/python -m pytest -q tests
	nbwork=$$(mktemp -d) && CIN_ML_NB_STUDENTS=4000 CIN_ML_NB_WORKDIR=$$nbwork \
	  $(BIN)/python -m pytest -q -p no:cacheprovider --nbmake notebooks; rc=$$?; \
	  rm -rf $$nbwork; exit $$rc

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) mlruns reports data .pytest_cache
