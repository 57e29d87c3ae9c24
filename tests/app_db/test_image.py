"""The app's image: small, non-root, cache-friendly, and a stack whose messages survive restarts."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests
from docker.models.containers import Container
from docker.models.images import Image

from stack.ports import free_port
from stack.spec import UNPRIVILEGED_PORTS
from stack.waiting import wait_for

from .conftest import LABELS, REPO, DBServer, image_from_settings

pytestmark = pytest.mark.appdb

BUILD_FILES = ("Dockerfile", ".dockerignore", "gunicorn.conf.py", "app", "db")
MAX_GROWTH = 40 * 1000 * 1000  # bytes the app may add to its base image


def build(client: docker.DockerClient, context: Path, tag: str) -> Image:
    """Build with the classic builder, as docker-py always does, on the base the settings name."""
    base = image_from_settings(client, "python")
    image, _logs = client.images.build(
        path=str(context), tag=tag, buildargs={"PYTHON_IMAGE": base}, labels=LABELS, rm=True
    )
    return image


@pytest.fixture(scope="module")
def image(docker_client: docker.DockerClient) -> Iterator[Image]:
    """The app's image built from the repository, untagged afterwards."""
    tag = f"apl-test-appdb-image:{secrets.token_hex(4)}"
    yield build(docker_client, REPO, tag)
    docker_client.images.remove(tag, noprune=False)


@pytest.fixture
def stack(
    docker_client: docker.DockerClient, db_server: DBServer, image: Image
) -> Iterator[tuple[Container, str]]:
    """The app container and the DB on a private network where the DB answers to "mysql"."""
    suffix = secrets.token_hex(4)
    network = docker_client.networks.create(f"apl-test-appdb-net-{suffix}", labels=LABELS)
    app: Container | None = None
    try:
        network.connect(db_server.container, aliases=["mysql"])
        port = free_port()
        app = docker_client.containers.run(
            image.id,
            name=f"apl-test-appdb-app-{suffix}",
            detach=True,
            labels=LABELS,
            network=network.name,
            ports={"80/tcp": ("127.0.0.1", port)},
            sysctls=dict(UNPRIVILEGED_PORTS),  # as `up` runs it: port 80 as uid 10001 on every engine
            environment={
                "MYSQL_USER": "apl",
                "MYSQL_PASSWORD": db_server.app_password,
                "MYSQL_DATABASE": "apl_test",
            },
        )
        yield app, f"http://127.0.0.1:{port}"
    finally:
        if app is not None:
            app.remove(force=True)
        network.disconnect(db_server.container, force=True)
        network.remove()


def _get(url: str) -> requests.Response | None:
    try:
        return requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None


def test_image_is_small_and_runs_as_a_fixed_unprivileged_user(
    docker_client: docker.DockerClient, image: Image
) -> None:
    base = docker_client.images.get(image_from_settings(docker_client, "python"))
    assert image.attrs["Size"] - base.attrs["Size"] <= MAX_GROWTH
    assert image.attrs["Config"]["User"] == "10001:10001"
    # Read from a container of the image: Podman's Docker API leaves the image's own copy out.
    probe = docker_client.containers.create(image.id)
    try:
        assert probe.attrs["Config"]["Healthcheck"]["Test"][:2] == ["CMD", "python"]
    finally:
        probe.remove()
    assert image.attrs["Config"]["Cmd"] == ["gunicorn", "app:create_app()"]


def test_editing_code_reuses_the_dependency_layer(docker_client: docker.DockerClient, tmp_path: Path) -> None:
    for name in BUILD_FILES:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, tmp_path / name)
    tag = f"apl-test-appdb-image:{secrets.token_hex(4)}"
    first = build(docker_client, tmp_path, tag)
    with (tmp_path / "app" / "pages.py").open("a") as pages:
        pages.write("\n# an edit that changes nothing but the code layer\n")
    second = build(docker_client, tmp_path, tag + "-edited")
    try:
        assert first.id != second.id
        layers = first.attrs["RootFS"]["Layers"], second.attrs["RootFS"]["Layers"]
        # Everything up to and including `pip install` is shared; only the code layers differ.
        shared = sum(1 for a, b in zip(*layers, strict=False) if a == b)
        assert shared == len(layers[0]) - 1
    finally:
        for name in (tag, tag + "-edited"):
            docker_client.images.remove(name, noprune=False)


def test_stack_serves_the_page_and_keeps_messages_across_restarts(
    stack: tuple[Container, str], db_server: DBServer
) -> None:
    app, url = stack
    ready = wait_for(
        lambda: r if (r := _get(f"{url}/readyz")) and r.status_code == 200 else None, timeout=60, what="app"
    )
    assert ready.json()["database"] == "mysql:3306"
    assert app.exec_run(["id", "-u"]).output.decode().strip() == "10001"
    assert app.exec_run(image_healthcheck(app)).exit_code == 0

    text = f"survives restarts {secrets.token_hex(3)}"
    assert requests.post(f"{url}/api/messages", json={"text": text}, timeout=5).status_code == 201

    app.stop(timeout=10)
    app.reload()
    assert app.attrs["State"]["ExitCode"] == 0  # gunicorn stopped on SIGTERM: Docker's SIGKILL gives 137
    db_server.container.restart(timeout=10)
    db_server.wait_ready()
    app.start()

    page = wait_for(
        lambda: r if (r := _get(f"{url}/")) and r.status_code == 200 else None, timeout=60, what="page"
    )
    assert "Connected successfully." in page.text and text in page.text
    logs = app.logs().decode(errors="replace")
    assert '"POST /api/messages HTTP/1.1" 201' in logs  # the access log is on stdout
    assert db_server.app_password not in logs


def image_healthcheck(container: Container) -> list[str]:
    """The image's HEALTHCHECK command, to run it now rather than wait for its interval."""
    return container.attrs["Config"]["Healthcheck"]["Test"][1:]  # a container carries its image's
