# gencli: `make demo` sets up and reproduces the figures; `make test` sets up and runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
GENCLI := $(BIN)/gencli
OUT ?= runs
export GENCLI_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: setup demo demo-diffusion demo-lm test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

setup: $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"

demo: setup demo-diffusion demo-lm

demo-diffusion:
	$(GENCLI) diffusion train
	$(GENCLI) diffusion sample --n 10000 --seeds-grid --steps-sweep 1,5,10,50,100,1000 \
		--compare euler/uniform,ddim/uniform,heun/karras,sde/uniform --out-dir $(OUT)/diffusion/sample
	$(GENCLI) diffusion sample --n 10000 --exercise --out-dir $(OUT)/diffusion/sample-exercise
	$(GENCLI) diffusion schedule --out-dir $(OUT)/diffusion/schedule
	$(GENCLI) diffusion trajectory --forward --point 1.5,-1.25 --out-dir $(OUT)/diffusion/forward
	$(GENCLI) diffusion trajectory --out-dir $(OUT)/diffusion/reverse
	$(GENCLI) diffusion determinism --repeats 10 --sampler euler --out-dir $(OUT)/diffusion/determinism-euler
	$(GENCLI) diffusion determinism --repeats 10 --sampler sde --out-dir $(OUT)/diffusion/determinism-sde
	$(GENCLI) diffusion prob --out-dir $(OUT)/diffusion/prob
	$(GENCLI) diffusion invert --target 4,5.5 --out-dir $(OUT)/diffusion/invert
	$(GENCLI) diffusion train --conditional --config configs/diffusion-cond.yaml
	$(GENCLI) diffusion sample --conditional --n 10000 --out-dir $(OUT)/diffusion-cond/sample
	$(GENCLI) diffusion trajectory --conditional --out-dir $(OUT)/diffusion-cond/trajectory
	$(GENCLI) diffusion prob --conditional --out-dir $(OUT)/diffusion-cond/prob

demo-lm:
	$(GENCLI) lm train --corpus alice
	$(GENCLI) lm generate --prompt "Alice said" --max-new-tokens 60 --num-samples 3 --top-k 50
	$(GENCLI) lm invert --target "I am a little squirrel holding a walnut" --out-dir $(OUT)/lm/invert
	$(GENCLI) lm attention --out-dir $(OUT)/lm/attention
	$(GENCLI) lm prob --sample --out-dir $(OUT)/lm/prob

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

lint:
	$(BIN)/ruff check gencli tests bench

bench: setup
	$(BIN)/python bench/diffusion_bench.py
	$(BIN)/python bench/lm_bench.py

clean:
	rm -rf $(OUT)
