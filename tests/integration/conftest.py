"""Fixtures for the integration tests: a session-wide stack and per-test projects."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from stack.images import images_from_env
from stack.ports import free_port

from .support import RUN_ID, SESSION_PROJECT, Orchestrate, Stack, remove_project, run_orchestrate


@pytest.fixture(scope="session")
def orchestrate() -> Orchestrate:
    return run_orchestrate


@pytest.fixture
def project(request: pytest.FixtureRequest, docker_client: docker.DockerClient) -> Iterator[str]:
    """A fresh project name for one test, removed with everything it owns afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())
    name = f"{SESSION_PROJECT}-{slug}"[:40].rstrip("-")
    remove_project(docker_client, name)
    yield name
    remove_project(docker_client, name)


@pytest.fixture(scope="session")
def stack(docker_client: docker.DockerClient) -> Iterator[Stack]:
    """The stack, brought up once for the session and torn down even when tests fail."""
    running = Stack(SESSION_PROJECT, free_port())
    try:
        result = run_orchestrate("--project", running.project, "--port", str(running.port), "up")
        assert result.returncode == 0, f"up failed:\n{result.stdout}\n{result.stderr}"
        yield running
    finally:
        run_orchestrate("--project", running.project, "down", "--volumes", "--rmi")
        remove_project(docker_client, running.project)


@pytest.fixture
def never_ready_image(docker_client: docker.DockerClient, tmp_path: Path) -> Iterator[str]:
    """The configured DB image with an entrypoint that runs but never serves."""
    db_image = images_from_env(os.environ).db
    tag = f"apltest/never-ready:{RUN_ID}"
    (tmp_path / "Dockerfile").write_text(
        f"FROM {db_image}\n"
        # Exits at once on SIGTERM, so cleanup does not wait out the stop timeout.
        'ENTRYPOINT ["sh", "-c", "trap \'exit 0\' TERM; while :; do sleep 1 & wait $!; done"]\n'
    )
    docker_client.images.build(path=str(tmp_path), tag=tag, rm=True)
    yield tag
    docker_client.images.remove(tag, force=True)
