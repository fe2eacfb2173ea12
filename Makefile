# forkv developer entry points. Every target creates/uses the virtual environment in .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: run test test-container bench fuzz venv clean

$(VENV)/.installed: pyproject.toml $(wildcard setup.py) $(wildcard persistence/*.c)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) -m server $(ARGS)

test: venv
	$(PY) -m pytest -q -m "not container" tests

test-container: venv
	PY=$(PY) docker/test-container.sh

bench: venv
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
