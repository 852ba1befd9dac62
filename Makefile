# gencli: `make report` sets up and writes the whole exercise as one page; `make test` sets up and runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
GENCLI := $(BIN)/gencli
OUT ?= runs
export GENCLI_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: setup report report-quick demo test test-fast lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

setup: $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"

# the full report: trains the checkpoints that are missing under checkpoints/, then every analysis
report: setup
	$(GENCLI) report --out $(OUT)/report
	@echo "report: $(abspath $(OUT)/report/index.html)"

# tiny budgets, about a minute from nothing; its own checkpoints under $(OUT)/report-quick/checkpoints
report-quick: setup
	$(GENCLI) report --quick --out $(OUT)/report-quick
	@echo "report: $(abspath $(OUT)/report-quick/index.html)"

demo: report

test-fast: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not slow" tests

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

lint: setup
	$(BIN)/ruff check gencli tests bench
	$(BIN)/ruff format --check gencli tests bench

bench: setup
	$(BIN)/python bench/diffusion_bench.py
	$(BIN)/python bench/lm_bench.py
	$(BIN)/python bench/report_bench.py

clean:
	rm -rf $(OUT)
