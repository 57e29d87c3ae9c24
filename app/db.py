"""A small pool of persistent MySQL connections per worker process, each re-established when lost."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pymysql
from flask import Flask, current_app
from pymysql.cursors import Cursor

from .config import DBSettings
from .slots import FairSlots

T = TypeVar("T")
# A child of Flask's "app" logger, so its lines reach gunicorn's error log (docker logs).
log = logging.getLogger("app.db")

# Codes that mean "this connection is gone" rather than "this statement failed":
# server shutdown, killed (MariaDB), gone away, lost during query, lost (TLS), idle-killed (MySQL 8).
_CONNECTION_LOST = frozenset({1053, 1927, 2006, 2013, 2055, 4031})
# Codes that mean "the database cannot be reached or logged in to": cannot connect (refused, timed
# out, name not found), unknown host, too many connections (server-wide, per user), host blocked or
# not allowed, and the login refused (password, auth plugin or protocol, the database named).
_CANNOT_CONNECT = frozenset({2003, 2005, 1040, 1203, 1129, 1130, 1044, 1045, 1049, 1251, 1698, 2059})
# Every statement runs in UTC with strict checks, so nothing is silently truncated or shifted.
# Connections per worker process: as many as gunicorn's threads would use at once (4), which
# keeps the DB's own thread count, and its scheduling, small whatever the number of clients.
POOL_SIZE = 4
_SESSION_SETUP = "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"


class DatabaseUnavailable(Exception):
    """The database did not answer; ``reason`` is safe to show to anyone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DatabaseFailed(Exception):
    """The database was reached but a statement failed; ``detail`` is for the log, never for clients."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Session:
    """An open connection and what the connection test reports about it."""

    conn: pymysql.Connection
    peer: str
    version: str


def error_code(exc: BaseException) -> int:
    """Return the MySQL error number of a PyMySQL exception, or 0."""
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else 0


class Database:
    """Lends each request a kept connection from a small pool; nothing is opened until a request needs it.

    A pool rather than one connection per thread: under the gevent worker every client
    connection is a greenlet of its own, and one database connection each would let a crowd
    of clients open more than the server accepts. At most ``size`` run at once per process;
    the others queue here, in order (app/slots.py), rather than inside the database.
    """

    def __init__(self, settings: DBSettings, size: int = POOL_SIZE) -> None:
        self.settings = settings
        self._idle: list[Session] = []  # list.append and list.pop are atomic: no lock needed
        self._slots = FairSlots(size)
        self._reachable = True  # the last outcome, only to log changes once, not every request

    def run(self, work: Callable[[Session, Cursor], T], *, idempotent: bool = True) -> T:
        """Run ``work`` on a kept connection, reconnecting once if the kept one was lost.

        Raises DatabaseUnavailable (with a reason safe to show) when the database cannot be
        reached or the connection is lost, and DatabaseFailed (logged here with its detail) for
        any other database error: a statement the server refused is a fault, not an outage.

        A read is simply retried on a fresh connection. A write is never retried once sent
        (it may have committed); instead a kept connection is pinged first, so a connection
        lost while idle is replaced before anything is written.
        """
        try:
            with self._slot():
                result = self._attempt(work, idempotent)
        except DatabaseUnavailable as exc:
            if self._reachable:
                self._reachable = False
                log.warning("database %s unavailable: %s", self.settings.address, exc.reason)
            raise
        except DatabaseFailed as exc:
            log.error("database %s failed a statement: %s", self.settings.address, exc.detail)
            raise
        if not self._reachable:
            self._reachable = True
            log.warning("database %s reachable again", self.settings.address)
        return result

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        """Wait for one of the pool's places, at most as long as one query may take.

        A busy moment then queues rather than fails (a request waits here only while others
        use the database), and a database that hangs still ends in a 503, not an endless queue.
        """
        s = self.settings
        if not self._slots.acquire(timeout=s.connect_timeout + s.read_timeout + s.write_timeout):
            raise DatabaseUnavailable("the database is busy: no connection came free in time")
        try:
            yield
        finally:
            self._slots.release()

    def _attempt(self, work: Callable[[Session, Cursor], T], idempotent: bool) -> T:
        """Do what run() promises, without the logging."""
        kept = self._idle.pop() if self._idle else None
        if kept is not None and not idempotent:
            try:
                kept.conn.ping(reconnect=False)
            except pymysql.err.Error:
                _close(kept)  # lost while idle: replace it before anything is written
                kept = None
        if kept is not None:
            try:
                return self._call(kept, work)
            except pymysql.err.Error as exc:
                if not is_connection_lost(exc):
                    raise self._classify(exc) from exc
                if not idempotent:
                    raise self._unavailable(exc, "the connection was lost while writing") from exc
        try:
            return self._call(self._open(), work)
        except pymysql.err.Error as exc:
            raise self._classify(exc) from exc

    def close(self) -> None:
        """Close every kept connection."""
        while self._idle:
            _close(self._idle.pop())

    def _call(self, session: Session, work: Callable[[Session, Cursor], T]) -> T:
        """Give ``work`` a cursor on ``session``; keep the connection if it is still in step.

        A statement the server refused leaves the connection usable; anything else (a lost
        connection, an exception or a timeout in the middle of reading an answer) may leave
        it out of step with the server, so it is closed.
        """
        try:
            with session.conn.cursor() as cursor:
                result = work(session, cursor)
        except pymysql.err.Error as exc:
            if is_connection_lost(exc):
                _close(session)
            else:
                self._idle.append(session)
            raise
        except BaseException:
            _close(session)
            raise
        self._idle.append(session)
        return result

    def _open(self) -> Session:
        """Connect and return the new connection."""
        s = self.settings
        try:
            conn = pymysql.connect(
                host=s.host,
                port=s.port,
                user=s.user,
                # As bytes: PyMySQL sends a str password as Latin-1, which cannot spell most of the
                # world's passwords and misspells the rest; the server stored it as UTF-8.
                password=s.password.encode("utf-8"),
                database=s.database,
                charset="utf8mb4",
                autocommit=True,  # each INSERT is committed before the server answers it
                connect_timeout=s.connect_timeout,
                read_timeout=s.read_timeout,
                write_timeout=s.write_timeout,
                init_command=_SESSION_SETUP,
            )
        except pymysql.err.Error as exc:
            raise self._classify(exc) from exc
        # The address the name resolved to: on apl-net, proof that "mysql" found the DB container.
        sock = getattr(conn, "_sock", None)
        peer_host, peer_port = sock.getpeername()[:2] if sock else (s.host, s.port)
        # MariaDB prefixes its handshake version with "5.5.5-" for the sake of old clients.
        version = conn.get_server_info().removeprefix("5.5.5-")
        return Session(conn=conn, peer=f"{peer_host}:{peer_port}", version=version)

    def _classify(self, exc: BaseException) -> DatabaseUnavailable | DatabaseFailed:
        """Turn a driver error into an outage (503) or a failed statement (500)."""
        if is_connection_level(exc):
            return self._unavailable(exc)
        return DatabaseFailed(self._describe(exc))

    def _unavailable(self, exc: BaseException, context: str = "") -> DatabaseUnavailable:
        """Describe why the database cannot be reached, as the page and the API show it."""
        reason = self._describe(exc)
        if context:
            reason = f"{context} ({reason}); the message may or may not be stored"
        return DatabaseUnavailable(reason)

    def _describe(self, exc: BaseException) -> str:
        """Describe a driver error in one line, with the password scrubbed just in case."""
        code = error_code(exc)
        message = (exc.args[1] if len(exc.args) > 1 else str(exc)) or "the connection is closed"
        reason = f"MySQL error {code}: {message}" if code else str(message)
        return mask(reason, self.settings.password)


def _close(session: Session) -> None:
    """Close a connection that is not to be used again."""
    if session.conn.open:
        with contextlib.suppress(pymysql.err.Error):  # already broken: nothing to close cleanly
            session.conn.close()


def mask(text: str, secret: str) -> str:
    """Hide ``secret`` in ``text`` where it stands as a word of its own.

    A plain replace would turn a one-letter password into holes in every word ("M***SQL").
    """
    if not secret:
        return text
    # Word boundaries only where the secret's own edge is a word character.
    before = r"(?<!\w)" if re.match(r"\w", secret[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", secret[-1]) else ""
    return re.sub(before + re.escape(secret) + after, "***", text)


def is_connection_lost(exc: BaseException) -> bool:
    """Tell whether an error means the connection itself is gone."""
    return isinstance(exc, pymysql.err.InterfaceError) or error_code(exc) in _CONNECTION_LOST


def is_connection_level(exc: BaseException) -> bool:
    """Tell whether an error means the database cannot be reached (503), not that a statement failed."""
    return is_connection_lost(exc) or error_code(exc) in _CANNOT_CONNECT


def init_app(app: Flask) -> None:
    """Attach a Database built from the app's settings."""
    app.extensions["apl.db"] = Database(app.config["DB_SETTINGS"])


def get_db() -> Database:
    """Return the current app's Database."""
    db: Database = current_app.extensions["apl.db"]
    return db
