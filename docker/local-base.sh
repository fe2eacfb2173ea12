#!/usr/bin/env bash
# Makes the Dockerfile's default base image exist locally, for machines that reach Debian's package
# mirrors but no image registry (our CI). It tags a `debootstrap --variant=minbase bookworm` root with
# python3 and its venv module under the name that docker/Dockerfile's BASE_IMAGE defaults to, so the
# unmodified Dockerfile builds with `podman build --pull=never`.
# Never replaces an image that is already there under that name (a real pulled one, or ours from an
# earlier run); the debootstrap tarball is cached in $FORKV_BASE_CACHE between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

cache_dir=${FORKV_BASE_CACHE:-/var/cache/forkv}
mirror=${FORKV_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
tarball=$cache_dir/$suite-minbase-python3.tar

base=$(sed -n 's/^ARG BASE_IMAGE=//p' docker/Dockerfile)
[[ -n $base ]] || { echo "local-base: no 'ARG BASE_IMAGE=' default in docker/Dockerfile" >&2; exit 1; }
# Short names resolve to Docker Hub's library; say so explicitly so that podman finds the tag offline.
case $base in
  */*) full=$base ;;
  *) full=docker.io/library/$base ;;
esac

if podman image exists "$full"; then
  echo "local-base: $full already present, reusing it"
  exit 0
fi

make_tarball() {
  local started
  command -v debootstrap >/dev/null || { echo "local-base: debootstrap is not installed" >&2; return 1; }
  mkdir -p "$cache_dir"
  root=$(mktemp -d "$cache_dir/root.XXXXXX")
  log=$root.log
  # Global on purpose: the EXIT trap runs after this function has returned.
  # Removes only what this function made; $root is never empty (mktemp succeeded under set -e).
  trap 'rm -rf -- "$root" "$log" "$tarball.tmp"' EXIT
  logged() { "$@" >>"$log" 2>&1 || { tail -20 "$log" >&2; echo "local-base: failed: $*" >&2; exit 1; }; }

  echo "local-base: debootstrap $suite into $root (once; cached as $tarball)"
  started=$SECONDS
  logged debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$suite" "$root" "$mirror"
  # The same sources a debian:bookworm image has, brought up to date as a published image would be.
  printf 'deb %s %s main\n' "$mirror" "$suite" "$mirror" "$suite-updates" \
    "${mirror%/debian}/debian-security" "$suite-security" >"$root/etc/apt/sources.list"
  logged chroot "$root" apt-get -q update
  logged chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -q -y upgrade
  # Trimmed like Debian's slim images: no package caches, manual pages or translations.
  rm -rf -- "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
    "$root"/var/log/*.log "$root"/usr/share/man/* "$root"/usr/share/locale/*
  tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
  mv -- "$tarball.tmp" "$tarball"
  echo "local-base: debootstrap took $((SECONDS - started)) s"
}

if [[ ! -s $tarball ]]; then
  make_tarball
fi

podman import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --change "LABEL org.forkv.local-base=debootstrap-$suite-minbase" \
  "$tarball" "$full" >/dev/null
echo "local-base: imported $tarball as $full"
