# forkv developer entry points. Every target creates/uses the virtual environment in .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: run test lint test-py313 test-compiled test-pure test-tools test-container bench fuzz external venv compiled clean

$(VENV)/.installed: pyproject.toml $(wildcard setup.py)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# The command path compiled from its Python source (setup.py's COMPILED), rebuilt in place when a
# source changed; a no-op otherwise. protocol/_loader.py runs the .py of any module left stale.
compiled: venv
	@out=$$($(PY) setup.py -q build_ext --inplace -j 2 2>&1); rc=$$?; \
	  printf '%s\n' "$$out" | grep -v "^copying\|^running\|^$$" || true; exit $$rc

run: compiled
	$(PY) -m server $(ARGS)

# The suite twice: on the compiled modules (which must be compiled) and on their .py sources.
test: lint test-compiled test-pure

# Lint and type check: ruff over the tree (pyproject's [tool.ruff]), mypy over protocol/ and
# persistence/ ([tool.mypy]).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The snapshot walker built and its tests run on CPython 3.13 too (the other end of
# requires-python); .ci/python313.sh fetches Debian trixie's 3.13 without installing it.
test-py313: venv
	bash .ci/python313.sh

test-compiled: compiled test-tools
	FORKVPY_EXPECT_COMPILED=1 $(PY) -m pytest -q -m "not container" tests

test-pure: venv test-tools
	FORKVPY_PURE=1 $(PY) -m pytest -q -m "not container" tests

# The reference implementation the tests compare with: Debian's redis-server and redis-tools (and
# tmux, to drive an interactive redis-cli). Installed when missing and we are root.
test-tools:
	@command -v redis-server >/dev/null && command -v redis-check-rdb >/dev/null && command -v tmux >/dev/null && \
	  command -v strace >/dev/null && command -v ss >/dev/null && command -v ip >/dev/null && \
	  command -v prlimit >/dev/null && command -v prometheus-redis-exporter >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools tmux strace iproute2 \
	      util-linux prometheus-redis-exporter >/dev/null; } || \
	  echo "note: redis-server, redis-tools, tmux, strace, iproute2, prlimit or prometheus-redis-exporter is missing: the tests that need them are skipped"

test-container: venv
	PY=$(PY) docker/test-container.sh

bench: compiled
	$(PY) bench/run.py

# Long fuzz budgets live here; `make test` runs the same suites on a small fixed budget. The
# hypothesis suites (protocol model, live differential against redis-server over the whole command
# table, bounded cost on a 1M-key KEYS) take FUZZ_EXAMPLES; the parser fuzzer FUZZ_SECONDS; the
# grammar fuzz (stateful sequences of well-formed commands) FUZZ_SEQUENCES.
fuzz: compiled test-tools
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} $(PY) tests/fuzz/parser_fuzz.py
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-5000} BOUNDED_KEYS=$${BOUNDED_KEYS:-1000000} $(PY) -m pytest -q \
	  tests/protocol/test_fuzz_hypothesis.py tests/integration/test_fuzz_live.py \
	  tests/integration/test_bounded_cost.py
	FUZZ_SEQUENCES=$${FUZZ_SEQUENCES:-2000} $(PY) -m pytest -q tests/integration/test_fuzz_grammar.py

# Suites written by others, each run against redis-server and forkv: redis-py's own tests (its
# sdist, from the package index; RESP2 and RESP3), then Redis's own tcl suite in its external-server
# mode (Debian's source tarball of the installed redis-server), then fakeredis's tests in their
# real-server mode (its sdist, in a throwaway venv), then python-rq's tests (a library built on
# Redis: queues, Lua, pipelines). A test that passes on Redis only, beyond each script's list of
# known gaps, fails the run.
external: compiled test-tools
	$(PY) tests/external/redispy_suite.py
	$(PY) tests/external/redis_tcl_suite.py
	$(PY) tests/external/fakeredis_suite.py
	$(PY) tests/external/rq_suite.py

clean:
	rm -rf $(VENV) build *.egg-info
	find protocol server persistence -name '*.so' -delete
