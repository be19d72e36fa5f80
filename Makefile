# agentkit — every target creates .venv when it is missing (idempotent).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS := all

.PHONY: venv demo test test-fast lint format bench bench-quick app clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	@touch $(STAMP)

demo: venv
	$(PY) examples/demo.py

test: venv
	$(PY) -m pytest -q

test-fast: venv
	$(PY) -m pytest -q -m "not slow and not integration"

lint: venv
	$(PY) -m ruff check agentkit tests examples benchmarks
	$(PY) -m ruff format --check agentkit tests examples benchmarks
	$(PY) -m mypy agentkit

format: venv
	$(PY) -m ruff check --fix agentkit tests examples benchmarks
	$(PY) -m ruff format agentkit tests examples benchmarks

bench: venv
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

bench-quick: venv
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

app: venv
	$(VENV)/bin/agentkit app $(if $(wildcard .cache/demo-index/index.json),--index .cache/demo-index --runs .cache/demo-runs)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
