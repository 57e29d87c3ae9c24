"""Seed section 1.2's life cycle with the lesson's own settings: up, restart, down, up, down -v."""

from __future__ import annotations

import pytest
import requests

from tests.support import free_port

from .support import Orchestrate, owned

pytestmark = pytest.mark.integration

LESSON = {"MYSQL_USER": "root", "MYSQL_PASSWORD": "qwerty"}


def test_life_cycle_keeps_data_until_the_volume_goes(
    orchestrate: Orchestrate, project: str, docker_client
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def run(*args: str) -> None:
        result = orchestrate("--project", project, "--port", str(port), *args, env=LESSON)
        assert result.returncode == 0, f"{args}:\n{result.stderr}"

    def texts() -> list[str]:
        return [m["text"] for m in requests.get(url + "/api/messages", timeout=10).json()["messages"]]

    run("up")
    assert "Connected successfully." in requests.get(url + "/", timeout=10).text
    assert requests.post(url + "/api/messages", json={"text": "kept"}, timeout=10).status_code == 201

    run("restart")
    assert texts() == ["kept"]

    run("down")
    left = owned(docker_client, project)
    assert (left["containers"], left["networks"]) == ([], [])
    assert left["volumes"] == [f"{project}-apl-mysql-data"]
    assert len(left["images"]) == 1  # kept without --rmi, as Compose keeps built images

    run("up")
    assert texts() == ["kept"]

    run("down", "--volumes", "--rmi")
    assert owned(docker_client, project) == {"containers": [], "networks": [], "volumes": [], "images": []}
