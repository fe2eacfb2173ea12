# forkv developer entry points. Every target creates/uses the virtual environment in .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: run test bench fuzz venv clean

$(VENV)/.installed: pyproject.toml $(wildcard setup.py) $(wildcard persistence/*.c)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) -m server $(ARGS)

test: venv
	$(PY) -m pytest -q tests

bench: venv
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
