"""Which database errors mean "cannot reach the database" (503) and which are failures (500).

The 500 itself, its log line and its wording are tested against a real server in tests/app_db.
"""

from __future__ import annotations

import pymysql
import pytest

from app.db import is_connection_level

pytestmark = pytest.mark.unit

OperationalError, ProgrammingError = pymysql.err.OperationalError, pymysql.err.ProgrammingError


@pytest.mark.parametrize(
    "error",
    [
        OperationalError(2003, "Can't connect to MySQL server on 'mysql' (timed out)"),
        OperationalError(2003, "Can't connect ([Errno -2] Name or service not known)"),
        OperationalError(2013, "Lost connection to MySQL server during query"),
        OperationalError(2006, "MySQL server has gone away"),
        OperationalError(1045, "Access denied for user 'apl'@'10.0.0.3' (using password: YES)"),
        OperationalError(1040, "Too many connections"),
        OperationalError(1053, "Server shutdown in progress"),
        pymysql.err.InterfaceError(0, ""),
    ],
)
def test_connection_level_errors(error: Exception) -> None:
    assert is_connection_level(error)


@pytest.mark.parametrize(
    "error",
    [
        ProgrammingError(1064, "You have an error in your SQL syntax"),
        pymysql.err.DataError(1406, "Data too long for column 'text' at row 1"),
        pymysql.err.IntegrityError(1062, "Duplicate entry '1' for key 'PRIMARY'"),
        pymysql.err.InternalError(1644, "signal raised by a trigger"),
        OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction"),
        OperationalError(1213, "Deadlock found when trying to get lock"),
    ],
)
def test_statement_errors_are_not_outages(error: Exception) -> None:
    assert not is_connection_level(error)


def test_a_refused_login_is_worded_as_up_looks_for_it() -> None:
    """`up` stops waiting at the first refused login it reads in /readyz's reason (stack/readiness.py)."""
    from app.config import DBSettings
    from app.db import Database
    from stack.readiness import LOGIN_REFUSED

    database = Database(DBSettings("mysql", 3306, "apl", "apl", "secret"))
    refused = database._unavailable(OperationalError(1045, "Access denied for user 'apl'@'10.0.0.3'"))
    assert refused.reason.startswith(f"{LOGIN_REFUSED}: Access denied")
