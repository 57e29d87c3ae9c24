"""Slow clients: connections that hold a server's attention without ever finishing a request.

A third send nothing, a third send a request's headers one byte at a time and never end them,
a third send complete headers of a POST and then trickle its declared body one byte at a
time. One background thread keeps them all open for as long as asked: each one the server
closes is opened again at once, as an attacker would, and how long it lived is recorded. Only
127.0.0.1 is ever a target.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

KINDS = ("silent", "headers", "body")
TICK = 1.0  # seconds between two bytes on a trickling connection
BODY_LENGTH = 4096  # declared, never all sent


@dataclass
class _Conn:
    kind: str
    sock: socket.socket
    opened: float
    trickle: bytes  # what is sent one byte per tick
    sent: int = 0


@dataclass
class SlowReport:
    """What the slow clients met: how many the server closed, and after how long."""

    opened: int = 0
    refused: int = 0  # connection attempts that failed
    lifetimes: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    oldest_open: float = 0.0  # age of the oldest connection still open when they let go

    @property
    def closed(self) -> int:
        """Connections the server closed."""
        return sum(len(times) for times in self.lifetimes.values())

    def longest(self, kind: str) -> float:
        """The longest a connection of ``kind`` lived before the server closed it (0 if none was)."""
        return max(self.lifetimes[kind], default=0.0)

    def summary(self) -> str:
        """One line: per kind, how many the server closed and after how long at most."""
        parts = [
            f"{kind} {len(self.lifetimes[kind])} closed, longest {self.longest(kind):.1f} s" for kind in KINDS
        ]
        return "; ".join(parts)


class SlowClients:
    """``count`` slow connections to 127.0.0.1:``port``, held from entry until exit.

    A context manager: the thread starts on entry; on exit it stops, every socket is closed,
    and ``report`` holds the figures.
    """

    def __init__(self, port: int, count: int = 256, host_header: str | None = None) -> None:
        self.port, self.count = port, count
        host = host_header or f"127.0.0.1:{port}"
        self._trickles = {
            "silent": b"",
            "headers": f"GET / HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode() + b"a" * 10_000,
            "body": b'{"text": "' + b"a" * BODY_LENGTH,
        }
        self._body_head = (
            f"POST /api/messages HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {BODY_LENGTH + 12}\r\n\r\n"
        ).encode()
        self.report = SlowReport()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self._selector = selectors.DefaultSelector()
        self._conns: list[_Conn] = []

    def __enter__(self) -> SlowClients:
        for number in range(self.count):
            self._open(KINDS[number % len(KINDS)])
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        now = time.monotonic()
        self.report.oldest_open = max((now - conn.opened for conn in self._conns), default=0.0)
        for conn in self._conns:
            conn.sock.close()
        self._selector.close()

    def _open(self, kind: str) -> None:
        """Open one connection of ``kind`` and send what it sends at once."""
        sock = socket.socket()
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", self.port))
            if kind == "body":
                sock.sendall(self._body_head)
        except OSError:
            sock.close()
            self.report.refused += 1
            return
        sock.setblocking(False)
        conn = _Conn(kind, sock, time.monotonic(), self._trickles[kind])
        self._conns.append(conn)
        self._selector.register(sock, selectors.EVENT_READ, conn)
        self.report.opened += 1

    def _run(self) -> None:
        """Send a byte on each trickling connection every TICK; reopen what the server closes."""
        next_tick = time.monotonic()
        while not self._stop.is_set():
            timeout = max(0.0, next_tick - time.monotonic())
            for key, _ in self._selector.select(timeout=min(timeout, 0.2)):
                self._readable(key.data)
            if time.monotonic() >= next_tick:
                next_tick += TICK
                for conn in list(self._conns):
                    if conn.sent < len(conn.trickle):
                        try:
                            conn.sent += conn.sock.send(conn.trickle[conn.sent : conn.sent + 1])
                        except BlockingIOError:
                            pass  # the server reads nothing: its buffer is full, which is the point
                        except OSError:
                            self._closed(conn)

    def _readable(self, conn: _Conn) -> None:
        """Read what the server sent; an answer or an end means the server is done with it."""
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._closed(conn)
        # An answer (an error status, most likely) is read and dropped: the close follows.

    def _closed(self, conn: _Conn) -> None:
        """Record how long ``conn`` lived, and replace it with a new one of its kind."""
        self.report.lifetimes[conn.kind].append(time.monotonic() - conn.opened)
        self._selector.unregister(conn.sock)
        conn.sock.close()
        self._conns.remove(conn)
        if not self._stop.is_set():
            self._open(conn.kind)
