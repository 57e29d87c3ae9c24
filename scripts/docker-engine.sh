#!/usr/bin/env bash
# Make sure a container engine with Docker's API answers. Does nothing when one does; otherwise,
# as root on a Debian-family host, installs and starts the engine APL_ENGINE names:
#   docker-26.1   (default) Debian 13's docker.io 26.1 and containerd 1.7, installed on Debian 12
#   docker-20.10  Debian 12's own docker.io 20.10
#   podman-4.3    Debian 12's podman, serving Docker's API on $APL_PODMAN_SOCKET
# Why 26.1 by default: it is what Debian 13 ships and close to the Engine 27/28 that Docker Desktop
# and docker-ce users run (API 1.45); 20.10 (API 1.41) is end of life upstream. Both stay tested
# (scripts/test-engines.sh).
#
#   bash scripts/docker-engine.sh            ensure an engine answers (start or install one)
#   bash scripts/docker-engine.sh --switch   make APL_ENGINE the engine that answers: Docker's
#                                            versions replace each other (only one the project
#                                            installed, unless APL_ENGINE_FORCE=1); Podman runs beside
#   bash scripts/docker-engine.sh --stop     stop the engine APL_ENGINE names
#   bash scripts/docker-engine.sh --which    print the engine that answers, e.g. "docker 26.1.5"
# For Podman, callers point DOCKER_HOST at the socket: `source scripts/engine-env.sh` does that.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=engine-env.sh
source "$here/engine-env.sh"

engine=${APL_ENGINE:-docker-26.1}
log_dir=${APL_ENGINE_LOG_DIR:-/var/log}
deadline_s=${APL_ENGINE_TIMEOUT:-60}
state_dir=/var/lib/apl-engine # what this script installed: it may switch only those
podman_socket=${APL_PODMAN_SOCKET:-/run/podman/podman.sock}

say() { echo "docker-engine: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

engine_answers() { docker info >/dev/null 2>&1; }

which_engine() {
  local parts
  parts=$(docker version --format '{{range .Server.Components}}{{.Name}}={{.Version}};{{end}}' 2>/dev/null || true)
  case "$parts" in
    *"Podman Engine="*) parts=${parts#*Podman Engine=} && echo "podman ${parts%%;*}" ;;
    *"Engine="*) parts=${parts#*Engine=} && echo "docker ${parts%%;*}" ;;
    *) echo unknown ;;
  esac
}

# The mirror this host already uses for Debian 12, so Debian 13's packages come the same way.
host_mirror() {
  local uri
  uri=$(grep -hs -m1 -E '^URIs:.*/debian/?$' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true)
  [ -n "$uri" ] || uri=$(grep -hs -m1 -E '^deb .*/debian/? bookworm' /etc/apt/sources.list | awk '{print $2}' || true)
  [ -n "$uri" ] || fail "found no Debian mirror in /etc/apt/sources.list*; cannot fetch Debian 13's docker.io"
  echo "$uri"
}

apt_quiet() { DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Options::=--force-confold "$@" >/dev/null; }

apt_updated=
apt_update() { [ -n "$apt_updated" ] || { apt-get update -qq >/dev/null && apt_updated=1; }; }

# Debian 13's docker.io and containerd, fetched through a source list of their own so that the
# host's own apt sources never see trixie (nothing else on the host is upgraded); their other
# dependencies (runc, tini, iptables) come from Debian 12, which satisfies them.
install_docker_26() {
  local work
  work=$(mktemp -d /tmp/apl-trixie.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  mkdir -p "$work/sources" "$work/lists/partial" "$work/debs"
  chmod -R a+rX "$work" # apt downloads as its own unprivileged user
  chown _apt "$work/lists/partial" "$work/debs" 2>/dev/null || true
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$(host_mirror)" >"$work/sources/trixie.sources"
  local -a trixie=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/sources"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
  say "installing Debian 13's docker.io 26.1 and containerd 1.7 (Debian 12 host)"
  apt-get "${trixie[@]}" update -qq >/dev/null
  (cd "$work/debs" && apt-get "${trixie[@]}" download -qq docker.io containerd >/dev/null)
  apt_update
  apt_quiet install --allow-downgrades "$work"/debs/containerd_*.deb "$work"/debs/docker.io_*.deb
}

install_docker_20() {
  say "installing Debian 12's docker.io 20.10"
  apt_update
  apt_quiet install --allow-downgrades --no-install-recommends docker.io/bookworm containerd/bookworm
}

# Podman 4.3 on these hosts (no systemd, cgroup v1 hybrid, no CAP_SYS_RESOURCE in the sandbox)
# starts containers only with cgroupfs, runc and no default ulimits.
install_podman() {
  say "installing Debian 12's podman"
  apt_update
  # netavark and aardvark-dns: with Debian's default CNI backend, containers on a user-defined
  # network cannot resolve each other's names (the lesson's "mysql"), as they can on Fedora's Podman.
  apt_quiet install --no-install-recommends podman runc netavark aardvark-dns
  mkdir -p /etc/containers
  if [ ! -s /etc/containers/containers.conf ]; then
    cat >/etc/containers/containers.conf <<'EOF'
# Written by apl's scripts/docker-engine.sh for a host without systemd.
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"

[network]
network_backend = "netavark"
EOF
  fi
  # Short names such as "mysql:5.7" resolve to Docker Hub, as they do on Docker.
  [ -s /etc/containers/registries.conf.d/apl-docker-hub.conf ] || {
    mkdir -p /etc/containers/registries.conf.d
    printf 'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n' \
      >/etc/containers/registries.conf.d/apl-docker-hub.conf
  }
}

install_engine() {
  [ "$(id -u)" = 0 ] ||
    fail "no engine answers; start it (e.g. 'sudo systemctl start docker') or run this script as root."
  command -v apt-get >/dev/null 2>&1 ||
    fail "no engine answers and this host is not Debian-family; install and start Docker Engine, then run again."
  case "$engine" in
    docker-26.1) [ "$(installed_version docker.io)" = 26 ] || install_docker_26 ;;
    docker-20.10) [ "$(installed_version docker.io)" = 20 ] || install_docker_20 ;;
    podman-4.3) command -v podman >/dev/null 2>&1 || install_podman ;;
    *) fail "unknown APL_ENGINE=$engine; use docker-26.1, docker-20.10 or podman-4.3" ;;
  esac
  mkdir -p "$state_dir"
  touch "$state_dir/$engine"
}

data_root= # dockerd's default unless a switch says otherwise

installed_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null | cut -d. -f1; }

start_engine() {
  local log
  case "$engine" in
    podman-*)
      log="$log_dir/apl-podman.log"
      if ! pgrep -f "podman system service.*$podman_socket" >/dev/null 2>&1; then
        say "starting podman system service on $podman_socket (log: $log)"
        mkdir -p "$(dirname "$podman_socket")" "$log_dir"
        nohup podman system service --time=0 "unix://$podman_socket" >>"$log" 2>&1 </dev/null &
      fi
      # No systemd here to time the healthchecks: see podman-healthchecks.sh.
      if [ ! -d /run/systemd/system ] && ! pgrep -f podman-healthchecks.sh >/dev/null 2>&1; then
        nohup bash "$here/podman-healthchecks.sh" >>"$log" 2>&1 </dev/null &
      fi
      ;;
    *)
      log="$log_dir/apl-dockerd.log"
      # A dockerd that is still starting counts as ours: wait for it instead of starting another.
      if ! pgrep -x dockerd >/dev/null 2>&1; then
        say "starting dockerd (log: $log)"
        mkdir -p "$log_dir"
        nohup dockerd ${data_root:+--data-root "$data_root"} >>"$log" 2>&1 </dev/null &
      fi
      ;;
  esac
  for _ in $(seq "$((deadline_s * 5))"); do
    engine_answers && { say "engine ready: $(which_engine)"; return 0; }
    sleep 0.2
  done
  fail "the engine did not answer within ${deadline_s}s; see $log"
}

# Stop the engine APL_ENGINE names; its containers stop with it (restart policies bring them
# back when it starts again).
stop_engine() {
  local pid
  case "$engine" in
    podman-*)
      pkill -f podman-healthchecks.sh 2>/dev/null || true
      for pid in $(pgrep -f "podman system service" || true); do kill -TERM "$pid" 2>/dev/null || true; done
      ;;
    *)
      if pid=$(pgrep -x dockerd); then
        say "stopping dockerd"
        kill -TERM "$pid"
        for _ in $(seq 150); do pgrep -x dockerd >/dev/null || break; sleep 0.2; done
      fi
      # dockerd started containerd itself when none ran; a leftover one would serve the next engine stale state.
      pkill -x containerd 2>/dev/null || true
      for _ in $(seq 50); do pgrep -x containerd >/dev/null || break; sleep 0.2; done
      ;;
  esac
}

# Replacing the host's Docker is for engines this project installed, or when told to; Docker's
# own packages (docker-ce) are never replaced, since nothing here could put them back.
check_may_replace_docker() {
  local vendor
  for vendor in docker-ce moby-engine docker-ee; do
    dpkg-query -W -f '${Status}' "$vendor" 2>/dev/null | grep -q "ok installed" &&
      fail "$vendor is installed; switching to Debian's docker.io would remove it, so this script will not"
  done
  command -v dockerd >/dev/null 2>&1 || return 0
  ls "$state_dir"/docker-* >/dev/null 2>&1 || [ "${APL_ENGINE_FORCE:-}" = 1 ] ||
    fail "this host's Docker was not installed by this project; switch it yourself, or set APL_ENGINE_FORCE=1"
}

case "${1:-}" in
  --which)
    engine_answers || fail "no engine answers"
    which_engine
    ;;
  --stop)
    stop_engine
    ;;
  --switch)
    case "$engine" in
      podman-*) ;; # Podman runs beside Docker, on a socket of its own: nothing is replaced
      *)
        [ "$(which_engine | cut -d. -f1-2 | tr ' ' -)" = "$engine" ] && { say "engine ready: $(which_engine)"; exit 0; }
        check_may_replace_docker
        stop_engine
        # 20.10 keeps a data root of its own: a downgrade must not read a newer engine's state.
        [ "$engine" = docker-20.10 ] && data_root=/var/lib/docker-20.10
        ;;
    esac
    install_engine
    start_engine
    ;;
  "")
    engine_answers && exit 0
    command -v docker >/dev/null 2>&1 || [ "$(id -u)" = 0 ] ||
      fail "no docker CLI found; install Docker (https://docs.docker.com/get-docker/) and run again."
    [ "$(uname -s)" = Linux ] || fail "no Docker engine answers; start Docker Desktop and run again."
    case "$engine" in
      podman-*) command -v podman >/dev/null 2>&1 || install_engine ;;
      *) command -v dockerd >/dev/null 2>&1 || install_engine ;;
    esac
    start_engine
    ;;
  *) fail "unknown argument $1; use --switch, --stop or --which" ;;
esac
