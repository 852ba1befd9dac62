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

# torch's CPU build from PyTorch's CPU wheel index; where that index cannot be reached, the default index
# (on Linux the default index's torch is the CUDA build, gigabytes: say TORCH_INDEX= to skip the CPU index)
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
STAMP := $(VENV)/.gencli-installed

setup: $(STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	@if [ -n "$(TORCH_INDEX)" ] && $(BIN)/pip install -q --timeout 20 --retries 1 --index-url "$(TORCH_INDEX)" \
	    torch==2.13.0; then :; else \
	  echo "setup: installing torch from the default index (PyTorch's CPU index skipped or unreachable)" >&2; \
	  $(BIN)/pip install -q torch==2.13.0; fi
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# the full report: trains the checkpoints that are missing under checkpoints/, then every analysis
report: setup
	$(GENCLI) report --out $(OUT)/report
	@echo "report: $(abspath $(OUT)/report/index.html)"

# tiny budgets, 1-2 minutes from nothing on 2 cores; its own checkpoints under $(OUT)/report-quick/checkpoints
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
