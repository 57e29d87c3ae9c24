#!/usr/bin/env bash
# Build the registry-free stand-in images once, and reuse them:
#   apl/debian:bookworm           debootstrap --variant=minbase, then docker import (reused by tag)
#   apl/python:3.11-bookworm      Debian's Python 3.11 laid out as python:3.11-slim, the host's CA bundle for pip
#   apl/mysql-compat:mariadb-10.11 Debian's MariaDB behind the official mysql image's container API
# The two built from standins/ carry a digest of their build inputs (label com.apl.standin.inputs)
# and are rebuilt when it no longer matches: an edited Dockerfile, a new CA bundle, a new base.
# They are never tagged as mysql:5.7 or python:3.11-slim: the project selects them by setting.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
base_tag=apl/debian:bookworm
python_tag=${APL_PYTHON_STANDIN:-apl/python:3.11-bookworm}
mysql_tag=${APL_DB_STANDIN:-apl/mysql-compat:mariadb-10.11}
ca_bundle=${APL_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

say() { echo "standin-images: $*" >&2; }
has_image() { docker image inspect "$1" >/dev/null 2>&1; }

inputs_label=com.apl.standin.inputs
# Everything a stand-in is built from: the files of its build context (names and contents) and
# the ID of the base image it starts from. Hashing a few small files costs milliseconds.
inputs_digest() {
  {
    docker image inspect --format '{{.Id}}' "$base_tag"
    (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}
# Reuse an image only when it was built from exactly these inputs.
is_current() {
  [ "$(docker image inspect --format "{{index .Config.Labels \"$inputs_label\"}}" "$1" 2>/dev/null)" = "$2" ]
}
image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
# The image a rebuild replaced is left untagged; remove it unless a container or another tag
# or image still uses it (then the engine refuses, and it stays).
drop_replaced() {
  local old=$1 tag=$2
  [ -n "$old" ] && [ "$old" != "$(image_id "$tag")" ] || return 0
  docker image rm "$old" >/dev/null 2>&1 || true
}
# "built" or "rebuilt (build inputs changed)", for the one line each build reports.
build_verb() { if [ -n "$1" ]; then echo "rebuilt $2 (its build inputs changed)"; else echo "built $2"; fi; }

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

# The Python stand-in's build context: its Dockerfile and the host's CA bundle, which carries
# the CA of the TLS proxy in front of PyPI (pip inside needs it). Made by the main shell, which
# removes it at exit (a folder a background subshell made would be missing from its list).
python_context() {
  local ctx
  ctx=$(mktemp -d /tmp/apl-python-ctx.XXXXXX)
  temp_dirs+=("$ctx")
  cp "$here/standins/python/Dockerfile" "$ctx/"
  cp "$ca_bundle" "$ctx/ca-certificates.crt"
  python_ctx=$ctx
}

# Build context $1 into tag $2 labelled with inputs digest $3. Runs in a background subshell for
# Python: the client runs as a job of it, so the TERM that cleanup sends can stop it too (a
# foreground child would be left running); cancelling the client cancels the build.
build_standin() {
  local ctx=$1 tag=$2 digest=$3 old build
  old=$(image_id "$tag")
  docker build -q --build-arg BASE_IMAGE="$base_tag" --label "$inputs_label=$digest" -t "$tag" "$ctx" >/dev/null &
  build=$!
  trap 'kill -TERM "$build" 2>/dev/null; wait "$build"; exit 143' TERM
  wait "$build"
  trap - TERM
  drop_replaced "$old" "$tag"
  say "$(build_verb "$old" "$tag")"
}

has_image "$base_tag" || build_base
python_context
python_digest=$(inputs_digest "$python_ctx")
if ! is_current "$python_tag" "$python_digest"; then
  build_standin "$python_ctx" "$python_tag" "$python_digest" &
  python_pid=$!
fi
mysql_ctx=$here/standins/mysql-compat
mysql_digest=$(inputs_digest "$mysql_ctx")
is_current "$mysql_tag" "$mysql_digest" || build_standin "$mysql_ctx" "$mysql_tag" "$mysql_digest"
if [ -n "$python_pid" ]; then
  status=0
  wait "$python_pid" || status=$?
  python_pid=  # reaped: cleanup must not signal a pid that may since belong to another process
  [ "$status" -eq 0 ] || exit "$status"
fi
say "in use: $python_tag (for python:3.11-slim), $mysql_tag (for mysql:5.7)"
