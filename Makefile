# Two commands: `make report` and `make test` (see README). Each sets up .venv first if needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

AS_OF ?= 2026-09-30
WEEK_AS_OF ?= 2026-09-27
DEMO := data/demo
STORE := data/feedback.duckdb
REPORTS := reports
SCALE ?= S

.PHONY: setup report demo ingest test test-fast lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (feedback_lib)" >/dev/null
	touch $(STAMP)

$(DEMO)/accounts.csv: | $(STAMP)
	$(BIN)/feedback-lib demo --out $(DEMO) --seed 42 --accounts 2000

demo: $(DEMO)/accounts.csv

ingest: $(DEMO)/accounts.csv
	$(BIN)/feedback-lib ingest $(DEMO) --db $(STORE)

report: ingest
	$(BIN)/feedback-lib report weekly --as-of $(WEEK_AS_OF) --source $(STORE) --out $(REPORTS)
	$(BIN)/feedback-lib report quarterly --as-of $(AS_OF) --source $(STORE) --out $(REPORTS)
	$(BIN)/feedback-lib report valuation --as-of $(AS_OF) --source $(STORE) --out $(REPORTS)
	@echo "reports written under $(REPORTS)/"

lint: $(STAMP)
	$(BIN)/ruff check feedback_lib tests bench
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 --dist loadfile -q
	$(BIN)/python -m pytest --nbval-lax -q -p no:cacheprovider --no-header notebooks/reports

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m bench --scale $(SCALE)

clean:
	rm -rf $(VENV) $(DEMO) $(STORE) build *.egg-info
