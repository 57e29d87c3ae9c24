#!/usr/bin/env bash
# Make sure a Docker engine answers. Does nothing when one does; otherwise, as root on a
# Debian-family host, installs Debian's docker.io and starts dockerd in the background.
# Safe to run twice: it never starts a second daemon.
set -euo pipefail

log_file=${APL_DOCKERD_LOG:-/var/log/apl-dockerd.log}
deadline_s=${APL_ENGINE_TIMEOUT:-60}

fail() {
  echo "docker-engine: $*" >&2
  exit 1
}

engine_answers() { docker info >/dev/null 2>&1; }

engine_answers && exit 0

command -v docker >/dev/null 2>&1 || [ "$(id -u)" = 0 ] ||
  fail "no docker CLI found; install Docker (https://docs.docker.com/get-docker/) and run again."
[ "$(uname -s)" = Linux ] ||
  fail "no Docker engine answers; start Docker Desktop and run again."
[ "$(id -u)" = 0 ] ||
  fail "no Docker engine answers; start it (e.g. 'sudo systemctl start docker') or run this script as root."
command -v apt-get >/dev/null 2>&1 ||
  fail "no Docker engine answers and this host is not Debian-family; install and start Docker Engine, then run again."

if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker-engine: installing Debian's docker.io" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

# A dockerd that is still starting counts as ours: wait for it instead of starting another.
if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "docker-engine: starting dockerd (log: $log_file)" >&2
  mkdir -p "$(dirname "$log_file")"
  nohup dockerd >>"$log_file" 2>&1 </dev/null &
fi

for _ in $(seq "$((deadline_s * 5))"); do
  engine_answers && { echo "docker-engine: engine ready" >&2; exit 0; }
  pgrep -x dockerd >/dev/null 2>&1 || fail "dockerd exited; see $log_file"
  sleep 0.2
done
fail "dockerd did not answer within ${deadline_s}s; see $log_file"
