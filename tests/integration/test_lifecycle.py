"""Seed section 1.2's life cycle with the lesson's own settings: up, restart, down, up, down -v."""

from __future__ import annotations

import pytest
import requests

from stack.invoke import Background, orchestrate_command
from stack.ports import free_port
from stack.waiting import wait_for

from .support import Orchestrate, owned, python_image

pytestmark = pytest.mark.integration

LESSON = {"MYSQL_USER": "root", "MYSQL_PASSWORD": "qwerty"}


def test_life_cycle_keeps_data_until_the_volume_goes(
    orchestrate: Orchestrate, project: str, docker_client
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def run(*args: str) -> str:
        result = orchestrate("--project", project, "--port", str(port), *args, env=LESSON)
        assert result.returncode == 0, f"{args}:\n{result.stderr}"
        return result.stderr

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

    removed = run("down", "--volumes", "--rmi")
    assert owned(docker_client, project) == {"containers": [], "networks": [], "volumes": [], "images": []}
    # The image as `up` named it, on Podman too (which calls it docker.io/library/...).
    assert f"Image {project}-apl-app:latest " in removed


def test_a_password_in_any_script_reaches_the_database(orchestrate: Orchestrate, project: str) -> None:
    port = free_port()
    env = {"MYSQL_USER": "apl", "MYSQL_PASSWORD": "wörd 密码 пароль 🐳"}
    result = orchestrate("--project", project, "--port", str(port), "up", env=env)
    assert result.returncode == 0, result.stderr
    assert "Connected successfully." in requests.get(f"http://127.0.0.1:{port}/", timeout=10).text


def test_down_names_what_keeps_the_network_and_removes_the_rest(
    orchestrate: Orchestrate, project: str, docker_client
) -> None:
    assert orchestrate("--project", project, "--port", str(free_port()), "up").returncode == 0
    network = f"{project}-apl-net"
    # A container of the user's own on the stack's network, as in the lesson's `docker run --network`.
    stranger = docker_client.containers.run(
        python_image(), ["sleep", "60"], name=f"{project}-stranger", network=network, detach=True
    )
    try:
        result = orchestrate("--project", project, "down")
        assert result.returncode == 1
        problem, fix = result.stderr.splitlines()[-2:]
        assert problem == f"error: still in use, so kept: network {network} (attached: {project}-stranger)"
        assert fix.startswith("fix: ")
        left = owned(docker_client, project)
        assert left["containers"] == [] and left["networks"] == [network]
    finally:
        stranger.remove(force=True, v=True)
    assert orchestrate("--project", project, "down", "--volumes", "--rmi").returncode == 0
    assert owned(docker_client, project) == {"containers": [], "networks": [], "volumes": [], "images": []}


def test_a_half_made_stack_can_be_looked_at_and_removed(
    orchestrate: Orchestrate, project: str, docker_client
) -> None:
    """What an `up` killed before the app's container was made leaves: every command still works."""
    port = free_port()
    assert orchestrate("--project", project, "--port", str(port), "up").returncode == 0
    docker_client.containers.get(f"{project}-apl-app").remove(force=True)

    logs = orchestrate("--project", project, "logs")
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert lines and all(line.startswith(f"{project}-mysql | ") for line in lines)
    status = orchestrate("--project", project, "status")
    assert status.returncode == 0 and f"container {project}-mysql" in status.stdout
    assert f"{project}-apl-app" not in status.stdout
    missing = orchestrate("--project", project, "logs", "app")
    assert missing.returncode == 1
    assert missing.stderr.startswith(f"error: the app container of project {project} does not exist")
    assert orchestrate("--project", project, "down", "--volumes").returncode == 0
    assert owned(docker_client, project)["containers"] == []


def test_logs_follow_a_restarted_app_and_end_when_down_removes_it(
    orchestrate: Orchestrate, project: str
) -> None:
    port = free_port()
    assert orchestrate("--project", project, "--port", str(port), "up").returncode == 0
    follow = Background(orchestrate_command("--project", project, "logs", "-f", "app"))
    try:
        started = "[INFO] Starting gunicorn"
        wait_for(lambda: follow.said(started), timeout=60)
        assert orchestrate("--project", project, "--port", str(port), "-q", "restart", "app").returncode == 0
        # The engine ends a stopped container's stream; the restarted gunicorn is followed too, once.
        restarted = wait_for(lambda: len([line for line in follow.lines if started in line]) == 2, timeout=60)
        assert restarted and follow.process.poll() is None
        assert orchestrate("--project", project, "-q", "down").returncode == 0
        assert follow.process.wait(timeout=60) == 0
    finally:
        follow.interrupt()
    assert follow.lines[-1] == f"{project}-apl-app was removed; no longer following it"
    assert not [line for line in follow.lines if "Traceback" in line]
