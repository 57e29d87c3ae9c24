#!/usr/bin/env bash
# Run the benchmarks on any machine, fresh ones included: prepare (engine, .venv, images), then
# `python -m bench` with any arguments given here (it installs wrk and the Compose plugin itself
# when they are missing). Figures: docs/benchmarks.md.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
cd "$repo"
exec "$PYTHON" -m bench "$@"
