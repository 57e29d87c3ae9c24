"""Each failure `up` must explain in a line or two, provoked for real, leaving nothing behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from stack.images import images_from_env
from stack.ports import free_port
from stack.waiting import wait_for

from .support import REPO, RUN_ID, Orchestrate, Stack, owned

pytestmark = pytest.mark.integration

NOTHING = {"containers": [], "networks": [], "volumes": []}


def debris(client: docker.DockerClient, project: str) -> dict[str, list[str]]:
    """What the project still owns, but for images: a fully built image is reusable cache, not debris."""
    left = owned(client, project)
    del left["images"]
    return left


def failure(result: subprocess.CompletedProcess) -> list[str]:
    """Check the command failed with exit code 1; return its 'error:' line and the 'fix:' line after it."""
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("error: "))
    return lines[start : start + 2]


@pytest.mark.parametrize(
    ("family", "address"),
    [(socket.AF_INET, "0.0.0.0"), (socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")],
    ids=["all addresses", "127.0.0.1 only", "[::1] only"],
)
def test_port_held_by_a_host_process(
    orchestrate: Orchestrate, project: str, docker_client, family: socket.AddressFamily, address: str
) -> None:
    # The engine publishes on every address of both families: a listener on one loopback address
    # alone still makes the container's start fail, so `up` must find it before creating anything.
    with socket.socket(family) as holder:
        if family == socket.AF_INET6:
            holder.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            holder.bind((address, 0))
        except OSError as error:
            pytest.skip(f"this host cannot listen on {address}: {error}")
        holder.listen()
        port = holder.getsockname()[1]
        result = orchestrate("--project", project, "--port", str(port), "up")
    problem, fix = failure(result)
    assert problem == f"error: host port {port} is already taken by another process"
    assert "--port" in fix
    assert debris(docker_client, project) == NOTHING


def test_port_held_by_another_stacks_container(
    orchestrate: Orchestrate, project: str, stack: Stack, docker_client
) -> None:
    result = orchestrate("--project", project, "--port", str(stack.port), "up")
    assert failure(result)[0] == (
        f"error: host port {stack.port} is already taken by container {stack.name('apl-app')}"
    )
    assert debris(docker_client, project) == NOTHING


def test_engine_that_does_not_answer(orchestrate: Orchestrate, project: str) -> None:
    closed = free_port()
    result = orchestrate("--project", project, "status", env={"DOCKER_HOST": f"tcp://127.0.0.1:{closed}"})
    problem, fix = failure(result)
    assert problem.startswith(f"error: the Docker engine at tcp://127.0.0.1:{closed} does not answer")
    assert "scripts/docker-engine.sh" in fix


def test_image_that_cannot_be_pulled(orchestrate: Orchestrate, project: str, docker_client) -> None:
    result = orchestrate(
        "--project", project, "--port", str(free_port()), "--db-image", "apltest/absent:1", "up"
    )
    assert failure(result)[0].startswith("error: cannot pull apltest/absent:1")
    assert debris(docker_client, project) == NOTHING


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


def test_db_that_never_gets_ready(
    orchestrate: Orchestrate, project: str, never_ready_image: str, docker_client
) -> None:
    result = orchestrate(
        "--project",
        project,
        "--port",
        str(free_port()),
        "--db-image",
        never_ready_image,
        "--timeout",
        "3",
        "up",
    )
    problem, fix = failure(result)
    assert problem == f"error: the database in container {project}-mysql did not accept a TCP query within 3s"
    assert "log lines" in fix
    assert debris(docker_client, project) == NOTHING


def test_build_error_names_the_failing_step(
    orchestrate: Orchestrate, project: str, tmp_path: Path, docker_client
) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(
        REPO, copy, ignore=shutil.ignore_patterns(".git", ".venv", ".apl", "__pycache__", ".*_cache")
    )
    dockerfile = copy / "Dockerfile"
    step = f"RUN echo {project} step is broken && exit 3"  # the project names this test's step alone
    dockerfile.write_text(dockerfile.read_text() + f"\n{step}\n")
    result = orchestrate("--project", project, "--port", str(free_port()), "up", root=copy)
    problem, _ = failure(result)
    assert "failed at Step" in problem and step in problem
    assert "its command exited with code 3" in problem
    assert debris(docker_client, project) == NOTHING
    # The failed step's build container is removed too. Only this test's step is looked for: other
    # commands on a shared engine create and remove containers meanwhile.
    commands = [" ".join(c.attrs["Config"]["Cmd"] or []) for c in docker_client.containers.list(all=True)]
    assert not [command for command in commands if f"{project} step is broken" in command]


def test_ctrl_c_during_up_removes_what_it_made(project: str, never_ready_image: str, docker_client) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "orchestrate.py"),
            "--project",
            project,
            "--port",
            str(free_port()),
            "--db-image",
            never_ready_image,
            "--timeout",
            "120",
            "up",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Interrupt once `up` is waiting: both containers then exist.
        wait_for(lambda: len(owned(docker_client, project)["containers"]) == 2, timeout=120, interval=0.2)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "error: interrupted; the stack is as it was before this run" in stderr
    assert debris(docker_client, project) == NOTHING


def test_a_failed_update_puts_the_running_stack_back(
    orchestrate: Orchestrate, stack: Stack, never_ready_image: str, docker_client
) -> None:
    before = {name: docker_client.containers.get(stack.name(name)).id for name in ("mysql", "apl-app")}
    result = orchestrate(
        "--project",
        stack.project,
        "--port",
        str(stack.port),
        "--db-image",
        never_ready_image,
        "--timeout",
        "3",
        "up",
    )
    assert failure(result)[0].startswith(f"error: the database in container {stack.name('mysql')} did not")
    assert f"Container {stack.name('mysql')}" in result.stderr and "Restored" in result.stderr
    after = {name: docker_client.containers.get(stack.name(name)).id for name in ("mysql", "apl-app")}
    assert after == before
    # Nothing of the attempt is left: no new DB container, no renamed old one.
    assert set(owned(docker_client, stack.project)["containers"]) == {
        stack.name("mysql"),
        stack.name("apl-app"),
    }
    # The app finds its old DB again by itself.
    wait_for(
        lambda: requests.get(f"{stack.base_url}/readyz", timeout=2).status_code == 200,
        timeout=60,
        transient=(requests.RequestException,),
        what="the restored stack to answer",
    )


def test_an_invalid_image_reference_is_named(orchestrate: Orchestrate, project: str, docker_client) -> None:
    result = orchestrate("--project", project, "--port", str(free_port()), "--db-image", "Bad:Name", "up")
    problem, fix = failure(result)
    assert problem.startswith("error: 'Bad:Name' is not a valid image reference")
    assert "lower case" in fix
    assert debris(docker_client, project) == NOTHING
