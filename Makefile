# SendGuard: `make run` tries the whole flow locally; `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench deps system-deps clean deploy

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

deps: $(STAMP)

# Debian packages the real-parts tests need; installed only when missing and root.
system-deps:
	@bash scripts/system-deps.sh

run: $(STAMP)
	$(BIN)/sendguard dev

test: $(STAMP) system-deps
	$(BIN)/ruff check service tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

# Every benchmarks/bench_*.py, then one table of measured vs target; non-zero at the end
# when a target was missed (benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

deploy:
	bash deploy/deploy.sh --project "$(PROJECT)" --region "$(REGION)" $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
