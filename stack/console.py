"""`exec`: a command inside a running container of the stack, as `docker exec [-it]` runs it.

By default a shell in the app, and in the DB the mysql client logged in as the app's user, the
password read from the container's own environment (``MYSQL_PWD``), so it is on no command
line and in no process list. The Docker SDK runs it, so no docker CLI is needed; with a
terminal on both ends the command gets one (``-it``), otherwise its input and output are piped.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import signal
import socket
import ssl
import struct
import sys
import termios
import time
import tty
from collections.abc import Iterator
from types import FrameType
from typing import Any

import docker
from docker.models.containers import Container

from .cleanup import Stopped, sigint_deferred, sigint_ignored, stop_signals_interrupt
from .errors import INTERRUPTED, StackError
from .readiness import DB_APP_CLIENT, DB_ROOT_CLIENT
from .spec import StackSpec
from .waiting import WaitTimeout, wait_for

APP_SHELL = ("sh",)
EXIT_DEADLINE = 10.0  # seconds for the engine to record the exit code once the output has ended
START_DEADLINE = 2.0  # seconds for the engine to report an exec'd command started, or that it could not
STOP_DEADLINE = 2.0  # seconds a command interrupted without a terminal has to end before it is killed
STARTING = "Ctrl-C: stopping the command once it has started"
MARKER = "APL_EXEC"  # an environment variable with a value of its own in every command `exec` runs
# The processes whose environment holds "$0" (the command `exec` ran and what it started), and
# their children and grandchildren, which may have cleared their environment (`env -i`): sent
# signal $2 (INT for Ctrl-C), then, those still there after $1 seconds, SIGKILL. Needs sh, tr
# and grep alone.
STOP_MARKED = r"""
marker=$0
family() {
  found=" "
  for p in /proc/[0-9]*; do
    tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qxF "$marker" && found="$found${p#/proc/} "
  done
  [ "$found" != " " ] || return 0
  pairs=$(grep -H '^PPid:' /proc/[0-9]*/status 2>/dev/null | tr -c '0-9\n' ' ')  # "pid ppid" lines
  grown=yes
  while [ -n "$grown" ]; do
    grown=
    while read -r pid ppid; do
      case "$found" in *" $pid "*) ;; *" $ppid "*) found="$found$pid " grown=yes ;; esac
    done <<PAIRS
$pairs
PAIRS
  done
  echo $found
}
alive() {  # those of the pids given still running (a zombie is only waiting for its parent)
  for pid; do
    [ -e "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && echo "$pid"
  done
}
first=$(family)
[ -n "$first" ] || exit 0
kill -"$2" $first 2>/dev/null
sleep "$1" >/dev/null 2>&1 &  # the deadline: scans take a while in a busy container; not a count
deadline=$!
while [ -n "$(alive $deadline)" ]; do
  sleep 0.1
  left=$(alive $first $(family))  # the first ones were orphaned, if their parent ended
  [ -n "$left" ] || exit 0
done
kill -KILL $(alive $first $(family)) 2>/dev/null
exit 0
"""
# Podman, when a command ends before reading all its input, says on the command's standard error
# that it could not pass the rest on (through conmon's attach socket). The command's output and
# exit code come as usual, and input a command does not read is no error (`yes | exec -- true`):
# that line is the engine's, not the command's, and is not shown.
PODMAN_INPUT_LOST = re.compile(
    rb"Error: (?:read|write) unixpacket \S*/attach: (?:read|write): "
    rb"(?:connection reset by peer|broken pipe)\r?\n?"
)
FRAME_HEADER = 8  # without a terminal the engine sends each chunk with a header: stream, size
STDERR = 2  # the stream number of the command's standard error in a frame's header
COMMAND_NOT_FOUND, COMMAND_NOT_EXECUTABLE = 127, 126  # the exit codes a shell gives for these
# How the engine's runtime (runc, crun) says it could not start an exec'd command.
NOT_STARTED = re.compile(
    r"(executable file not found|no such file or directory|permission denied|is a directory)", re.IGNORECASE
)


def default_command(spec: StackSpec, role: str, options: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What `exec` runs in the ``role`` container when no command is given, with ``options`` added.

    So `exec db -- -e 'SELECT 1'` runs the mysql client with -e, as the lesson's `mysql -e` does;
    the options go on its command line after the password has been read from the environment.
    """
    if role == "app":
        return (*APP_SHELL, *options)
    # The DB has no separate app user when the app connects as root (MYSQL_USER=root).
    client = DB_APP_CLIENT if "MYSQL_USER" in spec.db.environment else DB_ROOT_CLIENT
    if not options:
        return ("sh", "-c", f'{client} "$MYSQL_DATABASE"')
    return ("sh", "-c", f'{client} "$@" "$MYSQL_DATABASE"', "sh", *options)


def command(spec: StackSpec, role: str, argv: tuple[str, ...]) -> tuple[str, ...]:
    """What `exec` runs: ``argv``; or, when there is none or it starts with an option, the default command."""
    if argv and not argv[0].startswith("-"):
        return argv
    return default_command(spec, role, argv)


def interactive() -> bool:
    """Whether this process has a terminal on both ends, so the command gets one too (``-it``)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def run(client: docker.DockerClient, container: Container, command: tuple[str, ...]) -> int:
    """Run ``command`` in ``container`` with this process's input and output; return its exit code."""
    terminal = interactive()
    token = secrets.token_hex(8)
    environment, marker = {MARKER: token}, f"{MARKER}={token}"
    if terminal:
        environment["TERM"] = os.environ.get("TERM", "xterm")
    exec_id = client.api.exec_create(
        container.id, list(command), stdin=True, tty=terminal, environment=environment
    )["Id"]
    stream: Any = None
    connection: socket.socket | None = None
    try:
        with stop_signals_interrupt():
            # Interrupted with the request sent and its answer not yet read, the command would
            # start and run on, unseen: the Ctrl-C waits until the connection is ours.
            with sigint_deferred(STARTING):
                stream = client.api.exec_start(exec_id, tty=terminal, socket=True)
                connection = getattr(stream, "_sock", stream)
            already = _check_started(client, exec_id, connection, container, command)
            with _raw_terminal(terminal), _resizing(client, exec_id, terminal):
                _pump(connection, terminal, already)
    except KeyboardInterrupt as interrupt:
        # With a terminal, Ctrl-C went to the command as a key and its terminal signalled it.
        # Without one, or stopped by another signal, the command would run on, as it does after
        # `docker exec`: stop it here.
        stopped = isinstance(interrupt, Stopped)
        if (stopped or not terminal) and connection is not None:
            with sigint_ignored():
                _started(client, exec_id)  # a process not yet there cannot be found and signalled
                _interrupt(container, marker, interrupt.signal_name if stopped else "INT")
                connection.close()  # the engine then sooner records that the command ended
                _check_stopped(client, exec_id, container, interrupt.exit_code if stopped else INTERRUPTED)
        raise
    finally:
        # The socket, and the file docker-py reads it through: either one left open keeps it open.
        for opened in (stream, connection):
            if opened is not None:
                with contextlib.suppress(OSError):
                    opened.close()

    def finished() -> dict[str, object] | None:
        state = client.api.exec_inspect(exec_id)
        return None if state["Running"] else state

    return int(wait_for(finished, timeout=EXIT_DEADLINE, interval=0.02)["ExitCode"] or 0)


def _interrupt(container: Container, marker: str, signal_name: str) -> None:
    """Send ``signal_name`` to every process of the command (they carry ``marker`` in their
    environment, or descend from one that does); those still there after STOP_DEADLINE are killed."""
    print(f"interrupted: stopping the command in container {container.name}", file=sys.stderr)
    with contextlib.suppress(docker.errors.APIError):
        container.exec_run(["sh", "-c", STOP_MARKED, marker, f"{STOP_DEADLINE:g}", signal_name])


def _check_stopped(client: docker.DockerClient, exec_id: str, container: Container, exit_code: int) -> None:
    """Raise a StackError if the command's own process outlived _interrupt: it runs on, unseen.

    That process is the one `exec` started; it carries no marker once it has replaced its
    environment (`env -i CMD`), and the engine knows its process id only outside the container.
    """

    def ended() -> bool:
        return not client.api.exec_inspect(exec_id)["Running"]

    try:
        wait_for(ended, timeout=START_DEADLINE, interval=0.02)
    except WaitTimeout:
        raise StackError(
            f"the command still runs in container {container.name}: it cleared its environment "
            f"(`env -i`), where `exec` marks what Ctrl-C stops",
            "kill it from a shell in the container, "
            "or run `python orchestrate.py restart` (restarts the services)",
            exit_code=exit_code,
        ) from None


def _check_started(
    client: docker.DockerClient,
    exec_id: str,
    connection: socket.socket,
    container: Container,
    command: tuple[str, ...],
) -> bytes:
    """Raise a StackError, before any output is copied, if the engine could not start ``command``;
    return what was read of the command's output meanwhile (it is still to be copied).

    The engine then writes its own message ("OCI runtime exec failed: ... executable file not
    found") to the command's standard output, where it would pass for the command's output, and
    reports 126, where a shell says 127 for a command that does not exist.
    """

    state = _started(client, exec_id)
    if state is None:
        return b""  # running, yet with no process id: an engine that reports none; its output is its own
    if state.get("Pid") or state.get("ExitCode") not in (126, 127):
        return b""
    output = _rest_of(connection)
    reason = NOT_STARTED.search(output.decode(errors="replace"))
    if reason is None:
        return output  # not the engine's words: copied through as they are
    connection.close()
    missing = reason[1] in ("executable file not found", "no such file or directory")
    raise StackError(
        f"cannot run {command[0]!r} in container {container.name}: {reason[1]}",
        "check the command's name and path; `python orchestrate.py exec` gives a shell to look around",
        exit_code=COMMAND_NOT_FOUND if missing else COMMAND_NOT_EXECUTABLE,
    )


def _started(client: docker.DockerClient, exec_id: str) -> dict[str, object] | None:
    """The exec's state once its command has a process, or has ended; None if neither in START_DEADLINE."""

    def settled() -> dict[str, object] | None:
        # "Running" alone proves nothing: Docker reports an exec running, with no process id, for
        # the 50 to 100 ms its runtime takes to find the command missing. A process id does.
        state = client.api.exec_inspect(exec_id)
        started = bool(state.get("Pid"))
        return state if started or (not state["Running"] and state.get("ExitCode") is not None) else None

    try:
        return wait_for(settled, timeout=START_DEADLINE, interval=0.01)
    except WaitTimeout:
        return None


def _rest_of(connection: socket.socket) -> bytes:
    """All the output of a command that has ended, read until the engine ends the stream.

    It may be the engine's message of why the command could not start, which can come in more
    than one piece, so it is read whole before it is judged.
    """
    output, deadline = b"", time.monotonic() + EXIT_DEADLINE
    while time.monotonic() < deadline:
        if not select.select([connection], [], [], 0.05)[0]:
            continue
        try:
            more = connection.recv(65536)
        except OSError:
            break
        if not more:
            break
        output += more
    return output


def _pump(connection: socket.socket, terminal: bool, already: bytes = b"") -> None:
    """Copy this process's input to the command and its output back, until the command's output ends;
    ``already`` is output read before, to be copied first."""
    stdin, input_open = sys.stdin.fileno(), False
    with contextlib.suppress(OSError, ValueError):
        select.select([stdin], [], [], 0)  # a closed or unselectable input is simply not read
        input_open = True
    pending = b""

    def copy_out(data: bytes) -> None:
        nonlocal pending
        if terminal:
            if not PODMAN_INPUT_LOST.fullmatch(data):
                _write(sys.stdout.fileno(), data)
            return
        frames, pending = split_frames(pending + data)
        for kind, payload in frames:
            if kind != STDERR:
                _write(sys.stdout.fileno(), payload)
            elif not PODMAN_INPUT_LOST.fullmatch(payload):
                _write(sys.stderr.fileno(), payload)

    copy_out(already)
    outgoing = b""  # input read, not yet taken by the engine
    while True:
        # Input is sent only as the engine takes it: a command that has ended takes no more, and
        # a send that waited for it would not see the output end (`yes | exec -- true`).
        reading = [connection] + ([stdin] if input_open and not outgoing else [])
        ready, writable, _ = select.select(reading, [connection] if outgoing else [], [])
        try:
            if stdin in ready:
                outgoing = os.read(stdin, 65536)
                if not outgoing:  # the input ended: the command sees end of file
                    raise EOFError
            if writable:
                outgoing = outgoing[_send_some(connection, outgoing) :]
        except (OSError, EOFError):
            # Or the command took no more input and ended: its output and exit code are still
            # to come, so only the input stops.
            input_open, outgoing = False, b""
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_WR)
        if connection in ready:
            try:
                data = connection.recv(65536)
            except ConnectionResetError:  # input it never read was still on its way when it ended
                return
            if not data:
                return
            copy_out(data)


def _send_some(connection: socket.socket, data: bytes) -> int:
    """Send what the engine's connection takes now, without waiting; return how many bytes that was."""
    if isinstance(connection, ssl.SSLSocket):  # takes no flags; a TLS engine's sends may wait
        connection.sendall(data)
        return len(data)
    try:
        return connection.send(data, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return 0


def split_frames(buffered: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The complete (stream, payload) frames at the start of ``buffered``, and what is left after them."""
    frames = []
    while len(buffered) >= FRAME_HEADER:
        kind, size = struct.unpack(">BxxxL", buffered[:FRAME_HEADER])
        if len(buffered) < FRAME_HEADER + size:
            break
        frames.append((kind, buffered[FRAME_HEADER : FRAME_HEADER + size]))
        buffered = buffered[FRAME_HEADER + size :]
    return frames, buffered


def _write(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


@contextlib.contextmanager
def _raw_terminal(terminal: bool) -> Iterator[None]:
    """Hand every key to the command (Ctrl-C included) while it runs; restore the terminal after."""
    if not terminal:
        yield
        return
    saved = termios.tcgetattr(sys.stdin.fileno())
    tty.setraw(sys.stdin.fileno())
    try:
        yield
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _resizing(client: docker.DockerClient, exec_id: str, terminal: bool) -> Iterator[None]:
    """Keep the command's terminal the size of ours."""
    if not terminal:
        yield
        return

    def resize(signum: int | None = None, frame: FrameType | None = None) -> None:
        size = os.get_terminal_size(sys.stdout.fileno())
        with contextlib.suppress(docker.errors.APIError):
            client.api.exec_resize(exec_id, height=size.lines, width=size.columns)

    resize()
    previous = signal.signal(signal.SIGWINCH, resize)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)
