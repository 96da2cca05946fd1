# RNN Workbook. `make lab` opens the workbook, `make test` runs the tests; both create .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The exact torch pin, read from pyproject.toml so that there is one source for it.
TORCH_PIN := $(shell grep -o '"torch==[^"]*"' pyproject.toml | tr -d '"')
KERNEL := rnn-workbook
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))

.PHONY: lab test bench sync figures clean distclean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV) (first run: a few minutes; later runs reuse it)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_PIN)"
	$(PY) -m pip install --quiet -e .
	@if $(PY) -m pip list --format=freeze | grep -i '^nvidia-'; then \
	  echo "error: CUDA packages (nvidia-*) were installed: a non-CPU torch slipped in." >&2; \
	  echo "Remove $(VENV) and install $(TORCH_PIN) from the CPU wheel." >&2; exit 1; fi
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python 3 (RNN Workbook)" >/dev/null
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --ServerApp.root_dir=notebooks

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run.py

sync: $(STAMP)
	$(PY) -m helpers.sync $(NOTEBOOKS)

# Full mode: every notebook executed top to bottom; writes figures/ (executed copies go to build/).
figures: $(STAMP)
	$(PY) -m helpers.run_notebooks --out build/executed $(NOTEBOOKS)

clean:
	rm -rf build .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
