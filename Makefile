# Two commands: `make demo` and `make test`. Both set up .venv from pinned versions.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ifeq ($(shell uname -s),Darwin)
TORCH_SPEC ?= torch==2.13.0
else
TORCH_SPEC ?= torch==2.13.0+cpu
endif
# e.g. make TORCH_INDEX=https://download.pytorch.org/whl/cpu (where no local wheel is found)
TORCH_INDEX ?=
DEMO ?= runs/demo

.PHONY: setup demo test lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/sup data kenosha --out $(DEMO)/kenosha.txt --lines 20000 --force
	$(BIN)/sup prepare $(DEMO)/kenosha.txt --tokenizer char --out $(DEMO)/data --force
	$(BIN)/sup train configs/kenosha.toml --data $(DEMO)/data --out $(DEMO)/run --force
	$(BIN)/sup eval $(DEMO)/run --text $(DEMO)/data/val.txt
	$(BIN)/sup sample $(DEMO)/run --max-new-tokens 300 --num-samples 2 --seed 7

test: setup
	$(BIN)/python -m pytest -q; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: setup
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: setup
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/shakespeare_time_to_quality.py
	$(BIN)/python benchmarks/sample_kv_cache.py

clean:
	rm -rf $(VENV) runs .pytest_cache
