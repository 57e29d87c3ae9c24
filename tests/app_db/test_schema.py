"""Older databases: a missing table is created; a table unlike ours is reported exactly."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .conftest import DBServer, make_app

pytestmark = pytest.mark.appdb

# What an older version of the schema might have been: no font, no timestamps, latin1.
LEGACY_TABLE = (
    "CREATE TABLE messages (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, text VARCHAR(255) NOT NULL)"
    " CHARACTER SET latin1"
)


def test_missing_table_is_created_from_the_schema_file(
    client: FlaskClient, db_server: DBServer, database: str
) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    rows = db_server.sql(
        "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'messages'",
        (database,),
    )
    assert dict(rows) == {"id": None, "text": "utf8mb4", "font": "ascii", "created_at": None}


def test_older_table_is_reported_exactly_and_accepted_once_fixed(db_server: DBServer, database: str) -> None:
    db_server.sql(LEGACY_TABLE, database=database)
    app = make_app(db_server.environ(database))
    client = app.test_client()

    ready = client.get("/readyz")
    assert ready.status_code == 503
    problems = ready.get_json()["problems"]
    assert len(problems) == 3
    assert any("missing column `font`" in p for p in problems)
    assert any("missing column `created_at`" in p for p in problems)
    assert any("character set latin1" in p for p in problems)

    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200  # the connection test itself succeeded
    assert "Connected successfully." in html and 'id="schema-problems"' in html and "`font`" in html
    write = client.post("/api/messages", json={"text": "hello"})
    assert write.status_code == 503 and "font" in write.get_json()["detail"]

    # Each problem names the statement that fixes it; running them is all it takes.
    for problem in problems:
        db_server.sql(problem.split(": ", 1)[1], database=database)
    assert client.get("/readyz").status_code == 200
    assert client.post("/api/messages", json={"text": "안녕"}).status_code == 201
    app.extensions["apl.db"].close()


def test_table_dropped_under_a_running_app_is_noticed(
    client: FlaskClient, db_server: DBServer, database: str
) -> None:
    assert client.post("/api/messages", json={"text": "first"}).status_code == 201
    db_server.sql("DROP TABLE messages", database=database)
    # The next query fails with 'no such table'; the app checks again, recreates it, retries.
    listing = client.get("/api/messages")
    assert listing.status_code == 200 and listing.get_json()["messages"] == []
