"""`plan --show-secrets`, run by bash with the real docker CLI, gives a working stack that `down` removes."""

from __future__ import annotations

import subprocess

import docker
import pytest

from stack.ports import free_port

from .support import Orchestrate, owned, wait_until_connected

pytestmark = pytest.mark.integration


def test_the_printed_commands_make_a_stack_that_answers(
    orchestrate: Orchestrate, project: str, docker_client: docker.DockerClient
) -> None:
    port = free_port()
    planned = orchestrate("--project", project, "--port", str(port), "plan", "--show-secrets")
    assert planned.returncode == 0, planned.stderr

    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", planned.stdout], capture_output=True, text=True, timeout=600
    )
    assert ran.returncode == 0, f"{ran.stdout[-2000:]}\n{ran.stderr[-2000:]}"
    assert "Connected successfully." in wait_until_connected(f"http://127.0.0.1:{port}")

    made = owned(docker_client, project)
    assert (len(made["containers"]), len(made["networks"]), len(made["volumes"])) == (2, 1, 1)
    assert len(made["images"]) == 1
    # The commands label what they make as `up` does, so orchestrate.py manages the result.
    adopted = orchestrate("--project", project, "--port", str(port), "up")
    assert adopted.returncode == 0, adopted.stderr
    kept = [line for line in adopted.stderr.splitlines() if line.endswith("Up to date")]
    assert any(f"Volume {project}-apl-mysql-data" in line for line in kept), adopted.stderr
    down = orchestrate("--project", project, "down", "--volumes", "--rmi")
    assert down.returncode == 0, down.stderr
    assert owned(docker_client, project) == {"containers": [], "networks": [], "volumes": [], "images": []}
