# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Both create .venv, install procflow with its dev tools and make sure Graphviz's
# `dot` is installed (apt-get when root, otherwise a precise message). The dask
# extra is installed too, so the test of `--scheduler` runs against a real cluster.
# The dev and bench tools are PEP 735 dependency groups in pyproject.toml, which
# pip installs from 25.1 on (`--group`): pip is upgraded first for that reason.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup graphviz demo test lint-code bench clean pm4py-check

setup: $(STAMP) graphviz chromium

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install --quiet -e '.[dask]' --group dev
	touch $(STAMP)

graphviz:
	@bash scripts/ensure-graphviz.sh

chromium:
	@bash scripts/ensure-chromium.sh

demo: setup
	$(BIN)/procflow lint processes/
	$(BIN)/procflow diagram processes/ -o diagrams/ -f svg
	$(BIN)/procflow diagram processes/ -o diagrams/ -f png
	$(BIN)/procflow analyze processes/customer-service.yaml
	$(BIN)/procflow simulate processes/customer-service.yaml --cases 5000 --runs 5 --seed 1
	$(BIN)/procflow compare processes/customer-service.yaml --change changes/hire-support-agent.yaml --cases 5000 --runs 5 --seed 1

test: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

bench: setup $(VENV)/prosimos/.installed
	$(BIN)/python -m pip install --quiet --group bench
	$(BIN)/python benchmarks/lint_bench.py
	$(BIN)/python benchmarks/analyze_bench.py
	$(BIN)/python benchmarks/diagram_bench.py
	$(BIN)/python benchmarks/sim_bench.py
	$(BIN)/python benchmarks/log_bench.py

# Prosimos (a peer in sim_bench.py) pins pandas<3, so it gets a venv of its own.
$(VENV)/prosimos/.installed: benchmarks/peers/requirements-prosimos.txt
	$(PYTHON) -m venv $(VENV)/prosimos
	$(VENV)/prosimos/bin/python -m pip install --quiet -r benchmarks/peers/requirements-prosimos.txt
	touch $@

# pm4py (AGPL-3.0, never a dependency) in a venv of its own reads procflow's simulated XES
# and pm4py-column CSV logs without any mapping (tests/interop/pm4py_check.py). Not in `test`.
PM4PY_VENV := .venv-pm4py
pm4py-check: setup $(PM4PY_VENV)/.installed
	$(PM4PY_VENV)/bin/python tests/interop/pm4py_check.py --procflow $(BIN)/procflow

$(PM4PY_VENV)/.installed: tests/interop/requirements-pm4py.txt
	$(PYTHON) -m venv $(PM4PY_VENV)
	$(PM4PY_VENV)/bin/python -m pip install --quiet -r tests/interop/requirements-pm4py.txt
	touch $@

clean:
	rm -rf $(VENV) $(PM4PY_VENV) .pytest_cache .mypy_cache .ruff_cache build dist
