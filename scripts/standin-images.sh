#!/usr/bin/env bash
# Build the registry-free stand-in images once, and reuse them (checked by tag):
#   apl/debian:bookworm           debootstrap --variant=minbase, then docker import
#   apl/python:3.11-bookworm      Debian's Python 3.11 in a venv, the host's CA bundle for pip
#   apl/mysql-compat:mariadb-10.11 Debian's MariaDB behind the official mysql image's container API
# They are never tagged as mysql:5.7 or python:3.11-slim: the project selects them by setting.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
base_tag=apl/debian:bookworm
python_tag=${APL_PYTHON_STANDIN:-apl/python:3.11-bookworm}
mysql_tag=${APL_DB_STANDIN:-apl/mysql-compat:mariadb-10.11}
ca_bundle=${APL_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

say() { echo "standin-images: $*" >&2; }
has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# One EXIT trap for the whole script: a RETURN trap does not run when `set -e` aborts inside a
# function, and a failed build in the foreground must not leave the background one running.
temp_dirs=()
python_pid=
cleanup() {
  if [ -n "$python_pid" ] && kill -0 "$python_pid" 2>/dev/null; then
    kill -TERM "$python_pid" 2>/dev/null || true
    wait "$python_pid" 2>/dev/null || true
  fi
  # --one-file-system: a debootstrap killed mid-way may leave /proc or /dev binds mounted in its target.
  [ "${#temp_dirs[@]}" -eq 0 ] || rm -rf --one-file-system "${temp_dirs[@]}"
}
trap cleanup EXIT

# The mirror this host already uses, so the images need no network the host lacks.
host_mirror() {
  local uri
  uri=$(grep -hs -m1 -E '^URIs:.*/debian/?$' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true)
  [ -n "$uri" ] || uri=$(grep -hs -m1 -E '^deb .*/debian/? bookworm' /etc/apt/sources.list | awk '{print $2}' || true)
  echo "$uri"
}

build_base() {
  command -v debootstrap >/dev/null 2>&1 || {
    [ "$(id -u)" = 0 ] || { say "debootstrap is missing; install it (apt-get install debootstrap) as root"; exit 1; }
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  local rootfs
  rootfs=$(mktemp -d /tmp/apl-rootfs.XXXXXX)
  temp_dirs+=("$rootfs")
  say "debootstrap bookworm into $rootfs"
  # shellcheck disable=SC2046
  debootstrap --variant=minbase bookworm "$rootfs" $(host_mirror) >/dev/null
  # Shrink the image: apt lists and caches are refetched by every build that installs packages.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["bash"]' \
    --change 'ENV LANG=C.UTF-8' \
    - "$base_tag" >/dev/null
  rm -rf --one-file-system "$rootfs"  # now, not at exit: a whole Debian need not wait for the other builds
  say "built $base_tag"
}

# Runs in a background subshell, so the main shell makes (and removes) its build context folder $1:
# a folder the subshell made would be missing from the main shell's list.
build_python() {
  local ctx=$1 build
  cp "$here/standins/python/Dockerfile" "$ctx/"
  # The host's bundle carries the CA of the TLS proxy in front of PyPI; pip inside needs it.
  cp "$ca_bundle" "$ctx/ca-certificates.crt"
  # The client runs as a job of this subshell, so the TERM that cleanup sends can stop it too
  # (a foreground child would be left running); cancelling the client cancels the build.
  docker build -q --build-arg BASE_IMAGE="$base_tag" -t "$python_tag" "$ctx" >/dev/null &
  build=$!
  trap 'kill -TERM "$build" 2>/dev/null; wait "$build"; exit 143' TERM
  wait "$build"
  say "built $python_tag"
}

build_mysql() {
  docker build -q --build-arg BASE_IMAGE="$base_tag" -t "$mysql_tag" "$here/standins/mysql-compat" >/dev/null
  say "built $mysql_tag"
}

has_image "$base_tag" || build_base
if ! has_image "$python_tag"; then
  python_ctx=$(mktemp -d /tmp/apl-python-ctx.XXXXXX)
  temp_dirs+=("$python_ctx")
  build_python "$python_ctx" &
  python_pid=$!
fi
has_image "$mysql_tag" || build_mysql
if [ -n "$python_pid" ]; then
  status=0
  wait "$python_pid" || status=$?
  python_pid=  # reaped: cleanup must not signal a pid that may since belong to another process
  [ "$status" -eq 0 ] || exit "$status"
fi
say "in use: $python_tag (for python:3.11-slim), $mysql_tag (for mysql:5.7)"
