"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest
from docker.errors import DockerException


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client for the engine the tests run on, closed at the end of the session."""
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as error:
        pytest.fail(f"no Docker engine answers ({error}); start one with: bash scripts/docker-engine.sh")
    yield client
    client.close()
