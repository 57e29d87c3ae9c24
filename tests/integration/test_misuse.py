"""orchestrate.py used carelessly, for real: each misuse ends in a line or two, or the documented wait."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import docker
import pytest

from stack.images import images_from_env
from stack.invoke import orchestrate_command
from stack.lock import LABEL_HOLDER
from stack.ports import free_port
from stack.resources import ProjectResources
from stack.settings import credentials_file
from stack.spec import LABEL_PROJECT, LABEL_ROLE
from stack.waiting import wait_for

from .support import NOTHING, REPO, Orchestrate, debris, failure, never_ready_up, owned

pytestmark = pytest.mark.integration


def start_together(*commands: list[str], envs: list[dict[str, str]] | None = None) -> list[subprocess.Popen]:
    """Start ``commands`` at the same moment: each waits at a gate the parent opens once all exist."""
    gate_read, gate_write = os.pipe()
    processes = [
        subprocess.Popen(
            # The shell blocks reading the gate (its stdin) until the parent closes the pipe's
            # other end, then becomes the command.
            ["sh", "-c", 'read _; exec "$@"', "gate", *command],
            stdin=gate_read,
            env={**os.environ, **(envs[n] if envs else {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, command in enumerate(commands)
    ]
    os.close(gate_read)
    os.close(gate_write)  # EOF for every reader at once: all commands start now
    return processes


def finish(processes: list[subprocess.Popen], timeout: float = 400) -> list[tuple[int, str]]:
    """Wait for every process; return (exit code, stderr) each, killing any still running on the way out."""
    try:
        errors = [p.communicate(timeout=timeout)[1] for p in processes]
        return [(p.returncode, err) for p, err in zip(processes, errors, strict=True)]
    finally:
        for process in processes:
            process.kill()


def networks_named(client: docker.DockerClient, name: str) -> list[str]:
    return [n.id for n in client.networks.list(filters={"name": name}) if n.name == name]


def test_two_ups_at_once_run_one_after_the_other(project: str, docker_client) -> None:
    port = str(free_port())
    up = orchestrate_command("--project", project, "--port", port, "up")
    results = finish(start_together(up, up))
    assert [code for code, _ in results] == [0, 0], results
    waited = [err for _, err in results if f"is working on project {project}" in err]
    assert len(waited) == 1, results
    assert "waiting: orchestrate.py up (pid " in waited[0]
    assert not any("Traceback" in err for _, err in results)
    assert len(networks_named(docker_client, f"{project}-apl-net")) == 1
    assert sorted(owned(docker_client, project)["containers"]) == [f"{project}-apl-app", f"{project}-mysql"]


def test_up_and_down_at_once_leave_one_whole_state(project: str, docker_client) -> None:
    options = ("--project", project, "--port", str(free_port()))
    results = finish(
        start_together(orchestrate_command(*options, "up"), orchestrate_command(*options, "down"))
    )
    assert [code for code, _ in results] == [0, 0], results
    assert not any("Traceback" in err for _, err in results)
    left = owned(docker_client, project)
    # One ran after the other: the whole stack (down first), or none of it (up first); never a half.
    assert (len(left["containers"]), len(left["networks"])) in ((2, 1), (0, 0)), (left, results)


def test_a_container_removed_while_listed_is_left_out(project: str, docker_client) -> None:
    """Another command (a `down`, a rollback, a test's clean-up) may remove a container between
    the engine's list and the inspect of each entry: the list goes on without it."""
    image = images_from_env(os.environ).db
    labels = {LABEL_PROJECT: project}
    kept = docker_client.containers.create(image, labels={**labels, LABEL_ROLE: "db"}, command=["true"])
    gone = docker_client.containers.create(image, labels={**labels, LABEL_ROLE: "app"}, command=["true"])
    real_inspect = docker_client.api.inspect_container

    def inspect_after_removing(container_id: str) -> dict:
        if container_id == gone.id:
            gone.remove(force=True, v=True)  # really removed: the engine answers the inspect below with 404
        return real_inspect(container_id)

    docker_client.api.inspect_container = inspect_after_removing
    try:
        found = ProjectResources(docker_client, project).containers()
    finally:
        docker_client.api.inspect_container = real_inspect
    assert [c.id for c in found] == [kept.id]


def test_down_during_up_waits_for_it(project: str, docker_client) -> None:
    options = ("--project", project, "--port", str(free_port()))
    up = subprocess.Popen(orchestrate_command(*options, "up"), stderr=subprocess.PIPE, text=True)
    try:
        # The network exists once `up` is under way, holding the project's lock.
        wait_for(lambda: networks_named(docker_client, f"{project}-apl-net"), timeout=120, interval=0.05)
        (down_code, down_err), (up_code, up_err) = finish(
            [
                subprocess.Popen(
                    orchestrate_command(*options, "down"),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
                up,
            ]
        )
    finally:
        up.kill()
    assert (up_code, down_code) == (0, 0), (up_err, down_err)
    assert down_err.startswith(f"waiting: orchestrate.py up (pid {up.pid}) is working on project {project}\n")
    # `down` ran after `up` had finished: all gone but the data volume, which `down` keeps.
    assert debris(docker_client, project) == {**NOTHING, "volumes": [f"{project}-apl-mysql-data"]}


def test_two_hosts_on_one_engine_take_turns(project: str, docker_client, tmp_path: Path) -> None:
    # Each "host" has its own lock folder, as two machines sharing a remote engine do: only the
    # engine-side lock stands between them.
    up = orchestrate_command("--project", project, "--port", str(free_port()), "up")
    folders = [tmp_path / "one", tmp_path / "two"]
    for folder in folders:
        folder.mkdir()
    results = finish(start_together(up, up, envs=[{"TMPDIR": str(folder)} for folder in folders]))
    assert [code for code, _ in results] == [0, 0], results
    waited = [err for _, err in results if f"is working on project {project}" in err]
    assert len(waited) == 1, results
    assert f" on {socket.gethostname()}) is working on project {project}" in waited[0]
    assert len(networks_named(docker_client, f"{project}-apl-net")) == 1
    assert sorted(owned(docker_client, project)["containers"]) == [f"{project}-apl-app", f"{project}-mysql"]


def test_a_lock_left_by_a_dead_command_is_taken_over(
    orchestrate: Orchestrate, project: str, docker_client
) -> None:
    gone = subprocess.Popen(["true"])  # its pid runs no more once it has been waited for
    gone.wait()
    docker_client.containers.create(
        images_from_env(os.environ).db,
        name=f"{project}-apl-lock",
        labels={
            LABEL_PROJECT: project,
            LABEL_ROLE: "lock",
            LABEL_HOLDER: f"{socket.gethostname()} {gone.pid} up",
        },
        network_disabled=True,
    )
    result = orchestrate("--project", project, "--port", str(free_port()), "up")
    assert result.returncode == 0, result.stderr
    assert "waiting:" not in result.stderr  # it found the lock's holder gone and took the lock at once
    assert f"{project}-apl-lock" not in owned(docker_client, project)["containers"]


def test_binary_credentials_file_is_one_error_and_down_still_works(
    orchestrate: Orchestrate, project: str
) -> None:
    path = credentials_file(REPO, project)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"MYSQL_ROOT_PASSWORD=\xff\xfe\x00\x01\n")
    for command in ("up", "plan", "export"):
        args = [command, "compose"] if command == "export" else [command]
        problem, fix = failure(orchestrate("--project", project, "--port", str(free_port()), *args))
        assert problem == f"error: {path} is not a usable credentials file: it holds bytes that are not text"
        assert fix.startswith("fix: restore it from a backup")
    for command in ("status", "down"):
        result = orchestrate("--project", project, command)
        assert result.returncode == 0, result.stderr
        assert f"warning: {path} is not a usable credentials file" in result.stderr
    assert path.read_bytes() == b"MYSQL_ROOT_PASSWORD=\xff\xfe\x00\x01\n"  # never rewritten


def test_junk_credentials_file_is_refused_not_replaced(
    orchestrate: Orchestrate, project: str, docker_client
) -> None:
    path = credentials_file(REPO, project)
    path.parent.mkdir(exist_ok=True)
    path.write_text("these are not the passwords\n")
    problem, _ = failure(orchestrate("--project", project, "--port", str(free_port()), "up"))
    assert problem.startswith(f"error: {path} is not a usable credentials file: line 1 is not one of")
    assert path.read_text() == "these are not the passwords\n"
    assert debris(docker_client, project) == NOTHING


def _data_volume_without_its_credentials(orchestrate: Orchestrate, project: str) -> tuple[str, ...]:
    """A project brought up and down, its data volume kept and its credentials file deleted;
    the options that name it."""
    options = ("--project", project, "--port", str(free_port()))
    assert orchestrate(*options, "up").returncode == 0
    assert orchestrate(*options, "down").returncode == 0  # the data volume stays
    credentials_file(REPO, project).unlink()
    return options


def test_new_passwords_are_never_made_for_an_old_data_volume(
    orchestrate: Orchestrate, project: str, docker_client
) -> None:
    options = _data_volume_without_its_credentials(orchestrate, project)
    path = credentials_file(REPO, project)
    problem, fix = failure(orchestrate(*options, "up"))
    assert problem.startswith(f"error: {path} does not exist, but data volume {project}-apl-mysql-data holds")
    assert f"restore {path} from a backup" in fix and "down --volumes` deletes every message" in fix
    # `plan` and `export` need no engine, but the passwords they would store are the next `up`'s.
    for command in (["plan"], ["export", "compose", "-o", "-"]):
        refused, _ = failure(orchestrate(*options, *command))
        assert refused == problem, command
    assert not path.exists()
    assert owned(docker_client, project)["volumes"] == [f"{project}-apl-mysql-data"]


def test_passwords_the_data_volume_refuses_end_up_at_once_with_what_to_do(
    orchestrate: Orchestrate, project: str, docker_client
) -> None:
    options = _data_volume_without_its_credentials(orchestrate, project)
    # With no engine answering, `plan` cannot know of the volume: it stores new passwords.
    no_engine = {"DOCKER_HOST": f"tcp://127.0.0.1:{free_port()}"}
    assert orchestrate(*options, "plan", env=no_engine).returncode == 0
    # The app's first refused login ends the wait, long before this deadline; waited out, the
    # wait would end in the same error, found by asking as root (whose client says "ERROR 1045").
    began = time.monotonic()
    problem, fix = failure(orchestrate(*options, "--timeout", "300", "up"))
    assert time.monotonic() - began < 120
    assert "ERROR 1045" not in problem
    assert problem.startswith(
        f"error: the database in container {project}-mysql refuses this project's passwords: "
        f"its data volume {project}-apl-mysql-data was initialised with other ones (the server said: "
    )
    assert "Access denied" in problem
    assert f"`python orchestrate.py --project {project} down --volumes` deletes every message" in fix
    assert debris(docker_client, project) == {**NOTHING, "volumes": [f"{project}-apl-mysql-data"]}


def test_a_database_name_the_data_volume_was_not_made_for_ends_up_at_once(
    orchestrate: Orchestrate, project: str, docker_client
) -> None:
    options = ("--project", project, "--port", str(free_port()))
    assert orchestrate(*options, "up").returncode == 0
    began = time.monotonic()
    problem, fix = failure(orchestrate(*options, "--timeout", "300", "up", env={"MYSQL_DATABASE": "other"}))
    assert time.monotonic() - began < 120  # not the deadline: the app's first answer says it all
    assert problem.startswith(
        f"error: the database in container {project}-mysql has no database this project's user may use: "
        f"its data volume {project}-apl-mysql-data was initialised for another MYSQL_DATABASE"
    )
    assert "'other'" in problem and fix.startswith("fix: set MYSQL_DATABASE to the name it was made with")


def test_a_project_name_with_a_final_newline_is_refused(orchestrate: Orchestrate) -> None:
    name = "apltest-newline\n"
    problem, fix = failure(orchestrate("--project", name, "plan"))
    assert problem == "error: invalid project name 'apltest-newline\\n'"
    assert not credentials_file(REPO, name).exists()


def test_down_with_nothing_to_remove_says_so(orchestrate: Orchestrate, project: str) -> None:
    result = orchestrate("--project", project, "down")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"nothing to remove: project {project} has no containers or network\n"


def test_status_agrees_with_up_at_once(orchestrate: Orchestrate, project: str) -> None:
    options = ("--project", project, "--port", str(free_port()))
    up = orchestrate(*options, "up")
    assert up.returncode == 0, up.stderr
    status = orchestrate(*options, "status")  # within a second of `up`'s "Healthy", before any healthcheck
    assert status.returncode == 0, status.stderr
    health = {
        line.split()[1]: line.split()[3]
        for line in status.stdout.splitlines()
        if line.startswith("container ")
    }
    assert health == {f"{project}-mysql": "healthy", f"{project}-apl-app": "healthy"}, status.stdout


def test_a_failed_undo_is_reported_with_how_to_remove_what_is_left(
    project: str, never_ready_image: str, docker_client
) -> None:
    network = f"{project}-apl-net"
    process = subprocess.Popen(
        orchestrate_command(*never_ready_up(project, never_ready_image, timeout=8)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stranger = None
    try:
        # A container of someone else's joins the network `up` made, so `up` cannot remove it when it fails.
        wait_for(lambda: networks_named(docker_client, network), timeout=60, interval=0.1)
        stranger = docker_client.containers.run(
            never_ready_image, name=f"{project}-stranger", network=network, detach=True
        )
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
        if stranger is not None:
            stranger.remove(force=True, v=True)
    assert process.returncode == 1, stderr
    assert "did not accept a TCP query within 8s" in stderr
    assert "undoing this run failed, so these are left; remove them by hand:" in stderr
    assert f"  network {network} (" in stderr and f"docker network rm {network}" in stderr
    assert "as it was before" not in stderr


def test_output_that_cannot_be_written_is_one_line_not_a_traceback(project: str) -> None:
    # /dev/full takes nothing: every write fails with "No space left on device", as a full disk does.
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            orchestrate_command("--project", project, "down"),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    said = "error: cannot write the output: No space left on device\n"
    assert (result.returncode, result.stderr) == (1, said)


def test_fix_lines_name_the_project_they_are_for(orchestrate: Orchestrate, project: str) -> None:
    # Without --project, the command a fix gives would act on the default stack, `apl`.
    _, fix = failure(orchestrate("--project", project, "logs"))
    assert fix == f"fix: start the stack with `python orchestrate.py --project {project} up`"
