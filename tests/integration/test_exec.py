"""`exec`: commands in the running containers, the exit code passed on, no password in sight."""

from __future__ import annotations

import os
import secrets
import select
import signal
import subprocess

import docker
import pytest
from docker.models.containers import Container

from stack import console
from stack.credentials import Credentials
from stack.invoke import orchestrate_command
from stack.resources import ProjectResources
from stack.settings import read_settings
from stack.waiting import wait_for

from .support import Stack

pytestmark = pytest.mark.integration

# Every process in a container: its id, then its command line, one a line.
PROCESSES = 'for p in /proc/[0-9]*; do printf "%s " "${p#/proc/}"; tr "\\0" " " < "$p/cmdline"; echo; done'


def processes(container: Container, text: str) -> dict[int, str]:
    """The processes in ``container`` whose command line holds ``text``, by id."""
    lines = container.exec_run(["sh", "-c", PROCESSES]).output.decode(errors="replace").splitlines()
    return {int(pid): line for pid, _, line in (each.partition(" ") for each in lines) if text in line}


def exec_(stack: Stack, *args: str, given: str = "") -> subprocess.CompletedProcess[str]:
    """`orchestrate.py exec ARGS` with ``given`` as its input, as a pipe (no terminal)."""
    command = orchestrate_command("--project", stack.project, "exec", *args)
    return subprocess.run(command, input=given, capture_output=True, text=True, timeout=120, check=False)


def credentials(stack: Stack) -> Credentials:
    """The session stack's credentials, as orchestrate.py stored them."""
    return read_settings(os.environ, project=stack.project, generate_credentials=False).credentials


def test_the_db_client_runs_sql_as_the_apps_user(stack: Stack) -> None:
    user = credentials(stack).user
    done = exec_(stack, "db", given="SELECT CURRENT_USER(), DATABASE();\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].split("\t") == [f"{user}@%", "apl"]


def test_the_commands_exit_code_is_passed_on(stack: Stack) -> None:
    failed = exec_(stack, "db", given="SELECT * FROM no_such_table;\n")
    assert failed.returncode == 1
    assert "ERROR 1146" in failed.stderr and "no_such_table" in failed.stderr
    assert exec_(stack, "app", "--", "sh", "-c", "exit 7").returncode == 7
    shell = exec_(stack, given="id -u; pwd\n")  # the default: a shell in the app
    assert (shell.returncode, shell.stdout.split()) == (0, ["10001", "/srv/apl"])


def test_the_db_password_is_on_no_command_line(stack: Stack, docker_client: docker.DockerClient) -> None:
    password = credentials(stack).password
    db = ProjectResources(docker_client, stack.project).container("db")
    command = orchestrate_command("--project", stack.project, "exec", "db")
    client = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdin is not None
        client.stdin.write("SELECT SLEEP(5);\n")
        client.stdin.flush()

        def client_lines() -> list[str]:
            lines = list(processes(db, "").values())
            return [line for line in lines if line.startswith("mysql ")] and lines

        lines = wait_for(client_lines, timeout=30, interval=0.1)
        client.stdin.close()
        assert client.wait(timeout=60) == 0
    finally:
        client.kill()
        client.wait()
        if client.stdout is not None:
            client.stdout.close()
    assert not [line for line in lines if password in line]


def test_a_terminal_gets_a_terminal(stack: Stack) -> None:
    primary, secondary = os.openpty()
    command = orchestrate_command("--project", stack.project, "exec", "--", "sh", "-c", "tty; exit 3")
    process = subprocess.Popen(command, stdin=secondary, stdout=secondary, stderr=secondary)
    os.close(secondary)
    output = b""

    def ended() -> bool:
        nonlocal output
        if select.select([primary], [], [], 0.1)[0]:
            try:
                output += os.read(primary, 4096)
            except OSError:  # the terminal's other end is closed: everything has been read
                return process.poll() is not None
        return False

    try:
        wait_for(ended, timeout=60, interval=0.01)
    finally:
        process.kill()
        os.close(primary)
    assert process.wait() == 3
    assert b"/dev/pts/" in output


def first_line_then_close(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``orchestrate.py ARGS`` into a reader that takes one line and leaves, as `| head -1` does."""
    command = orchestrate_command("--project", stack.project, *args)
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline().decode()
    process.stdout.close()
    try:
        code = process.wait(timeout=60)
        said = process.stderr.read().decode()
    finally:
        process.kill()
        process.stderr.close()
    return subprocess.CompletedProcess(command, code, first, said)


@pytest.mark.parametrize(
    "args", [("exec", "--", "sh", "-c", "yes | head -1000000"), ("logs", "-f")], ids=["exec", "logs-f"]
)
def test_a_reader_that_leaves_ends_the_command_quietly(stack: Stack, args: tuple[str, ...]) -> None:
    done = first_line_then_close(stack, *args)
    assert done.stdout and (done.returncode, done.stderr) == (141, "")


def test_closed_standard_streams_and_unread_input_are_no_error(stack: Stack) -> None:
    command = orchestrate_command("--project", stack.project, "exec", "--", "sh", "-c", "echo out; exit 4")
    closed_input = subprocess.run(
        command, preexec_fn=lambda: os.close(0), capture_output=True, text=True, timeout=120, check=False
    )
    assert (closed_input.returncode, closed_input.stdout, closed_input.stderr) == (4, "out\n", "")
    closed_output = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),
        text=True,
        timeout=120,
        check=False,
    )
    assert (closed_output.returncode, closed_output.stderr) == (4, "")
    # The command ends without reading its input: its exit code, not an error of ours.
    unread = exec_(stack, "--", "true", given="y\n" * 2_000_000)
    assert (unread.returncode, unread.stderr) == (0, "")


def test_input_the_command_does_not_read_ends_with_the_command(stack: Stack) -> None:
    # Once the command has ended the engine takes no more input, and exec must see the output
    # end rather than wait to send the rest. Waiting, it ended only when Docker 26.1 let go of
    # the connection, 17 s after 400 KB and 30 s after 4 MB; it takes well under a second.
    command = orchestrate_command("--project", stack.project, "exec", "--", "sh", "-c", "echo done; exit 5")
    unread = b"y\n" * 2_000_000
    done = subprocess.run(command, input=unread, capture_output=True, timeout=20, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (5, b"done\n", b"")
    # What a command reads, it gets whole.
    counted = exec_(stack, "--", "wc", "-c", given=unread.decode())
    assert (counted.returncode, counted.stdout.strip(), counted.stderr) == (0, str(len(unread)), "")


def test_options_alone_go_to_the_db_client(stack: Stack) -> None:
    done = exec_(stack, "db", "--", "-N", "-e", "SELECT DATABASE(), 6*7")
    assert (done.returncode, done.stdout.split(), done.stderr) == (0, ["apl", "42"], "")


def test_a_command_that_cannot_run_is_one_error_with_a_shells_exit_code(stack: Stack) -> None:
    missing = exec_(stack, "--", "nosuchcmd")
    assert (missing.returncode, missing.stdout) == (127, "")  # the engine's message is not output
    assert missing.stderr.splitlines() == [
        f"error: cannot run 'nosuchcmd' in container {stack.name('apl-app')}: executable file not found",
        "fix: check the command's name and path; `python orchestrate.py exec` gives a shell to look around",
    ]
    assert exec_(stack, "--", "/etc/passwd").returncode == 126
    own = exec_(stack, "--", "sh", "-c", "echo mine; exit 127")  # a command's own 127 is its own
    assert (own.returncode, own.stdout, own.stderr) == (127, "mine\n", "")


def interrupted(
    stack: Stack,
    container: Container,
    role: str,
    shell: tuple[str, ...],
    text: str,
    count: int,
    signum: signal.Signals = signal.SIGINT,
) -> str:
    """Run ``shell`` by `exec ROLE`; once ``count`` processes hold ``text``, send ``signum`` (Ctrl-C
    by default) to `exec`; return what it said on standard error."""
    command = orchestrate_command("--project", stack.project, "exec", role, "--", *shell)
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(processes(container, text)) == count, timeout=30, interval=0.1)
        process.send_signal(signum)
        _, said = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 128 + signum, said
    return said.decode()


# A child that cleared its environment (`env -i`) no longer carries the exec's marker: found as a child.
@pytest.mark.parametrize("child", ["", "env -i "], ids=["marked", "cleared-environment"])
@pytest.mark.parametrize("role", ["app", "db"])
def test_ctrl_c_without_a_terminal_stops_the_command_in_the_container(
    stack: Stack, docker_client: docker.DockerClient, role: str, child: str
) -> None:
    container = ProjectResources(docker_client, stack.project).container(role)
    assert container is not None
    sleeper = f"sleep {secrets.randbelow(10_000) + 1000}"  # its own command line, and its child's
    # Two processes: the shell and its sleep.
    said = interrupted(stack, container, role, ("sh", "-c", f"{child}{sleeper}; :"), sleeper, 2)
    assert f"interrupted: stopping the command in container {container.name}" in said
    assert processes(container, sleeper) == {}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_to_exec_stops_the_command_too(
    stack: Stack, docker_client: docker.DockerClient, signum: signal.Signals
) -> None:
    # As `timeout 60 python orchestrate.py exec ...` in a script, or a closed terminal, stops it.
    container = ProjectResources(docker_client, stack.project).container("app")
    assert container is not None
    sleeper = f"sleep {secrets.randbelow(10_000) + 31_000}"
    said = interrupted(stack, container, "app", ("sh", "-c", f"{sleeper}; :"), sleeper, 2, signum)
    assert f"interrupted: stopping the command in container {container.name}" in said
    assert processes(container, sleeper) == {}


def test_ctrl_c_says_so_when_the_command_itself_cleared_its_environment(
    stack: Stack, docker_client: docker.DockerClient
) -> None:
    container = ProjectResources(docker_client, stack.project).container("app")
    assert container is not None
    sleeper = f"sleep {secrets.randbelow(10_000) + 11_000}"
    try:
        said = interrupted(stack, container, "app", ("env", "-i", *sleeper.split()), sleeper, 1)
        assert said.splitlines()[1:] == [
            f"error: the command still runs in container {container.name}: it cleared its environment "
            "(`env -i`), where `exec` marks what Ctrl-C stops",
            "fix: kill it from a shell in the container, "
            "or run `python orchestrate.py restart` (restarts the services)",
        ]
    finally:
        for pid in processes(container, sleeper):
            container.exec_run(["sh", "-c", f"kill -KILL {pid}"])


def test_ctrl_c_as_the_command_starts_stops_it(stack: Stack, docker_client: docker.DockerClient) -> None:
    # Ctrl-C in the few ms between the engine starting the command and `exec` holding the connection.
    container = ProjectResources(docker_client, stack.project).container("app")
    assert container is not None
    sleeper = f"sleep {secrets.randbelow(10_000) + 21_000}"
    start = docker_client.api.exec_start

    def start_then_ctrl_c(*args: object, **kwargs: object) -> object:
        started = start(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)
        return started

    docker_client.api.exec_start = start_then_ctrl_c  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt):
            console.run(docker_client, container, ("sh", "-c", f"{sleeper}; :"))
    finally:
        docker_client.api.exec_start = start  # type: ignore[method-assign]
        left = processes(container, sleeper)
        for pid in left:
            container.exec_run(["sh", "-c", f"kill -KILL {pid}"])
    assert left == {}
