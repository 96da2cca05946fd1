# RNN Workbook. `make lab` opens the workbook, `make test` runs the tests; both create .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The exact torch pin, read from pyproject.toml so that there is one source for it.
TORCH_PIN := $(shell grep -o '"torch==[^"]*"' pyproject.toml | tr -d '"')
KERNEL := rnn-workbook
COURSE := build/course
EARLIER ?= reference
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
JUPYTER_CONFIG := $(CURDIR)/jupyter-config
PDF_PACKAGES := texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc fonts-dejavu-core fonts-dejavu-extra

# `make pdf` stops at once, with one message, when XeLaTeX or pandoc is missing.
ifneq ($(filter pdf,$(MAKECMDGOALS)),)
PDF_MISSING := $(strip $(foreach tool,xelatex pandoc,$(if $(shell command -v $(tool)),,$(tool))))
ifneq ($(PDF_MISSING),)
$(error make pdf needs $(PDF_MISSING) (not found on PATH): sudo apt-get install $(PDF_PACKAGES))
endif
endif

.PHONY: lab test pdf bench sync figures student grade clean distclean venv

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

# jupyter-config/ (on JUPYTER_CONFIG_PATH) gives the server the workbook's PDF export settings and
# switches off the Jupyter news prompt and nbgrader's extensions. `make lab NBGRADER=1` (a teacher)
# puts jupyter-config/nbgrader/ first, which switches nbgrader's extensions on, and opens the course
# directory of `make student` (Formgrader, Create Assignment toolbar) instead of notebooks/.
# (nbgrader reads nbgrader_config.py from the server's working directory.)
TEACHER := $(filter 1 true yes,$(NBGRADER))
LAB_CONFIG := $(if $(TEACHER),$(JUPYTER_CONFIG)/nbgrader:)$(JUPYTER_CONFIG)
lab: $(STAMP)
	$(if $(TEACHER),@test -f $(COURSE)/nbgrader_config.py || { echo "make lab NBGRADER=1 opens $(COURSE): run make student first" >&2; exit 2; })
	cd $(if $(TEACHER),$(COURSE),.) && JUPYTER_CONFIG_PATH="$(LAB_CONFIG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	  $(CURDIR)/$(VENV)/bin/jupyter lab --ip=127.0.0.1 --ServerApp.root_dir=$(if $(TEACHER),.,notebooks) $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP)
	$(PY) -m pytest

# make pdf: run every notebook (full mode; QUICK=1 for quick mode), export each to build/pdf/.
# make pdf NOTEBOOK=notebooks/02_elman_rnn.ipynb: export that notebook as saved, without running it.
# AUTHOR="Ada Lovelace" (several: "Ada Lovelace; Alan Turing") goes into the title block and the
# file name: build/pdf/Lovelace-02_elman_rnn.pdf.
pdf: $(STAMP)
	$(PY) -m helpers.export --out build/pdf $(if $(AUTHOR),--author "$(AUTHOR)") \
	  $(if $(NOTEBOOK),"$(NOTEBOOK)",--run $(if $(filter 1 true yes,$(QUICK)),--quick) $(NOTEBOOKS))

bench: $(STAMP)
	$(PY) benchmarks/run.py

sync: $(STAMP)
	$(PY) -m helpers.sync $(NOTEBOOKS)

# Full mode: every notebook executed top to bottom; writes figures/ (executed copies go to build/).
# Runs found in the run cache or in the committed results/ are reused; RETRAIN=1 trains every run again
# (and rewrites results/). WORKBOOK_LONG_SWEEP=1: notebook 05 also trains its long palindrome lengths
# and its RNN with the LSTM's parameter count.
figures: $(STAMP)
	$(if $(filter 1 true yes,$(RETRAIN)),WORKBOOK_RETRAIN=1) WORKBOOK_LONG_SWEEP=1 \
		$(PY) -m helpers.run_notebooks --out build/executed $(NOTEBOOKS)

# The course edition (nbgrader): `make student` writes the course directory build/course/ and releases
# one assignment per notebook to build/course/release/<assignment>/ (EARLIER=reference|own: what later
# assignments use of earlier exercises, see README "For teachers"), then scans it for solution leaks.
student: $(STAMP)
	$(PY) -m helpers.course --course $(COURSE) student --earlier $(EARLIER)

# make grade SUBMISSIONS=dir: autograde dir/<student>/<assignment>/<assignment>.ipynb into
# build/course/grades.csv and per-student feedback HTML in build/course/feedback/.
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir (dir/<student>/<assignment>/<assignment>.ipynb)" >&2; exit 2; }
	$(PY) -m helpers.course --course $(COURSE) grade "$(SUBMISSIONS)"

clean:
	rm -rf build .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
