"""Gunicorn settings for the app's container; every number can be overridden by environment."""

from __future__ import annotations

import json
import os
import sys
import traceback
import weakref
from http import HTTPStatus
from typing import Any

import gevent
from gunicorn import util as gunicorn_util
from gunicorn.config import AccessLogFormat
from gunicorn.glogging import Logger
from gunicorn.workers.ggevent import GeventWorker

from app import MAX_CONTENT_LENGTH
from app.config import ConfigError, load_settings

# Refuse a bad environment here, in the master, before any worker starts: a worker that
# fails in create_app() would print a traceback and be retried, burying the one line
# that matters.
try:
    _settings = load_settings()
except ConfigError as error:
    sys.exit(f"apl: configuration error: {error}")


def _env_int(name: str, default: int) -> int:
    """Read a positive whole number from the environment, or stop with one line naming it."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 6) or int(raw) < 1:
        sys.exit(f"apl: configuration error: {name} must be a whole number of at least 1")
    return int(raw)


def _usable_cpus() -> int:
    """Count the CPUs this process may run on (cpu_count() sees the whole host)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:80")
# gevent: the app is published without a proxy in front, so gunicorn meets every client
# itself, slow ones included. A threaded worker ties a thread to each connection while its
# request is read, and a few clients that send slowly tie up all of them; under gevent a
# connection waiting for bytes is a parked greenlet, and PyMySQL's sockets, patched by the
# worker at start, wait the same way. Database work is capped per process (app/db.py's pool).
workers = _env_int("GUNICORN_WORKERS", _usable_cpus())
worker_connections = _env_int("GUNICORN_WORKER_CONNECTIONS", 1000)  # open connections per worker
# Docker sends SIGKILL 10 s after SIGTERM: finish in-flight requests well before that.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 8)
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# A connection must deliver a request's line and headers within this many seconds of being
# opened (or of its previous answer), else it is closed: idle keep-alive connections, and
# clients that send nothing or their headers byte by byte, all end here (gunicorn's gevent
# worker reads each request's headers under this deadline).
keepalive = 5
# Then the body must arrive and the answer go out within this many seconds, else the
# connection is closed unanswered: a body trickled byte by byte, or an answer the client
# never reads. It sits above the slowest one database call may take (connect 2 s, read 3 s,
# write 3 s, one reconnection), so a request that meets a failing database gets its 503.
REQUEST_SECONDS = _env_int("GUNICORN_REQUEST_SECONDS", 15)


class HeadersWithBody:
    """A client socket that sends an answer's headers together with the first bytes of its body.

    gunicorn sends the headers, then the body, in two writes: two system calls and two packets
    for an answer that fits in one, which on loopback cost more than the page's own HTML. Only
    that first write is held; anything else done with the socket sends it first. After an
    error it is dropped, so that gunicorn's error answer goes out alone.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._held: bytes | None = None
        self._started = False

    def sendall(self, data: bytes) -> None:
        """Hold the answer's first write; send it with the second."""
        if not self._started:
            self._started, self._held = True, data
        elif self._held is not None:
            data, self._held = self._held + data, None
            self._sock.sendall(data)
        else:
            self._sock.sendall(data)

    def flush(self) -> None:
        """Send what is held, if anything."""
        if self._held is not None:
            data, self._held = self._held, None
            self._sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        self.flush()
        return getattr(self._sock, name)


class BoundedGeventWorker(GeventWorker):
    """gunicorn's gevent worker: a deadline on each request, a fair turn for each connection, and a
    prompt stop that closes connections waiting for a request instead of waiting for them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each kept-alive connection's greenlet -> its wait for the next request (gunicorn's
        # keepalive timer). A connection's first request is never in here: see timeout_ctx.
        self._waits: weakref.WeakKeyDictionary[Any, gevent.Timeout] = weakref.WeakKeyDictionary()
        self._served: weakref.WeakSet[Any] = weakref.WeakSet()  # greenlets that have answered once

    def timeout_ctx(self) -> gevent.Timeout:
        """The keepalive deadline on reading a request's headers, remembered for a prompt stop."""
        current = gevent.getcurrent()
        if current not in self._served:
            # A new connection's first request is on its way (a client connects to send one):
            # it gets its whole deadline, stopping or not, else a reload cuts it unanswered.
            return gevent.Timeout(self.cfg.keepalive, False)
        # Once stopping, a kept-alive connection gets no new wait; the client opens another.
        wait = gevent.Timeout(self.cfg.keepalive if self.alive else 0, False)
        self._waits[current] = wait
        return wait

    def handle_exit(self, sig: int, frame: Any) -> None:
        """On SIGTERM, end every wait for a next request now; requests under way still finish.

        Otherwise a stopping worker lingers until its idle keep-alive connections time out
        (``keepalive``), and `docker stop` (and with it a new container's start) waits as long.
        """
        super().handle_exit(sig, frame)
        for greenlet, wait in list(self._waits.items()):
            if wait.pending:  # the same as the wait running out: the connection closes quietly
                greenlet.kill(exception=wait, block=False)

    def handle_request(self, listener_name: str, req: Any, sock: Any, addr: Any) -> bool:
        """Serve one request within REQUEST_SECONDS, then let the other connections go first."""
        self._served.add(gevent.getcurrent())
        # gunicorn sends "100 Continue" before the app runs: a body the app will refuse as too
        # large is not invited, the 413 goes out at once, and the connection, whose body never
        # came, is closed after it.
        withheld = req._expected_100_continue and _over_the_limit(req)
        if withheld:
            req._expected_100_continue = False
        deadline = gevent.Timeout(REQUEST_SECONDS)
        corked = HeadersWithBody(sock)
        try:
            with deadline:
                try:
                    keep_alive: bool = super().handle_request(listener_name, req, corked, addr)
                except StopIteration:  # answered, and the connection is to be closed
                    corked.flush()
                    raise
                corked.flush()
        except gevent.Timeout as expired:
            if expired is not deadline:
                raise
            self.log.info(
                "closed the connection from %s: request not done within %d s", addr[0], REQUEST_SECONDS
            )
            raise StopIteration from None  # gunicorn's way to close a connection quietly
        # A greenlet only yields when it would block, and a keep-alive client on loopback has
        # its next request in the socket before the answer to its last one is logged: without
        # this turn, one busy connection keeps the others waiting for up to a second.
        gevent.sleep(0)
        return keep_alive and not withheld


def _over_the_limit(req: Any) -> bool:
    """Whether a request that awaits "100 Continue" declares a body over the app's size limit."""
    from app.bodies import withholds_continue  # in the worker only: it imports Flask

    expect = next((value for name, value in req.headers if name == "EXPECT"), None)
    length = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), None)
    return withholds_continue(expect, length, MAX_CONTENT_LENGTH)


worker_class = BoundedGeventWorker


def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's answer to a request it could not read, in the shape of the app's own errors.

    gunicorn's page has no charset and none of the headers every other answer carries, and
    its status line can contradict itself ("501 Bad Request"). The path is often unknown
    here (the request line itself may be what failed), so the answer is the API's JSON error.
    """
    from app.security import SECURITY_HEADERS  # in the worker only: it imports Flask

    phrase = HTTPStatus(status_int).phrase if status_int in iter(HTTPStatus) else reason
    body = json.dumps({"error": phrase, "status": status_int, "detail": mesg}).encode() + b"\n"
    fields = {
        **SECURITY_HEADERS,
        "Cache-Control": "no-store",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    head = f"HTTP/1.1 {status_int} {phrase}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + b"\r\n" + body)


gunicorn_util.write_error = write_error  # its one caller: the worker's handle_error


class AccessLogger(Logger):
    """gunicorn's logger, writing gunicorn's own default access line for a fraction of the work.

    For every request gunicorn turns each request header, response header and environ value
    into a format atom, escapes them all (about 60 strings, though the default format names
    none of them), and passes the line through the logging module: together about a tenth of a
    request's CPU time here. With the default format written to standard output, the line is
    built from the nine values it shows and written at once; any other format or destination
    goes gunicorn's way. Byte for byte the same line either way (tests/unit/test_gunicorn.py).
    """

    def setup(self, cfg: Any) -> None:
        """Set up gunicorn's handlers, then choose the direct line where nothing else was asked for."""
        super().setup(cfg)
        plain = (
            cfg.access_log_format == AccessLogFormat.default
            and cfg.accesslog == "-"
            and not (cfg.syslog or cfg.logconfig or cfg.logconfig_dict or cfg.logconfig_json)
        )
        handler = self._get_gunicorn_handler(self.access_log) if plain else None
        self._stream = getattr(handler, "stream", None)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Write the access line for one answered request."""
        if self._stream is None:
            super().access(resp, req, environ, request_time)
            return
        try:
            self._stream.write(self.default_line(resp, environ))
            self._stream.flush()
        except Exception:
            self.error(traceback.format_exc())

    def default_line(self, resp: Any, environ: dict[str, Any]) -> str:
        """gunicorn's default access line (its format, atoms and escaping), ending in a newline."""
        get = environ.get
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = resp.sent
        request = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        quoted = [
            get("REMOTE_ADDR", "-"),
            self._get_user(environ) or "-",
            request,
            get("HTTP_REFERER", "-"),
            get("HTTP_USER_AGENT", "-"),
        ]
        host, user, request, referer, agent = (
            v.replace('"', '\\"') if isinstance(v, str) else v for v in quoted
        )
        size = "-" if sent is None else str(sent)
        return f'{host} - {user} {self.now()} "{request}" {status} {size} "{referer}" "{agent}"\n'


logger_class = AccessLogger
accesslog = "-"  # the access log is what `docker logs` shows, as Apache's was in the lesson
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No runtime control socket: nothing in the container uses it, and the app user has no home.
control_socket_disable = True


def when_ready(server: object) -> None:
    """Say once where the app will look for its database (never the password); then import Flask.

    The port is bound by now, so clients that come while the workers start wait in its queue
    instead of being refused; the workers, forked from here, start with Flask already imported.
    """
    s = _settings
    server.log.info("apl: database %s, name %s, user %s", s.address, s.database, s.user)  # type: ignore[attr-defined]
    import flask  # noqa: F401
