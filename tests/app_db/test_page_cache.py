"""The page at / is rendered once per state of the board, yet always shows what the database holds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import store
from app.db import get_db
from app.security import CSRF_COOKIE

from .conftest import DBServer

pytestmark = pytest.mark.appdb


def page(client: FlaskClient, path: str = "/?lang=en") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_new_message_shows_at_once(client: FlaskClient) -> None:
    page(client)  # renders and keeps the page for an empty board
    assert client.post("/api/messages", json={"text": "fresh one"}).status_code == 201
    assert "fresh one" in page(client)


def test_a_board_wiped_and_refilled_under_the_app_is_not_shown_stale(
    client: FlaskClient, db_server: DBServer, database: str
) -> None:
    assert client.post("/api/messages", json={"text": "before the wipe"}).status_code == 201
    assert "before the wipe" in page(client)
    # Same ids, other content: what a database recreated under a running app looks like.
    db_server.sql("TRUNCATE TABLE messages", database=database)
    db_server.sql("INSERT INTO messages (text) VALUES ('after the wipe')", database=database)
    shown = page(client)
    assert "after the wipe" in shown and "before the wipe" not in shown


def test_each_visitor_gets_their_own_token_and_a_fresh_round_trip(client: FlaskClient) -> None:
    first = page(client)
    token = re.search(r'name="csrf_token" value="([^"]+)"', first)
    assert token and client.get_cookie(CSRF_COOKIE).value == token.group(1)
    assert "\x00" not in first  # no mark left unfilled
    assert re.search(r"<dd>\d+\.\d ms</dd>", first)

    # Another visitor's token, on the page now cached: it must be theirs, not the first one's.
    other = "B" * 43
    client.set_cookie(CSRF_COOKIE, other)
    assert f'name="csrf_token" value="{other}"' in page(client)


def test_a_row_deleted_by_sql_disappears_from_the_page(
    client: FlaskClient, db_server: DBServer, database: str
) -> None:
    for text in ("stays here", "moderated away"):
        assert client.post("/api/messages", json={"text": text}).status_code == 201
    assert "moderated away" in page(client)
    db_server.sql("DELETE FROM messages WHERE text = 'moderated away'", database=database)
    shown = page(client)
    assert "stays here" in shown and "moderated away" not in shown


def test_an_insert_racing_a_render_is_never_shown_once_deleted(
    app: Flask, client: FlaskClient, db_server: DBServer, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.post("/api/messages", json={"text": "on the board"}).status_code == 201
    real = store.fetch_fingerprint
    raced: list[int] = []

    def fingerprint_then_a_racing_insert(*args: Any, **kwargs: Any) -> store.Fingerprint:
        """The real read, then another client's INSERT lands before the page is read (once)."""
        seen = real(*args, **kwargs)
        if not raced:
            db_server.sql("INSERT INTO messages (text) VALUES ('raced in')", database=database)
            raced.append(1)
        return seen

    monkeypatch.setattr(store, "fetch_fingerprint", fingerprint_then_a_racing_insert)
    assert "raced in" in page(client)  # rendered from a read made after the insert
    monkeypatch.setattr(store, "fetch_fingerprint", real)
    # Deleted again: the board is back to what the first read saw. A page filed under that read
    # would show the deleted row from now on.
    db_server.sql("DELETE FROM messages WHERE text = 'raced in'", database=database)
    shown = page(client)
    assert "on the board" in shown and "raced in" not in shown


def test_a_database_emptied_and_refilled_with_the_same_ids_shows_the_new_rows(
    client: FlaskClient, db_server: DBServer, database: str
) -> None:
    client.get("/api/messages")  # the app creates the table on first use
    fill = "INSERT INTO messages (id, text, created_at) VALUES (1, %s, %s), (2, %s, %s)"
    stamp = "2026-12-01 00:00:00.000"
    db_server.sql(fill, ("old one", stamp, "old two", stamp), database=database)
    assert "old two" in page(client)
    db_server.sql("DELETE FROM messages", database=database)
    assert "old two" not in page(client)
    # Same ids, same times, other texts: only the content tells the boards apart.
    db_server.sql(fill, ("new one", stamp, "new two", stamp), database=database)
    shown = page(client)
    assert "new one" in shown and "new two" in shown and "old one" not in shown and "old two" not in shown


@pytest.mark.parametrize("stored", [0, 1, 10, 11, 25])
def test_the_fingerprint_is_what_a_page_read_files_its_page_under(
    app: Flask, client: FlaskClient, stored: int
) -> None:
    """A hit is looked up with fetch_fingerprint, a miss filed with fetch_board: the two must agree."""
    for n in range(stored):
        assert client.post("/api/messages", json={"text": f"row {n}"}).status_code == 201
    guard = app.extensions["apl.schema"]
    with app.app_context():
        for before in (None, 5, 12, 1):
            fingerprint = get_db().run(lambda _s, c, b=before: store.fetch_fingerprint(c, guard, before=b))
            page, same = get_db().run(lambda _s, c, b=before: store.fetch_board(c, guard, before=b))
            assert fingerprint == same, (stored, before)
            # Newest first, the one row past the page included (it tells whether an older page exists).
            shown = [m.id for m in page.messages]
            assert [row_id for row_id, _ in fingerprint][: len(shown)] == shown
