"""`push --registry`: the app image goes to a real local registry and comes back with the same digest."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from stack.ports import free_port
from stack.spec import LABEL_PROJECT, LABEL_ROLE
from stack.waiting import wait_for

from .support import RUN_ID, Orchestrate

pytestmark = pytest.mark.integration

REGISTRY_CONTEXT = Path(__file__).parent / "registry"
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
)


@pytest.fixture(scope="session")
def registry_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """Debian's docker-registry on the stand-in base, or on Debian's own image where Docker Hub answers."""
    base = "apl/debian:bookworm" if os.environ.get("APL_IMAGES") == "standin" else "debian:bookworm-slim"
    tag = f"apltest/registry:{RUN_ID}"
    docker_client.images.build(
        path=str(REGISTRY_CONTEXT), tag=tag, buildargs={"BASE_IMAGE": base}, rm=True, forcerm=True
    )
    yield tag
    docker_client.images.remove(tag)


@pytest.fixture
def registry(docker_client: docker.DockerClient, registry_image: str, project: str) -> Iterator[str]:
    """A registry on 127.0.0.1 (which the engine lets speak plain HTTP), owned by the test's project."""
    port = free_port()
    container = docker_client.containers.run(
        registry_image,
        detach=True,
        name=f"{project}-registry",
        labels={LABEL_PROJECT: project, LABEL_ROLE: "registry"},
        ports={"5000/tcp": ("127.0.0.1", port)},
    )
    address = f"127.0.0.1:{port}"

    def answers() -> bool:
        return requests.get(f"http://{address}/v2/", timeout=1).status_code == 200

    try:
        wait_for(answers, timeout=30, interval=0.1, transient=(requests.RequestException,))
        yield address
    finally:
        container.remove(force=True, v=True)


def test_a_pushed_image_pulls_back_with_the_same_digest(
    orchestrate: Orchestrate, project: str, registry: str, docker_client: docker.DockerClient
) -> None:
    built = orchestrate("--project", project, "build")
    assert built.returncode == 0, built.stderr

    pushed = orchestrate("--project", project, "push", "--registry", registry)
    assert pushed.returncode == 0, pushed.stderr
    reference = pushed.stdout.split()[1]  # "pushed HOST:PORT/NAME@sha256:..."
    repository, digest = reference.split("@")
    assert repository == f"{registry}/{project}-apl-app" and digest.startswith("sha256:")
    assert f"Image {repository}:latest" in pushed.stderr and "Pushed" in pushed.stderr

    # What a cluster would pull, asked of the registry itself (an engine may need configuring to
    # pull over plain HTTP; Podman does): the manifest under that digest runs the local image.
    local = docker_client.images.get(f"{project}-apl-app:latest")
    name = repository.removeprefix(f"{registry}/")
    manifest = requests.get(
        f"http://{registry}/v2/{name}/manifests/{digest}", headers={"Accept": MANIFEST_TYPES}, timeout=10
    )
    assert manifest.status_code == 200 and manifest.headers["Docker-Content-Digest"] == digest
    assert manifest.json()["config"]["digest"] == local.id  # an image's ID is its config's digest

    closed = f"127.0.0.1:{free_port()}"
    failed = orchestrate("--project", project, "push", "--registry", closed)
    assert failed.returncode == 1 and f"no registry answers at {closed}" in failed.stderr
    local.reload()
    assert not [tag for tag in local.tags if tag.startswith(closed)]  # no tag left naming that registry
    # The image, all its tags included, goes with the project's cleanup, by its label.
