"""Host ports: whether the app's port is free before anything is created, and finding a free one."""

from __future__ import annotations

import errno
import socket

import docker

from .errors import StackError
from .resources import host_ports

PORT_FIX = "stop whatever holds it, or choose another port with --port N (or APL_PORT)"
ENGINE_PORT_TAKEN = ("port is already allocated", "address already in use")


def check_free(client: docker.DockerClient, port: int) -> None:
    """Refuse a host port another process or container already listens on, naming which."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(("0.0.0.0", port))
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            return  # e.g. a low port this user may not bind: the engine can, and says if it is taken
        raise StackError(f"host port {port} is already taken by {_holder(client, port)}", PORT_FIX) from None
    finally:
        probe.close()


def taken_error(port: int) -> StackError:
    """The error for a port the engine found taken when it started a container."""
    return StackError(f"host port {port} is already taken", PORT_FIX)


def free_port() -> int:
    """A host port nothing listens on right now (for tests and benchmarks)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _holder(client: docker.DockerClient, port: int) -> str:
    for other in client.containers.list():
        if port in host_ports(other):
            return f"container {other.name}"
    return "another process"
