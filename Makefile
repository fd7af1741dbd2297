# docgen's two commands: `make docs` and `make test`. Both set up .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
# bench/nbdev.py: an nbdev project, the Python with nbdev installed, and the notebooks
# that need the network (see the corpus's README).
NBDEV_CORPUS ?= ../shared/corpora/nbdev
NBDEV_PY ?= $(PY)
NBDEV_EXCLUDE ?= $(foreach nb,api/01_config api/05_doclinks api/18_release api/19_diff \
	tutorials/git_friendly_jupyter,--exclude $(nb).ipynb)

.PHONY: docs test lint linkcheck serve bench clean venv browser

venv: $(STAMP)

# torch is pinned and installed first: an unpinned torch would make pip fetch a multi-GB CUDA build.
$(STAMP): pyproject.toml constraints.txt examples/augment/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[test,examples]' -e examples/augment
	touch $(STAMP)

# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline).
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -q && apt-get install -y -q chromium) >/dev/null; \
	  else echo "note: $(CHROMIUM) is missing; browser tests will be skipped (apt-get install chromium)"; fi; }

docs: $(STAMP)
	$(PY) -m docgen build --strict

test: $(STAMP) browser lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check docgen tests bench examples
	$(PY) -m mypy docgen
	$(PY) -m mypy --python-version 3.10 docgen

linkcheck: $(STAMP)
	$(PY) -m docgen check site

serve: $(STAMP)
	$(PY) -m docgen serve

# Every script under bench/. render.py's default corpus is the executed notebooks that
# `make docs` leaves in site/, so the docs are built (or found up to date in the cache) first.
bench: $(STAMP) browser docs
	$(PY) bench/render.py
	$(PY) bench/render.py --synthetic
	$(PY) bench/links.py
	$(PY) bench/check.py
	$(PY) bench/search.py
	$(PY) bench/incremental.py
	$(PY) bench/exec.py
	$(PY) bench/exec_dask.py
	$(PY) bench/exec_cells.py
	$(PY) bench/serve.py
	@if [ -d $(NBDEV_CORPUS) ]; then $(NBDEV_PY) bench/nbdev.py $(NBDEV_CORPUS) $(NBDEV_EXCLUDE); \
	else echo "bench/nbdev.py: no nbdev project at $(NBDEV_CORPUS) (set NBDEV_CORPUS)"; fi

clean:
	rm -rf site .docgen_cache
