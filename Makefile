# forkv developer entry points. Every target creates/uses the virtual environment in .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: run test test-tools test-container bench fuzz venv clean

$(VENV)/.installed: pyproject.toml $(wildcard setup.py) $(wildcard persistence/*.c) $(wildcard protocol/*.c) $(wildcard server/*.c)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) -m server $(ARGS)

test: venv test-tools
	$(PY) -m pytest -q -m "not container" tests

# The reference implementation the tests compare with: Debian's redis-server and redis-tools (and
# tmux, to drive an interactive redis-cli). Installed when missing and we are root.
test-tools:
	@command -v redis-server >/dev/null && command -v redis-check-rdb >/dev/null && command -v tmux >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools tmux >/dev/null; } || \
	  echo "note: redis-server, redis-tools or tmux is missing: the tests that compare with Redis are skipped"

test-container: venv
	PY=$(PY) docker/test-container.sh

bench: venv
	$(PY) bench/run.py

# Long fuzz budgets live here, not in `make test` (which runs one second of the same fuzzer).
fuzz: venv
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} $(PY) tests/fuzz/parser_fuzz.py

clean:
	rm -rf $(VENV) build *.egg-info
