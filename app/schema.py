"""Check the messages table against what the app needs, and create it when it is missing.

The only DDL lives in db/001-schema.sql: the DB image runs it on first start, and the app
runs the same file when it meets a database without the table (say, a volume made before
the schema existed). An existing table that lacks a column or holds text in a narrower
character set is never altered by the app: it is reported, with the statement that fixes it,
on /readyz, on the page and in API errors.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pymysql
from pymysql.cursors import Cursor

from .db import is_connection_lost

DEFAULT_SCHEMA_FILE = Path(__file__).resolve().parent.parent / "db" / "001-schema.sql"
TABLE = "messages"
# What each column must be, as (acceptable DATA_TYPEs, needs utf8mb4).
_EXPECTED = {
    "id": ({"bigint", "int"}, False),
    "text": ({"varchar", "text", "mediumtext"}, True),
    "font": ({"varchar", "char"}, False),
    "created_at": ({"datetime", "timestamp"}, False),
}
_COLUMNS_QUERY = (
    "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_SET_NAME FROM information_schema.COLUMNS"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s"
)


class SchemaMismatch(Exception):
    """The database is reachable but its messages table is missing or unlike the app's."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class SchemaGuard:
    """Verifies the table once per process, and again after a query trips over it."""

    def __init__(self, schema_file: Path = DEFAULT_SCHEMA_FILE) -> None:
        self.schema_file = schema_file
        self._verified = threading.Event()

    def require(self, cursor: Cursor) -> None:
        """Return quietly if the table is usable; create it if absent; else raise SchemaMismatch."""
        if self._verified.is_set():
            return
        problems = self._inspect(cursor)
        if problems is None:
            self._create(cursor)
            problems = self._inspect(cursor)
            if problems is None:
                problems = [f"table `{TABLE}` is still missing after running {self.schema_file.name}"]
        if problems:
            raise SchemaMismatch(problems)
        self._verified.set()

    def invalidate(self) -> None:
        """Forget the last verdict, e.g. after 'no such table' from a query."""
        self._verified.clear()

    def statements(self) -> list[str]:
        """Split the schema file into statements (it holds no ';' inside literals)."""
        text = self.schema_file.read_text("utf-8")
        lines = [line for line in text.splitlines() if not line.startswith("--")]
        return [stmt.strip() for stmt in "\n".join(lines).split(";") if stmt.strip()]

    def _inspect(self, cursor: Cursor) -> list[str] | None:
        """List what is wrong with the table, or return None when there is no table at all."""
        cursor.execute(_COLUMNS_QUERY, (TABLE,))
        found = {name.lower(): (dtype.lower(), charset) for name, dtype, charset in cursor.fetchall()}
        if not found:
            return None
        problems = []
        for column, (types, needs_utf8mb4) in _EXPECTED.items():
            if column not in found:
                problems.append(
                    f"table `{TABLE}` is missing column `{column}`:"
                    f" ALTER TABLE {TABLE} ADD COLUMN {self._definition(column)}"
                )
            elif found[column][0] not in types:
                expected = "/".join(sorted(types))
                problems.append(f"column `{TABLE}.{column}` is {found[column][0]}; expected {expected}")
            elif needs_utf8mb4 and found[column][1] != "utf8mb4":
                problems.append(
                    f"column `{TABLE}.{column}` uses character set {found[column][1]}, which cannot hold"
                    f" Korean or emoji: ALTER TABLE {TABLE} CONVERT TO CHARACTER SET utf8mb4"
                    " COLLATE utf8mb4_unicode_ci"
                )
        return problems

    def _create(self, cursor: Cursor) -> None:
        """Run the schema file; a refusal (e.g. no CREATE privilege) becomes a SchemaMismatch."""
        try:
            for statement in self.statements():
                cursor.execute(statement)
            return
        except OSError as exc:
            reason = f"{self.schema_file} is unreadable ({exc.strerror})"
        except pymysql.err.Error as exc:
            if is_connection_lost(exc):
                raise  # not a schema problem: Database.run reconnects or reports it
            reason = f"could not be created: {exc.args[-1]}"
        raise SchemaMismatch([f"table `{TABLE}` is missing and {reason}"])

    def _definition(self, column: str) -> str:
        """Return the column's definition as written in the schema file, for a fix hint."""
        text = "\n".join(self.statements()) if self.schema_file.exists() else ""
        match = re.search(rf"^\s*({re.escape(column)}\s+.+?),?$", text, re.MULTILINE)
        return match.group(1) if match else column
