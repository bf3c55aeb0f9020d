# SendGuard: `make run` tries the whole flow locally; `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench deps system-deps clean deploy lock audit \
	i18n-extract i18n-update i18n-compile

# LOCKED=1 installs the exact, hash-checked versions of requirements-test.lock (CI, once
# the lock matches pyproject.toml: `make lock`); otherwise the ranges of pyproject.toml.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	if [ -n "$(LOCKED)" ]; then \
	  $(BIN)/pip install -q --require-hashes --no-deps -r requirements-test.lock && \
	  $(BIN)/pip install -q --no-deps -e . && $(BIN)/pip check; \
	else $(BIN)/pip install -q -e '.[test]'; fi
	touch $(STAMP)

deps: $(STAMP)

# Debian packages the real-parts tests need; installed only when missing and root.
system-deps:
	@bash scripts/system-deps.sh

run: $(STAMP)
	$(BIN)/sendguard dev

# The suite on PYTEST_WORKERS pytest-xdist workers: each worker is a process with its own
# session fixtures (PostgreSQL cluster, SMTP server, Gmail emulator, free ports, tmp_path).
# worksteal: contiguous blocks per worker (module fixtures made once), idle workers take
# over the rest (the suite's test times range from 1 ms to 10 s). PYTEST_WORKERS=0: one
# process, as plain `pytest` runs.
PYTEST_WORKERS ?= 2
test: $(STAMP) system-deps
	$(BIN)/ruff check service tests benchmarks deploy
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist worksteal

# Every benchmarks/bench_*.py, then one table of measured vs target; non-zero at the end
# when a target was missed (benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The lock files: every runtime (and test) dependency pinned with its hashes, for the
# container (requirements.lock) and CI (requirements-test.lock), resolved from PyPI for the
# image's platform (CPython 3.11, Linux x86_64). Re-run after changing dependencies in
# pyproject.toml; pins still allowed are kept, LOCK_ARGS=--upgrade takes the newest.
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	--index-url https://pypi.org/simple --custom-compile-command 'make lock' $(LOCK_ARGS)
lock: $(STAMP)
	$(BIN)/pip install -q 'uv>=0.5'
	$(BIN)/uv pip compile -q pyproject.toml $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile -q pyproject.toml --extra test $(LOCK_FLAGS) -o requirements-test.lock

# Known advisories in the locked versions. Needs PyPI's advisory data (pip-audit's default
# service; --strict: a package it could not look up is a failure, never "no known
# vulnerabilities"). A report to read, not part of `make test`.
audit: $(STAMP)
	$(BIN)/pip install -q 'pip-audit>=2.7'
	status=0; for lock in requirements.lock requirements-test.lock; do \
	  echo "== $$lock"; \
	  $(BIN)/pip-audit --strict --progress-spinner off --disable-pip -r $$lock \
	    || status=1; \
	done; exit $$status

# User-facing texts: gettext catalogues service/locale/{en,ja}/LC_MESSAGES/sendguard.po
# (symbolic ids; the English catalogue holds the source text). The compiled .mo files
# are committed, so a fresh checkout, `pip install` and the image need no build step;
# tests/test_i18n.py fails when a .mo is older than its .po. After editing a .po:
# `make i18n-compile`. `make i18n-update` adds ids new in the code (babel.cfg) to both
# catalogues, empty, for a translator to fill (the tests refuse empty entries).
I18N_DIR := service/locale
I18N_POT := var/i18n/sendguard.pot
I18N_KEYWORDS := --no-default-keywords -k _ -k N_ -k gettext -k ngettext:1,2 -k N_plural:1,2 \
	-k Text -k InvalidValue
i18n-extract: $(STAMP)
	mkdir -p $(dir $(I18N_POT))
	$(BIN)/pybabel extract -F babel.cfg $(I18N_KEYWORDS) --no-location --sort-output \
	  --project SendGuard --version 0.1.0 -o $(I18N_POT) .
i18n-update: i18n-extract
	$(BIN)/pybabel update -i $(I18N_POT) -d $(I18N_DIR) -D sendguard --no-fuzzy-matching
i18n-compile: $(STAMP)
	$(BIN)/pybabel compile -d $(I18N_DIR) -D sendguard --statistics

deploy:
	bash deploy/deploy.sh --project "$(PROJECT)" --region "$(REGION)" $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
