"""`export compose`, run for real with `docker compose up -d --wait`, then `down -v`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from stack.ports import free_port

from .support import REPO, Orchestrate, owned, wait_until_connected

pytestmark = pytest.mark.integration

# Characters that Compose would substitute ($) or a dotenv parser would cut (#, quotes, spaces):
# the env files must hand them to MySQL and the app unchanged.
PASSWORDS = {"MYSQL_ROOT_PASSWORD": r"""r$o "o#t\'s\x""", "MYSQL_PASSWORD": 'a$p p#w"d${HOME}'}


@pytest.fixture(scope="module")
def compose_cli() -> list[str]:
    """The Compose v2 command, which scripts/compose-plugin.sh installs."""
    found = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail("docker compose is missing: run bash scripts/compose-plugin.sh (scripts/test.sh does)")
    return ["docker", "compose"]


@pytest.fixture
def env_files(project: str) -> Iterator[None]:
    """Remove the private env files the export writes for this project."""
    yield
    for role in ("db", "app"):
        (REPO / ".apl" / f"{project}.{role}.env").unlink(missing_ok=True)


def test_compose_runs_the_exported_stack(
    compose_cli: list[str],
    orchestrate: Orchestrate,
    project: str,
    env_files: None,
    docker_client: docker.DockerClient,
    tmp_path: Path,
) -> None:
    port, target = free_port(), tmp_path / "compose.yaml"
    exported = orchestrate(
        "--project", project, "--port", str(port), "export", "compose", "-o", str(target), env=PASSWORDS
    )
    assert exported.returncode == 0, exported.stderr
    compose = [*compose_cli, "-f", str(target)]

    # Compose's classic builder on every engine: with BuildKit it would start a BuildKit container
    # on engines that lack one built in (Podman), pulled from Docker Hub (README, "Engines").
    classic = {**os.environ, "DOCKER_BUILDKIT": "0"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*compose, *args], capture_output=True, text=True, timeout=600, env=classic)

    try:
        up = run("up", "-d", "--wait", "--wait-timeout", "240")
        assert up.returncode == 0, up.stderr[-3000:]
        assert "Connected successfully." in wait_until_connected(f"http://127.0.0.1:{port}", timeout=30)
    finally:
        down = run("down", "--volumes")  # never --rmi all: that would remove the shared DB image too
    assert down.returncode == 0, down.stderr
    left = owned(docker_client, project)
    assert (left["containers"], left["networks"], left["volumes"]) == ([], [], [])
