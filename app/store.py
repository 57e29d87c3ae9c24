"""The messages table: parameterised SQL only, run on a cursor from Database.run()."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pymysql
from pymysql.cursors import Cursor

from . import figlet
from .db import error_code
from .schema import SchemaGuard

MAX_TEXT = 280  # characters, as VARCHAR(280) counts them
PAGE_SIZE = 10
MAX_LIMIT = 100
_COLUMNS = "id, text, font, created_at"
# One checksum of a row's content, computed by the server alike in every query that reads it.
_CHECKSUM = "CRC32(CONCAT_WS(0x1f, text, font, created_at))"
# (id, checksum) of each row a page query reads: what the page at / is cached under.
Fingerprint = tuple[tuple[int, int], ...]
# No such table / unknown column: the schema changed under a running app.
_SCHEMA_ERRORS = frozenset({1146, 1054})


@dataclass(frozen=True)
class Message:
    """One stored message, as read back from the database."""

    id: int
    text: str
    font: str
    created_at: datetime

    @property
    def art(self) -> str | None:
        """Return the FIGlet art, or None when the text is shown as text instead."""
        font = self.font if self.font in figlet.FONTS else figlet.DEFAULT_FONT
        return figlet.render(self.text, font)

    @property
    def created_iso(self) -> str:
        """Return created_at (stored in UTC) in ISO 8601 with a Z."""
        return self.created_at.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def to_json(self) -> dict[str, Any]:
        """Return the API's row shape."""
        return {"id": self.id, "text": self.text, "font": self.font, "created_at": self.created_iso}


@dataclass(frozen=True)
class Page:
    """Messages newest first, and the id to pass as ``before`` for the next older page."""

    messages: list[Message]
    next_before: int | None


def _page_query(columns: str, before: int | None, limit: int) -> tuple[str, tuple[int, ...]]:
    """SQL selecting ``columns`` of up to ``limit`` + 1 messages older than ``before`` (or the newest).

    The one row more than asked tells whether an older page exists, in the same round trip.
    """
    if before is None:
        return f"SELECT {columns} FROM messages ORDER BY id DESC LIMIT %s", (limit + 1,)
    return f"SELECT {columns} FROM messages WHERE id < %s ORDER BY id DESC LIMIT %s", (before, limit + 1)


def fetch_fingerprint(
    cursor: Cursor, guard: SchemaGuard, *, before: int | None, limit: int = PAGE_SIZE
) -> Fingerprint:
    """Identify the rows fetch_page would read, with integers only (cheap to read back).

    A checksum of each row's content stands beside its id: a database wiped and refilled under
    a running app reuses ids for other messages.
    """
    _execute(cursor, guard, *_page_query(f"id, {_CHECKSUM}", before, limit))
    return tuple((int(row_id), int(checksum)) for row_id, checksum in cursor.fetchall())


def fetch_page(cursor: Cursor, guard: SchemaGuard, *, before: int | None, limit: int = PAGE_SIZE) -> Page:
    """Read up to ``limit`` messages older than ``before`` (or the newest), newest first."""
    _execute(cursor, guard, *_page_query(_COLUMNS, before, limit))
    return _page([Message(*row) for row in cursor.fetchall()], limit)


def fetch_board(
    cursor: Cursor, guard: SchemaGuard, *, before: int | None, limit: int = PAGE_SIZE
) -> tuple[Page, Fingerprint]:
    """Read a page and its fingerprint in one SELECT, so both always describe the same rows.

    Two reads could straddle a write: a page read after an INSERT, kept under the fingerprint
    read before it, would be shown again once that row is deleted and the fingerprint is back.
    """
    _execute(cursor, guard, *_page_query(f"{_COLUMNS}, {_CHECKSUM}", before, limit))
    rows = cursor.fetchall()
    fingerprint = tuple((int(row[0]), int(row[-1])) for row in rows)
    return _page([Message(*row[:-1]) for row in rows], limit), fingerprint


def _page(rows: list[Message], limit: int) -> Page:
    """Cut the one row more than asked (see _page_query) and say where the next page starts."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(messages=rows, next_before=rows[-1].id if more else None)


def fetch_one(cursor: Cursor, guard: SchemaGuard, message_id: int) -> Message | None:
    """Read one message by id."""
    _execute(cursor, guard, f"SELECT {_COLUMNS} FROM messages WHERE id = %s", (message_id,))
    row = cursor.fetchone()
    return Message(*row) if row else None


def insert(cursor: Cursor, guard: SchemaGuard, text: str, font: str) -> Message:
    """Store a message and return the row as the database holds it.

    The connection runs in autocommit mode, so the INSERT has been committed when the server
    answers it; reading the row back proves it is stored, exactly as given.
    """
    _execute(cursor, guard, "INSERT INTO messages (text, font) VALUES (%s, %s)", (text, font))
    stored = fetch_one(cursor, guard, cursor.lastrowid)
    if stored is None:  # cannot happen after a committed INSERT; refuse to claim success anyway
        raise RuntimeError("the inserted message could not be read back")
    return stored


def _execute(cursor: Cursor, guard: SchemaGuard, sql: str, args: tuple[Any, ...]) -> None:
    """Execute after checking the schema once; a schema error mid-run triggers a fresh check."""
    guard.require(cursor)
    try:
        cursor.execute(sql, args)
    except (pymysql.err.ProgrammingError, pymysql.err.OperationalError) as exc:
        if error_code(exc) not in _SCHEMA_ERRORS:
            raise
        guard.invalidate()
        guard.require(cursor)  # recreates a dropped table, or raises SchemaMismatch naming the gap
        cursor.execute(sql, args)
