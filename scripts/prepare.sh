# Sourced by up.sh and test.sh: make this machine ready to run the stack.
#   1. a Docker engine that answers (scripts/docker-engine.sh starts one when none does);
#   2. a virtualenv .venv with what the host needs to run and test the stack (requirements.txt);
#   3. images: Docker Hub's when a registry answers, else the local stand-ins (APL_IMAGES=standin).
# Set APL_IMAGES yourself to skip the registry probe.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

source "$repo/scripts/engine-env.sh" # APL_ENGINE=podman-4.3 points DOCKER_HOST at Podman
bash "$repo/scripts/docker-engine.sh"

if [ ! -x "$repo/.venv/bin/python" ]; then
  echo "prepare: creating $repo/.venv" >&2
  python3 -m venv "$repo/.venv"
fi
"$repo/.venv/bin/python" -m pip install -q -r "$repo/requirements.txt"
PYTHON="$repo/.venv/bin/python"

have_or_pull() { docker image inspect "$1" >/dev/null 2>&1 || docker pull -q "$1" >/dev/null 2>&1; }

if [ -z "${APL_IMAGES:-}" ]; then
  if have_or_pull mysql:5.7 && have_or_pull python:3.11-slim; then
    export APL_IMAGES=official
  else
    echo "prepare: no registry answers; using the local stand-in images (see README, 'Without Docker Hub')" >&2
    export APL_IMAGES=standin
  fi
fi
if [ "$APL_IMAGES" = standin ]; then
  bash "$repo/scripts/standin-images.sh"
fi
echo "prepare: image set '$APL_IMAGES'" >&2
