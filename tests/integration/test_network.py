"""Seed section 4.1 for real: names resolve on the stack's network and nowhere else."""

from __future__ import annotations

import json

import docker
import pytest

from stack.spec import LABEL_PROJECT

from .support import Stack, python_image

pytestmark = pytest.mark.integration

# Runs inside a probe container: resolve each name, and fetch the app's /healthz by name.
PROBE = """
import json, socket, sys, urllib.request
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = socket.gethostbyname(name)
    except OSError:
        found[name] = None
try:
    status = urllib.request.urlopen(f"http://{sys.argv[2]}/healthz", timeout=5).status
except OSError:
    status = None
print(json.dumps({"addresses": found, "app_status": status}))
"""


def probe(client: docker.DockerClient, project: str, network: str, *names: str) -> dict:
    """What a throwaway container on ``network`` can resolve and reach; it belongs to ``project``."""
    output = client.containers.run(
        python_image(),
        ["python", "-c", PROBE, *names],
        network=network,
        remove=True,
        # The project label too: a probe left by an interrupted run goes with the project's teardown.
        labels={"com.apl.test": "probe", LABEL_PROJECT: project},
    )
    return json.loads(output.decode().strip().splitlines()[-1])


def test_a_container_on_the_stack_network_resolves_the_db_and_reaches_the_app(
    docker_client: docker.DockerClient, stack: Stack
) -> None:
    result = probe(docker_client, stack.project, stack.name("apl-net"), "mysql", stack.name("apl-app"))
    assert result["addresses"]["mysql"] is not None
    assert result["addresses"][stack.name("apl-app")] is not None
    assert result["app_status"] == 200


def test_a_container_on_the_default_bridge_resolves_neither(
    docker_client: docker.DockerClient, stack: Stack
) -> None:
    result = probe(docker_client, stack.project, "bridge", "mysql", stack.name("apl-app"))
    assert result["addresses"] == {"mysql": None, stack.name("apl-app"): None}
    assert result["app_status"] is None


def test_the_db_port_is_not_published(docker_client: docker.DockerClient, stack: Stack) -> None:
    db = docker_client.containers.get(stack.name("mysql"))
    # Engines list an exposed port with no binding differently ({} or {"3306/tcp": None}).
    assert all(not bindings for bindings in (db.attrs["HostConfig"]["PortBindings"] or {}).values())
    published = db.attrs["NetworkSettings"]["Ports"] or {}
    assert published and all(not bindings for bindings in published.values()), published
