#!/usr/bin/env bash
# Builds the snapshot walker (persistence/_walker.c) with CPython 3.13 and runs the persistence
# tests on it, beside the main run on Debian bookworm's 3.11: the two ends of requires-python.
# Bookworm has no 3.13, so Debian trixie's python3.13 packages and the libc they need are
# unpacked (not installed: the system's packages are untouched) under $PY313_ROOT, and the
# interpreter is pointed at that libc with patchelf. Usage: bash .ci/python313.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
ROOT=${PY313_ROOT:-/tmp/forkv-py313}
VENV=$ROOT/venv
PY=$ROOT/usr/bin/python3.13

if [ ! -x "$VENV/bin/python" ]; then
  command -v patchelf >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >/dev/null; }
  mkdir -p "$ROOT/apt/lists/partial" "$ROOT/apt/cache/archives/partial" "$ROOT/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
    > "$ROOT/apt/sources.list"
  APT=(-o Dir::Etc::SourceList="$ROOT/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
       -o Dir::State::Lists="$ROOT/apt/lists" -o Dir::Cache="$ROOT/apt/cache"
       -o APT::Sandbox::User=root)
  apt-get "${APT[@]}" update -qq
  (cd "$ROOT/debs" && apt-get "${APT[@]}" download -qq python3.13-minimal libpython3.13-minimal \
     libpython3.13-stdlib libpython3.13-dev python3.13-dev libc6 libexpat1 zlib1g libffi8 libbz2-1.0 \
     liblzma5 libzstd1 libssl3t64 libuuid1 libsqlite3-0 libncursesw6 libtinfo6 libreadline8t64)
  for deb in "$ROOT"/debs/*.deb; do dpkg -x "$deb" "$ROOT"; done
  patchelf --set-interpreter "$ROOT/usr/lib64/ld-linux-x86-64.so.2" --force-rpath \
    --set-rpath "$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu" "$PY"
  "$PY" -m venv --without-pip "$VENV"
fi
# The dependencies, checked on every run (new ones join as the project grows). trixie's pyconfig.h
# includes <x86_64-linux-gnu/python3.13/pyconfig.h>: its root include dir. Any pip will do (pip
# --python installs into another interpreter); `make` has made .venv.
CFLAGS="-I$ROOT/usr/include" "${PIP_PYTHON:-$REPO/.venv/bin/python}" -m pip --python "$VENV/bin/python" install -q \
  "hiredis>=3.0" "uvloop>=0.19" "anycrc>=2.0" "python-lzf>=0.2.4" "sortedcontainers>=2.4" "lupa>=2.0" \
  pytest pytest-asyncio redis setuptools

"$VENV/bin/python" -VV
# The C pieces only (FORKVPY_PURE skips Cython); in place, beside the 3.11 builds (other suffix).
CFLAGS="-I$ROOT/usr/include" FORKVPY_PURE=1 "$VENV/bin/python" setup.py -q build_ext --inplace
"$VENV/bin/python" -c "from persistence import _walker; print('walker:', _walker.__file__)"
FORKVPY_PURE=1 "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/persistence tests/server/test_save_cow.py tests/integration/test_bgsave.py "$@"
