"""The page at / is rendered once per state of the board, yet always shows what the database holds."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

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
