#!/usr/bin/env bash
# What the tests need besides the engine and .venv: `docker compose` (the Compose export is run
# for real) and a headless Chromium with its driver (the page test). Safe to run twice.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$repo/.venv/bin/python} bash "$repo/scripts/compose-plugin.sh"
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-tools: installing Debian's chromium and chromium-driver" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  fi
fi
