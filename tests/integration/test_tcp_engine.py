"""An engine reached over TCP (DOCKER_HOST=tcp://...), as a remote engine or Docker Desktop's is.

orchestrate.py then cannot probe the host's ports itself, asks the app for readiness at the
engine's address, and uploads the build context, streams `exec` and syncs files over the
network. The engine here is the local one, put behind a TCP port by a byte-for-byte relay, so
the whole life cycle runs the remote code paths against a real engine.
"""

from __future__ import annotations

import os
import socket
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from stack.invoke import orchestrate_command
from stack.ports import free_port

from .support import NOTHING, Orchestrate, debris, wait_until_connected

pytestmark = pytest.mark.integration


def _engine_socket() -> str:
    """The unix socket of the engine the tests use (DOCKER_HOST's, else Docker's default)."""
    url = urlparse(os.environ.get("DOCKER_HOST", ""))
    return url.path if url.scheme == "unix" else "/var/run/docker.sock"


class _Relay(socketserver.ThreadingTCPServer):
    """Each TCP connection on 127.0.0.1 is joined to a new connection to the engine's socket."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, engine_socket: str) -> None:
        self.engine_socket = engine_socket
        super().__init__(("127.0.0.1", 0), _Join)


class _Join(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        engine.connect(self.server.engine_socket)  # type: ignore[attr-defined]
        # Each way in its own thread, each ending its write side at EOF: `exec` and `logs -f`
        # hold a connection open in both directions, and a half-close must travel through.
        back = threading.Thread(target=_pump, args=(engine, self.request), daemon=True)
        back.start()
        _pump(self.request, engine)
        back.join()
        engine.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:  # the other side closed first: nothing left to carry
        pass


@pytest.fixture
def tcp_engine() -> Iterator[str]:
    """DOCKER_HOST for the tests' engine, reached over TCP."""
    relay = _Relay(_engine_socket())
    thread = threading.Thread(target=relay.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{relay.server_address[1]}"
    finally:
        relay.shutdown()
        relay.server_close()


def test_the_life_cycle_over_a_tcp_engine(
    orchestrate: Orchestrate, project: str, tcp_engine: str, docker_client
) -> None:
    env = {"DOCKER_HOST": tcp_engine}
    port = free_port()
    options = ("--project", project, "--port", str(port))

    up = orchestrate(*options, "up", env=env)
    assert up.returncode == 0, up.stderr
    assert "Healthy" in up.stderr
    # The app is published on the engine's host, which is what `up` must point at.
    assert up.stdout == f"apl is up: http://127.0.0.1:{port}\n"
    assert "Connected successfully." in wait_until_connected(f"http://127.0.0.1:{port}")

    status = orchestrate(*options, "status", env=env)
    assert status.returncode == 0, status.stderr
    health = [line.split()[3] for line in status.stdout.splitlines() if line.startswith("container ")]
    assert health == ["healthy", "healthy"], status.stdout

    # `exec` streams both ways over the TCP connection; the exit code comes back too.
    def exec_(*args: str, given: str = "") -> subprocess.CompletedProcess[str]:
        command = orchestrate_command(*options, "exec", *args)
        environ = {**os.environ, **env}
        return subprocess.run(command, input=given, capture_output=True, text=True, timeout=120, env=environ)

    counted = exec_("db", given="SELECT COUNT(*) AS n FROM messages;\n")
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.split() == ["n", "0"], counted.stdout
    assert exec_("app", "--", "sh", "-c", "exit 7").returncode == 7

    down = orchestrate(*options, "down", "--volumes", "--rmi", env=env)
    assert down.returncode == 0, down.stderr
    assert debris(docker_client, project) == NOTHING
