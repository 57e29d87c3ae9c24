"""Host ports: whether the app's port is free before anything is created, and finding a free one."""

from __future__ import annotations

import errno
import socket

import docker

from .errors import StackError
from .resources import host_ports, listed_containers

PORT_FIX = "stop whatever holds it, or choose another port with --port N (or APL_PORT)"
ENGINE_PORT_TAKEN = ("port is already allocated", "address already in use")


# Where the engine publishes a port: every IPv4 address and, on a host with IPv6, every IPv6
# address too (Docker's proxy listens on [::] as well). A process on any one of them, 127.0.0.1
# or [::1] alone included, makes the container's start fail, so each family is probed apart.
# An engine that publishes on IPv4 only would start, but a browser sent to the URL `up` prints,
# http://localhost:PORT, may try [::1] first and reach that other process instead.
_WILDCARDS = ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::"))


def check_free(client: docker.DockerClient, port: int) -> None:
    """Refuse a host port another process or container already listens on, naming which."""
    if any(_taken(family, address, port) for family, address in _WILDCARDS):
        raise StackError(f"host port {port} is already taken by {_holder(client, port)}", PORT_FIX)


def _taken(family: socket.AddressFamily, address: str, port: int) -> bool:
    """Tell whether binding ``port`` on every address of ``family`` fails because something holds it."""
    try:
        probe = socket.socket(family, socket.SOCK_STREAM)
    except OSError:
        return False  # no such family here (IPv6 switched off): the engine cannot publish on it either
    with probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # IPv6 alone: IPv4 is probed apart
        try:
            probe.bind((address, port))
        except OSError as error:
            # Anything else (a low port this user may not bind, no IPv6 address): the engine can, or
            # does not publish there, and says so itself if the port is taken.
            return error.errno == errno.EADDRINUSE
    return False


def taken_error(port: int) -> StackError:
    """The error for a port the engine found taken when it started a container."""
    return StackError(f"host port {port} is already taken", PORT_FIX)


def free_port() -> int:
    """A host port nothing listens on right now (for tests and benchmarks)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _holder(client: docker.DockerClient, port: int) -> str:
    for other in listed_containers(client, stopped=False):
        if port in host_ports(other):
            return f"container {other.name}"
    return "another process"
