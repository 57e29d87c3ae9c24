"""The running stack through its published port, and `up` run again on it."""

from __future__ import annotations

import contextlib
import queue
import signal
import subprocess
import sys
import threading

import docker
import pytest
import requests

from stack.waiting import wait_for

from .support import REPO, RUN_ID, Orchestrate, Stack, python_image

pytestmark = pytest.mark.integration

SUCCESS = {"en": "Connected successfully.", "ko": "접속에 성공했습니다.", "ja": "接続に成功しました。"}


@pytest.mark.parametrize("language", sorted(SUCCESS))
def test_connection_page_says_success_in_the_readers_language(stack: Stack, language: str) -> None:
    page = requests.get(stack.base_url + "/", headers={"Accept-Language": language}, timeout=10)
    assert page.status_code == 200
    assert SUCCESS[language] in page.text
    assert 'data-ok="true"' in page.text


def test_readyz_reports_a_database_round_trip(stack: Stack) -> None:
    ready = requests.get(stack.base_url + "/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["database"] == "mysql:3306"


def test_messages_post_and_read_back(stack: Stack) -> None:
    text = "hello from the stack 안녕 🐳"
    created = requests.post(stack.base_url + "/api/messages", json={"text": text}, timeout=10)
    assert created.status_code == 201
    row = created.json()
    assert row["text"] == text
    listed = requests.get(stack.base_url + "/api/messages", params={"limit": 5}, timeout=10).json()
    assert listed["messages"][0]["id"] == row["id"]
    assert listed["messages"][0]["text"] == text


def container_ids(client: docker.DockerClient, stack: Stack) -> dict[str, str]:
    return {name: client.containers.get(stack.name(name)).id for name in ("mysql", "apl-app")}


def progress_states(stderr: str, kind: str, name: str) -> list[str]:
    """The states the progress lines (` ✔ Container NAME   Running`) gave that one resource, in order."""
    own = f"{kind} {name} "  # the space: a longer name with this one as its prefix is another resource
    rests = (line.split(maxsplit=1)[-1] for line in stderr.splitlines() if line.strip())
    return [rest[len(own) :].strip() for rest in rests if rest.startswith(own)]


def test_second_up_changes_nothing(orchestrate: Orchestrate, stack: Stack, docker_client) -> None:
    before = container_ids(docker_client, stack)
    result = orchestrate("--project", stack.project, "--port", str(stack.port), "up")
    assert result.returncode == 0, result.stderr
    assert container_ids(docker_client, stack) == before
    for resource in ("Network", "Volume", "Image"):
        assert any(
            line.split()[1] == resource and line.endswith("Up to date") for line in result.stderr.splitlines()
        )
    # Found running (then healthy), never created, started or replaced.
    mysql_states = progress_states(result.stderr, "Container", stack.name("mysql"))
    assert mysql_states[:1] == ["Running"] and set(mysql_states) <= {"Running", "Healthy"}, result.stderr
    assert "Building" not in result.stderr and "Creating" not in result.stderr


def test_an_app_change_replaces_only_the_app(orchestrate: Orchestrate, stack: Stack, docker_client) -> None:
    # Same base image under another name: the app's build settings change, nothing else does.
    repository = "apltest/python-alias"  # tagged as (repository, tag): Podman refuses a tag inside the name
    alias = f"{repository}:{RUN_ID}"
    before = container_ids(docker_client, stack)
    old_image = docker_client.containers.get(stack.name("apl-app")).attrs["Image"]
    try:
        # Tagged inside the try, so that the finally removes the tag whatever fails after it.
        docker_client.images.get(python_image()).tag(repository, RUN_ID)
        changed = orchestrate(
            "--project", stack.project, "--port", str(stack.port), "--python-image", alias, "up"
        )
        assert changed.returncode == 0, changed.stderr
        after = container_ids(docker_client, stack)
        assert after["mysql"] == before["mysql"]
        assert after["apl-app"] != before["apl-app"]
        assert "Recreating" in progress_states(changed.stderr, "Container", stack.name("apl-app"))
        # The image it replaced is removed rather than left dangling.
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(old_image)
    finally:
        try:
            restored = orchestrate("--project", stack.project, "--port", str(stack.port), "up")
        finally:
            with contextlib.suppress(docker.errors.ImageNotFound):  # the tag may not have been made
                docker_client.images.remove(alias)
    assert restored.returncode == 0, restored.stderr
    assert requests.get(stack.base_url + "/readyz", timeout=10).status_code == 200


def test_status_lists_every_resource(orchestrate: Orchestrate, stack: Stack) -> None:
    result = orchestrate("--project", stack.project, "status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["RESOURCE", "STATE", "HEALTH", "PORTS", "IMAGE"]
    rows = {" ".join(line.split()[:2]): line for line in lines[1:]}
    assert set(rows) == {
        f"network {stack.name('apl-net')}",
        f"volume {stack.name('apl-mysql-data')}",
        f"container {stack.name('mysql')}",
        f"container {stack.name('apl-app')}",
    }
    assert f"0.0.0.0:{stack.port}->80/tcp" in rows[f"container {stack.name('apl-app')}"]
    assert "running" in rows[f"container {stack.name('mysql')}"]


def test_logs_are_prefixed_by_container(orchestrate: Orchestrate, stack: Stack) -> None:
    requests.get(stack.base_url + "/healthz", timeout=10)
    result = orchestrate("--project", stack.project, "logs", "app")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith(f"{stack.name('apl-app')} | ") for line in lines)
    assert any("GET /healthz" in line for line in lines)  # gunicorn's access log


def test_logs_follow_shows_new_lines_until_interrupted(stack: Stack) -> None:
    command = [sys.executable, str(REPO / "orchestrate.py"), "--project", stack.project, "logs", "app", "-f"]
    marker = f"/healthz?follow={RUN_ID}"
    seen: list[str] = []
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as follower:
        assert follower.stdout is not None
        threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout], daemon=True).start()

        def marker_logged() -> bool:
            requests.get(stack.base_url + marker, timeout=5)
            while not lines.empty():
                seen.append(lines.get())
            return any(marker in line for line in seen)

        try:
            wait_for(marker_logged, timeout=30, interval=0.2, what="the request in the followed log")
            follower.send_signal(signal.SIGINT)
            assert follower.wait(timeout=10) == 130
        finally:
            follower.kill()
    assert seen and all(line.startswith(f"{stack.name('apl-app')} | ") for line in seen)
