"""Fixtures for the stand-in image tests: a Docker client and the images, built when missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import docker
import pytest
from docker.errors import ImageNotFound

from stack.images import STANDIN

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "scripts" / "standin-images.sh"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``-m "not standins"`` skips every test that needs a Docker engine."""
    config.addinivalue_line(
        "markers", "standins: runs the registry-free stand-in images (needs a Docker engine)"
    )


@pytest.fixture(scope="session")
def db_image(docker_client: docker.DockerClient) -> str:
    """The DB image under test (``APL_DB_IMAGE``), built by the stand-in script if missing."""
    tag = os.environ.get("APL_DB_IMAGE", STANDIN.db)
    _ensure_image(docker_client, tag, {"APL_DB_STANDIN": tag})
    return tag


@pytest.fixture(scope="session")
def python_image(docker_client: docker.DockerClient) -> str:
    """The Python base stand-in (``APL_PYTHON_IMAGE``), built by the stand-in script if missing."""
    tag = os.environ.get("APL_PYTHON_IMAGE", STANDIN.python)
    _ensure_image(docker_client, tag, {"APL_PYTHON_STANDIN": tag})
    return tag


def _ensure_image(client: docker.DockerClient, tag: str, script_env: dict[str, str]) -> None:
    try:
        client.images.get(tag)
        return
    except ImageNotFound:
        pass
    # The script builds only what is missing, so a second call for another tag is cheap.
    subprocess.run(["bash", str(BUILD_SCRIPT)], check=True, env={**os.environ, **script_env}, cwd=REPO_ROOT)
    client.images.get(tag)
