# Sourced: point the Docker CLI and SDK at the engine APL_ENGINE names. Podman serves Docker's API
# on a socket of its own, so DOCKER_HOST must name it; Docker's engines use the default socket.
# A DOCKER_HOST the user set is kept.
case "${APL_ENGINE:-}" in
  podman-*) export DOCKER_HOST=${DOCKER_HOST:-unix://${APL_PODMAN_SOCKET:-/run/podman/podman.sock}} ;;
esac
