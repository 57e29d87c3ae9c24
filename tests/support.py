"""What every Docker-backed test folder shares: a free host port."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A host port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
