#!/usr/bin/env bash
# The engine matrix: the suite's engine-facing tiers on each engine, one engine at a time.
#
#   bash scripts/test-engines.sh [--switch] [LEG ...]     (any pytest arguments after --)
#
# Legs: docker-26.1, docker-20.10, podman-4.3 (default: all three, in that order). Each leg
# names the engine and version it ran on, then runs pytest -m "$APL_MATRIX_TIERS" (default:
# "integration or appdb or standins"). Docker's versions replace each other on the host, so a
# Docker leg runs only where scripts/docker-engine.sh installed the engine, or with --switch;
# Podman runs beside Docker and is stopped again afterwards. At the end the engine that
# answered before answers again. Exit status: non-zero if any leg failed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tiers=${APL_MATRIX_TIERS:-integration or appdb or standins}
legs=()
pytest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --switch) export APL_ENGINE_FORCE=1 ;;
    --) shift && pytest_args=("$@") && break ;;
    docker-26.1 | docker-20.10 | podman-4.3) legs+=("$1") ;;
    *) echo "test-engines: unknown argument $1; legs are docker-26.1, docker-20.10, podman-4.3" >&2 && exit 2 ;;
  esac
  shift
done
[ "${#legs[@]}" -gt 0 ] || legs=(docker-26.1 docker-20.10 podman-4.3)

say() { echo "test-engines: $*" >&2; }
engine_script() { APL_ENGINE=$1 bash "$repo/scripts/docker-engine.sh" "${@:2}"; }

# What answers now, to put back at the end ("docker 26.1.5" -> "docker-26.1").
unset DOCKER_HOST
source "$repo/scripts/prepare.sh" # an engine, .venv, the image set; sets PYTHON and APL_IMAGES
bash "$repo/scripts/test-tools.sh"
before=$(engine_script "" --which | cut -d. -f1-2 | tr ' ' -)
podman_was_up=$(APL_ENGINE=podman-4.3 bash -c 'source "$0"; docker info >/dev/null 2>&1 && echo yes || true' \
  "$repo/scripts/engine-env.sh")

restore() {
  unset DOCKER_HOST
  if [ "$(engine_script "" --which 2>/dev/null | cut -d. -f1-2 | tr ' ' -)" != "$before" ]; then
    say "putting back $before"
    engine_script "$before" --switch || say "could not put back $before: run APL_ENGINE=$before bash scripts/docker-engine.sh --switch"
  fi
  [ -n "$podman_was_up" ] || engine_script podman-4.3 --stop
}
trap restore EXIT

results=()
failed=0
for leg in "${legs[@]}"; do
  say "leg $leg: preparing"
  unset DOCKER_HOST
  if ! engine_script "$leg" --switch; then
    results+=("$leg: FAILED to start the engine")
    failed=1
    continue
  fi
  export APL_ENGINE=$leg
  source "$repo/scripts/engine-env.sh" # DOCKER_HOST for Podman
  running=$(engine_script "$leg" --which)
  [ "$APL_IMAGES" != standin ] || bash "$repo/scripts/standin-images.sh"
  say "leg $leg: pytest -m \"$tiers\" on $running"
  log=$(mktemp /tmp/apl-matrix-"$leg".XXXXXX)
  status=0
  (cd "$repo" && "$PYTHON" -m pytest -m "$tiers" -p no:cacheprovider "${pytest_args[@]}") 2>&1 | tee "$log" || status=$?
  summary=$(grep -E '^=+ .*(passed|failed|error).* =+$' "$log" | tail -1 | tr -d '=' | sed 's/^ *//;s/ *$//')
  rm -f "$log"
  results+=("$leg ($running): ${summary:-no summary} (exit $status)")
  [ "$status" -eq 0 ] || failed=1
  unset APL_ENGINE
done

echo
echo "engine matrix, tiers \"$tiers\":"
printf '  %s\n' "${results[@]}"
exit "$failed"
