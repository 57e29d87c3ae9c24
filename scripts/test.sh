#!/usr/bin/env bash
# Run the whole test suite on any machine, fresh ones included: prepare (engine, .venv, images,
# `docker compose`, a headless Chromium), then pytest with any arguments given here.
#
# A whole run (no arguments) on a machine whose Docker engine this project installed (CI, a
# fresh machine) then runs the engine matrix too: the engine-facing tiers on the other engines
# (scripts/test-engines.sh; README, "Engines"). APL_TEST_ENGINES names the legs ("none": skip).
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
bash "$repo/scripts/test-tools.sh"
cd "$repo"

if [ $# -gt 0 ]; then
  exec "$PYTHON" -m pytest "$@"
fi

legs=${APL_TEST_ENGINES:-}
if [ -z "$legs" ]; then
  if ls /var/lib/apl-engine/docker-* >/dev/null 2>&1 && [ -z "${DOCKER_HOST:-}" ]; then
    legs="docker-20.10 podman-4.3"
  else
    legs=none
    echo "test: engine matrix not run: this host's engine was not installed by this project" \
      "(run bash scripts/test-engines.sh --switch to allow it)" >&2
  fi
fi

logs=$(mktemp -d /tmp/apl-test.XXXXXX)
trap 'rm -rf "$logs"' EXIT
status=0
"$PYTHON" -m pytest 2>&1 | tee "$logs/main.log" || status=$?
if [ "$legs" != none ]; then
  # shellcheck disable=SC2086
  bash "$repo/scripts/test-engines.sh" $legs 2>&1 | tee "$logs/matrix.log" || status=1
fi
# One closing line for every run above: pytest's own summary lines, added up.
grep -hE '^=+ .*(passed|failed|error).* in [0-9.]+s' "$logs"/*.log | awk '
  { for (i = 2; i <= NF; i++) {
      if ($i ~ /^passed/) passed += $(i - 1)
      if ($i ~ /^(failed|errors?)/) failed += $(i - 1) } }
  END { printf "all runs: %d passed, %d failed\n", passed, failed }'
exit "$status"
