#!/usr/bin/env bash
# Podman runs each container's HEALTHCHECK from a systemd timer. A host without systemd (these
# CI machines, WSL, a container) runs none, so every health status stays "starting". This loop
# plays the timer's part, as scripts/docker-engine.sh starts it beside `podman system service`:
# each running container with a healthcheck is checked at its own interval by
# `podman healthcheck run`, which records the result exactly as the timer's run would.
set -uo pipefail

declare -A interval_of due # container id -> seconds between checks (0: none), next check's epoch second

seconds() { # a Go duration as Podman prints it ("5s", "1m30s", "500ms") -> whole seconds, at least 1
  local d=$1 total=0 n
  [[ $d =~ ([0-9]+)h ]] && total=$((total + BASH_REMATCH[1] * 3600))
  [[ $d =~ ([0-9]+)m([0-9]|$) ]] && total=$((total + BASH_REMATCH[1] * 60))
  [[ $d =~ ([0-9.]+)s$ ]] && n=${BASH_REMATCH[1]%.*} && total=$((total + ${n:-0}))
  echo $((total > 0 ? total : 1))
}

while :; do
  sleep 1
  now=$(date +%s)
  ids=$(podman ps -q --no-trunc 2>/dev/null) || continue
  # Containers seen for the first time: one inspect for all of them, never one per container per second.
  new=()
  for id in $ids; do [ -n "${interval_of[$id]:-}" ] || new+=("$id"); done
  if [ "${#new[@]}" -gt 0 ]; then
    while read -r id interval; do
      [ -n "$id" ] || continue
      if [ -n "$interval" ] && [ "$interval" != 0s ]; then
        interval_of[$id]=$(seconds "$interval")
        due[$id]=$((now + interval_of[$id])) # the first check one interval after start, as Docker does
      else
        interval_of[$id]=0
      fi
    done < <(podman inspect --format '{{.Id}} {{if .Config.Healthcheck}}{{.Config.Healthcheck.Interval}}{{end}}' "${new[@]}" 2>/dev/null)
  fi
  for id in "${!interval_of[@]}"; do
    case " ${ids//$'\n'/ } " in
      *" $id "*) ;;
      *) unset "interval_of[$id]" "due[$id]" && continue ;; # gone: forget it
    esac
    if [ "${interval_of[$id]}" -gt 0 ] && [ "$now" -ge "${due[$id]}" ]; then
      due[$id]=$((now + interval_of[$id]))
      podman healthcheck run "$id" >/dev/null 2>&1 &
    fi
  done
done
