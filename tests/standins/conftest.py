"""Fixtures for the stand-in image tests: a Docker client and the images, built when missing."""

from __future__ import annotations

import os

import docker
import pytest
from docker.errors import ImageNotFound

from stack.images import STANDIN, ImageSet

from .support import run_build_script


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``-m "not standins"`` skips every test that needs a Docker engine."""
    config.addinivalue_line(
        "markers", "standins: runs the registry-free stand-in images (needs a Docker engine)"
    )


# The images under test: the stand-ins by default, or others named in the environment.
IMAGES = ImageSet(
    db=os.environ.get("APL_DB_IMAGE", STANDIN.db), python=os.environ.get("APL_PYTHON_IMAGE", STANDIN.python)
)


@pytest.fixture(scope="session")
def db_image(docker_client: docker.DockerClient) -> str:
    """The DB image under test (``APL_DB_IMAGE``), built by the stand-in script if missing."""
    _ensure_image(docker_client, IMAGES.db)
    return IMAGES.db


@pytest.fixture(scope="session")
def python_image(docker_client: docker.DockerClient) -> str:
    """The Python base stand-in (``APL_PYTHON_IMAGE``), built by the stand-in script if missing."""
    _ensure_image(docker_client, IMAGES.python)
    return IMAGES.python


def _ensure_image(client: docker.DockerClient, tag: str) -> None:
    try:
        client.images.get(tag)
        return
    except ImageNotFound:
        pass
    # The script builds only what is missing or stale, so a second call for another tag is cheap.
    run_build_script(IMAGES)
    client.images.get(tag)
