#!/usr/bin/env bash
# Run the whole test suite on any machine, fresh ones included: prepare (engine, .venv, images,
# a headless Chromium for the page test), then pytest with any arguments given here.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
PYTHON=$PYTHON bash "$repo/scripts/compose-plugin.sh"  # the Compose export is tested with `docker compose`
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing Debian's chromium and chromium-driver" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  fi
fi
cd "$repo"
exec "$PYTHON" -m pytest "$@"
