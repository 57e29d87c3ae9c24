"""Whether the app's code in its container loads, asked before gunicorn is told to reload it.

A gunicorn worker that cannot import the app makes the master give up and exit, so `watch`
loads changed code once in a process of its own first. Starting Python and importing Flask
each time would cost seconds on a busy machine; instead one checker process stays in the app
container for as long as `watch` runs, with the libraries imported, and for each check forks
a child that imports the app anew from disk, as gunicorn forks a worker.

The checker writes everything, tracebacks and its answer line, to standard output: the engine
carries a command's two streams apart (Podman forwards each on its own), so a traceback on
standard error could arrive after the answer that follows it.
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket

import docker
from docker.models.containers import Container

from .console import split_frames
from .errors import StackError
from .spec import APP_USER
from .sync import WORKDIR

# Seconds the app may take to load in a check: a child still loading then is ended by its own
# alarm (an import that never returns), so nothing is left running in the container.
LOAD_DEADLINE = 30
CHECK_DEADLINE = 60.0  # seconds to wait for the checker's answer: a backstop, should it hang itself
ERROR_LINES = 8  # of a failed check's traceback, shown under the error
DONE = "apl-load-check done "  # the checker's answer line, then the exit code: no app prints it
ANSWER = re.compile(rb"^" + re.escape(DONE.encode()) + rb"(-?[0-9]+)\n", re.MULTILINE)
# Imports and builds the app as a worker does (create_app compiles every template too).
CHECKER = f"""
import os, signal, sys, traceback
LOAD_DEADLINE = {LOAD_DEADLINE}
os.dup2(1, 2)  # one stream, so the answer line comes after what the check wrote

def load():
    import app
    app.create_app()

try:
    load()  # imports the libraries once; each check imports only the app anew
except Exception:
    pass
for _ in sys.stdin:
    child = os.fork()
    if child == 0:
        signal.alarm(LOAD_DEADLINE)
        for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
            del sys.modules[name]
        try:
            load()
        except BaseException:
            traceback.print_exc()
            code = 1
        else:
            code = 0
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    print("{DONE}" + str(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])), flush=True)
"""


class LoadChecker:
    """One checker process in the app container ``container``, started on first use."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self._container_id = ""
        self._connection: socket.socket | None = None

    def check(self, container: Container) -> None:
        """Load the app as a new worker would, as the app's user; a StackError says why it does not."""
        connection = self._connect(container)
        try:
            connection.sendall(b"check\n")
            code, output = self._answer(connection)
        except OSError:
            self.close()
            raise StackError(
                f"the load check in container {container.name} stopped answering",
                "save the file again to retry",
            ) from None
        if code == 0:
            return
        if code == -signal.SIGALRM:
            raise StackError(
                f"the changed app did not load within {LOAD_DEADLINE}s (an import that never returns?)",
                "fix it and save again; until then the app keeps serving the code it had",
            )
        lines = output.decode(errors="replace").rstrip().splitlines()
        raise StackError(
            f"the changed app does not load: {lines[-1] if lines else f'exit code {code}'}",
            "fix it and save again; until then the app keeps serving the code it had",
            details="\n".join(f"  {line}" for line in lines[-ERROR_LINES:]),
        )

    def close(self) -> None:
        """End the checker (its input closes, so it exits)."""
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._connection.close()
        self._connection, self._container_id = None, ""

    def _connect(self, container: Container) -> socket.socket:
        if self._connection is not None and self._container_id == container.id:
            return self._connection
        self.close()
        exec_id = self.client.api.exec_create(
            container.id, ["python", "-c", CHECKER], stdin=True, user=APP_USER, workdir=WORKDIR
        )["Id"]
        stream = self.client.api.exec_start(exec_id, socket=True)
        self._connection = getattr(stream, "_sock", stream)
        self._connection.settimeout(CHECK_DEADLINE)
        self._container_id = container.id
        return self._connection

    def _answer(self, connection: socket.socket) -> tuple[int, bytes]:
        """Read the checker's output up to its answer line: the exit code, and what it wrote before."""
        pending, output = b"", b""
        while True:
            data = connection.recv(65536)
            if not data:
                raise OSError("the checker ended")
            frames, pending = split_frames(pending + data)
            output += b"".join(payload for _, payload in frames)
            answer = ANSWER.search(output)
            if answer is not None:
                return int(answer[1]), output[: answer.start()]
