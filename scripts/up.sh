#!/usr/bin/env bash
# Bring the stack up on any machine, fresh ones included: prepare (engine, .venv, images), then
# `python orchestrate.py up` with any arguments given here.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
cd "$repo"
exec "$PYTHON" orchestrate.py up "$@"
