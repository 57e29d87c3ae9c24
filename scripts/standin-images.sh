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
  trap 'rm -rf "$rootfs"' RETURN
  say "debootstrap bookworm into $rootfs"
  # shellcheck disable=SC2046
  debootstrap --variant=minbase bookworm "$rootfs" $(host_mirror) >/dev/null
  # Shrink the image: apt lists and caches are refetched by every build that installs packages.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["bash"]' \
    --change 'ENV LANG=C.UTF-8' \
    - "$base_tag" >/dev/null
  say "built $base_tag"
}

build_python() {
  local ctx
  ctx=$(mktemp -d /tmp/apl-python-ctx.XXXXXX)
  trap 'rm -rf "$ctx"' RETURN
  cp "$here/standins/python/Dockerfile" "$ctx/"
  # The host's bundle carries the CA of the TLS proxy in front of PyPI; pip inside needs it.
  cp "$ca_bundle" "$ctx/ca-certificates.crt"
  docker build -q --build-arg BASE_IMAGE="$base_tag" -t "$python_tag" "$ctx" >/dev/null
  say "built $python_tag"
}

build_mysql() {
  docker build -q --build-arg BASE_IMAGE="$base_tag" -t "$mysql_tag" "$here/standins/mysql-compat" >/dev/null
  say "built $mysql_tag"
}

has_image "$base_tag" || build_base
has_image "$python_tag" || build_python &
python_pid=$!
has_image "$mysql_tag" || build_mysql
wait "$python_pid"
say "in use: $python_tag (for python:3.11-slim), $mysql_tag (for mysql:5.7)"
