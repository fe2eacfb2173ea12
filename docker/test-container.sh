#!/usr/bin/env bash
# `make test-container`: builds docker/Dockerfile with podman and tests the running image
# (tests/integration/test_container.py). On a machine like CI's (root, Debian, Debian's mirrors but no
# image registry) it first installs podman and makes the local base image (docker/local-base.sh).
# When podman cannot be installed, pytest still runs and reports the container tests as skipped, with
# the reason; any other failure fails the target.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/docker/containers.conf}
packages=(podman runc catatonit netavark aardvark-dns iptables debootstrap)

started=$SECONDS
missing=()
for tool in podman runc catatonit debootstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "test-container: installing ${packages[*]} (missing: ${missing[*]})"
    # A failure here is not fatal: the test then skips and says podman is missing.
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${packages[@]}" >/dev/null; } || echo "test-container: apt-get could not install podman" >&2
  else
    echo "test-container: ${missing[*]} missing and not root with apt-get; not installing" >&2
  fi
fi
echo "test-container: tools ready in $((SECONDS - started)) s"

if command -v podman >/dev/null; then
  started=$SECONDS
  docker/local-base.sh
  echo "test-container: base image ready in $((SECONDS - started)) s"
fi

# The image build and each check show up in --durations.
started=$SECONDS
status=0
"$PY" -m pytest -q -rs --durations=12 -p no:cacheprovider tests/integration/test_container.py "$@" || status=$?
echo "test-container: build and tests took $((SECONDS - started)) s"
exit "$status"
