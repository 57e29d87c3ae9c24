"""Each failure `up` must explain in a line or two, provoked for real, leaving nothing behind."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from stack.invoke import copy_tree, orchestrate_command
from stack.ports import free_port
from stack.resources import ProjectResources, listed_containers
from stack.waiting import wait_for

from .support import NOTHING, Orchestrate, Stack, debris, failure, never_ready_up, owned

pytestmark = pytest.mark.integration


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


def test_db_that_never_gets_ready(
    orchestrate: Orchestrate, project: str, never_ready_image: str, docker_client
) -> None:
    problem, fix = failure(orchestrate(*never_ready_up(project, never_ready_image, timeout=3)))
    assert problem == f"error: the database in container {project}-mysql did not accept a TCP query within 3s"
    assert "log lines" in fix
    assert debris(docker_client, project) == NOTHING


def test_build_error_names_the_failing_step(
    orchestrate: Orchestrate, project: str, tmp_path: Path, docker_client
) -> None:
    copy = copy_tree(tmp_path / "repo")
    dockerfile = copy / "Dockerfile"
    step = f"RUN echo this step of {project} is broken && exit 3"
    dockerfile.write_text(dockerfile.read_text() + f"\n{step}\n")
    result = orchestrate("--project", project, "--port", str(free_port()), "up", root=copy)
    problem, _ = failure(result)
    assert "failed at Step" in problem and step in problem
    assert "its command exited with code 3" in problem
    assert debris(docker_client, project) == NOTHING
    # The failed step's build container is removed too: found by its command, which names this project
    # only, so builds and containers of others on the same engine cannot change the outcome.
    step_containers = [
        c.name for c in listed_containers(docker_client) if project in c.attrs.get("Command", "")
    ]
    assert step_containers == []


@pytest.mark.parametrize("spoil", ["unknown instruction", "no Dockerfile"])
def test_a_dockerfile_the_engine_refuses_is_named_with_its_fix(
    orchestrate: Orchestrate, project: str, tmp_path: Path, docker_client, spoil: str
) -> None:
    copy = copy_tree(tmp_path / "repo")
    dockerfile = copy / "Dockerfile"
    if spoil == "no Dockerfile":
        dockerfile.unlink()
    else:
        dockerfile.write_text(dockerfile.read_text() + "\nFROBNICATE nothing\n")
    result = orchestrate("--project", project, "--port", str(free_port()), "up", root=copy)
    problem, fix = failure(result)
    # Docker refuses the build request itself; Podman starts it and reports the error in its output.
    assert problem.startswith(f"error: building {project}-apl-app:latest failed ")
    assert ("FROBNICATE" if spoil == "unknown instruction" else "Dockerfile") in problem
    assert fix.startswith("fix: fix ") and f"{dockerfile} and run the command again" in fix
    assert f"Image {project}-apl-app:latest" in result.stderr and "Failed" in result.stderr
    assert debris(docker_client, project) == NOTHING


def test_a_template_that_does_not_compile_stops_up_and_is_named(
    orchestrate: Orchestrate, project: str, tmp_path: Path, docker_client
) -> None:
    # Found at the first page it would be a 500 for every visitor behind a "healthy" stack: the
    # app compiles its templates as it starts, and the worker's traceback is what `up` shows.
    copy = copy_tree(tmp_path / "repo")
    base = copy / "app" / "templates" / "base.html"
    base.write_text(base.read_text() + "{% if %}\n")
    result = orchestrate("--project", project, "--port", str(free_port()), "up", root=copy)
    problem, _ = failure(result)
    # gunicorn exits with 3 for a worker that failed to boot, or 1 when its halt itself fails.
    assert problem.startswith(f"error: container {project}-apl-app stopped during start-up (exit code ")
    assert "TemplateSyntaxError: Expected an expression" in result.stderr
    assert "HaltServer" not in result.stderr and "Worker exiting" not in result.stderr
    assert debris(docker_client, project) == NOTHING


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["Ctrl-C", "SIGTERM", "SIGHUP"]
)
def test_ctrl_c_during_up_removes_what_it_made(
    project: str, never_ready_image: str, docker_client, signum: signal.Signals
) -> None:
    # `kill`, `timeout` and a closed terminal stop a run as Ctrl-C does: nothing half-made is left.
    process = subprocess.Popen(
        orchestrate_command(*never_ready_up(project, never_ready_image, timeout=120)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Interrupt once `up` is waiting: both containers then exist.
        services = ProjectResources(docker_client, project)
        wait_for(lambda: len(services.containers()) == 2, timeout=120, interval=0.2)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signum
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
