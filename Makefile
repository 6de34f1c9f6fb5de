# monitor: early-warning feed monitor. `make` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config.toml

.DEFAULT_GOAL := help
.PHONY: help install run once test browser check lint fmt eval model bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install monitor with its test extras

run: $(STAMP) ## start the daemon with ./config.toml (and its console, when [web] listen is set)
	@listen=$$($(BIN)/python -c 'import sys,tomllib; print(tomllib.load(open(sys.argv[1],"rb")).get("web",{}).get("listen",""))' $(CONFIG)); \
	  if [ -n "$$listen" ]; then echo "console: http://$$listen/ (first user: $(BIN)/monitor user add NAME --role admin -c $(CONFIG))"; fi
	$(BIN)/monitor run -c $(CONFIG)

once: $(STAMP) ## poll every feed once, deliver, exit
	$(BIN)/monitor run --once -c $(CONFIG)

test: $(STAMP) browser ## run the whole test suite (starts its own servers)
	$(BIN)/pytest -q

# the console's browser test drives Debian's chromium; as root it is installed when missing
browser: ## install chromium and its driver for the browser test (as root, when missing)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  [ "$$(id -u)" = 0 ] && { apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }; } || \
	  echo "chromium missing: the browser tests will skip"; }

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check monitor tests bench corpus
	$(BIN)/ruff format --check monitor tests bench corpus

fmt: $(STAMP) ## format and autofix with ruff
	$(BIN)/ruff format monitor tests bench corpus
	$(BIN)/ruff check --fix monitor tests bench corpus

types: $(STAMP) ## mypy (strict) on monitor/
	$(BIN)/mypy

check: lint types test ## lint, types and tests

eval: $(STAMP) ## rules, model and decision on corpus/, source-grouped 5-fold CV (95 % intervals)
	$(BIN)/python corpus/eval.py

model: $(STAMP) ## train the relevance model on corpus/ into monitor/match/data/ (deterministic)
	$(BIN)/python corpus/train.py

bench: $(STAMP) ## run the benchmarks under bench/ (figures go to bench/README.md)
	$(BIN)/python bench/run_all.py

clean: ## remove the virtualenv, caches and local state
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache state build *.egg-info
