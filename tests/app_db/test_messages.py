"""Messages through the app and a real database: round trips, row shape, paging, the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from app.security import CSRF_COOKIE

from .conftest import INIT_DATABASE, DBServer

pytestmark = pytest.mark.appdb


def post(client: FlaskClient, text: str, font: str | None = None) -> dict:
    """Store a message through the API and return the 201 body."""
    body = {"text": text} if font is None else {"text": text, "font": font}
    response = client.post("/api/messages", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_initdb_ran_the_schema_in_utf8mb4(db_server: DBServer) -> None:
    rows = db_server.sql(
        "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'messages'",
        (INIT_DATABASE,),
    )
    assert dict(rows)["text"] == "utf8mb4"


def test_korean_and_emoji_survive_the_round_trip(
    client: FlaskClient, db_server: DBServer, database: str
) -> None:
    text = "안녕 docker 🐳 こんにちは 👨‍👩‍👧"
    row = post(client, f"  {text}  ")
    assert set(row) >= {"id", "text", "created_at"}
    assert row["text"] == text  # trimmed, otherwise exact
    created = datetime.fromisoformat(row["created_at"])
    assert created.tzinfo is not None and abs(datetime.now(UTC) - created) < timedelta(minutes=1)
    # Stored and committed: another connection sees exactly the same text.
    assert db_server.sql("SELECT text FROM messages WHERE id = %s", (row["id"],), database) == [(text,)]
    assert client.get("/api/messages").get_json()["messages"][0] == row
    assert client.get(f"/api/messages/{row['id']}").get_json() == row
    page = client.get("/").get_data(as_text=True)
    assert text in page


def test_location_names_the_new_row(client: FlaskClient) -> None:
    response = client.post("/api/messages", json={"text": "where", "font": "slant"})
    assert response.headers["Location"].endswith(f"/api/messages/{response.get_json()['id']}")
    assert response.get_json()["font"] == "slant"


def test_paging_newest_first_with_before(client: FlaskClient) -> None:
    ids = [post(client, f"message {n}")["id"] for n in range(25)]
    first = client.get("/api/messages?limit=10").get_json()
    assert [m["id"] for m in first["messages"]] == ids[::-1][:10]
    second = client.get(f"/api/messages?limit=10&before={first['next_before']}").get_json()
    assert [m["id"] for m in second["messages"]] == ids[::-1][10:20]
    last = client.get(f"/api/messages?limit=10&before={second['next_before']}").get_json()
    assert [m["id"] for m in last["messages"]] == ids[::-1][20:]
    assert last["next_before"] is None
    assert client.get(f"/api/messages?before={ids[0]}").get_json() == {"messages": [], "next_before": None}


def test_the_page_pages_too(client: FlaskClient) -> None:
    for n in range(12):
        post(client, f"page {n}")
    page = client.get("/").get_data(as_text=True)
    assert "page 11" in page and "page 2" in page and "page 1<" not in page
    older = re.search(r'id="older" href="([^"]+)"', page)
    assert older is not None
    older_page = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "page 1<" in older_page and "page 0<" in older_page and "page 11" not in older_page


def test_form_post_stores_and_the_page_draws_it(client: FlaskClient) -> None:
    client.get("/")
    token = client.get_cookie(CSRF_COOKIE).value
    response = client.post(
        "/messages?lang=ko",
        data={"text": "Hello apl", "font": "standard", "csrf_token": token},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 303
    assert re.fullmatch(r"/\?lang=ko#message-\d+", response.headers["Location"])
    page = client.get("/?lang=ko").get_data(as_text=True)
    assert "접속에 성공했습니다." in page
    assert '<pre class="art" aria-hidden="true">' in page
    assert '<p class="caption">Hello apl</p>' in page


def test_form_errors_keep_the_text_and_store_nothing(client: FlaskClient) -> None:
    client.get("/")
    token = client.get_cookie(CSRF_COOKIE).value
    response = client.post("/messages?lang=ja", data={"text": "x" * 281, "csrf_token": token})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "メッセージは280文字までです。" in page and 'value="' + "x" * 281 in page
    assert client.get("/api/messages").get_json()["messages"] == []


def test_script_message_is_escaped_end_to_end(client: FlaskClient) -> None:
    post(client, "<script>alert(1)</script>")
    page = client.get("/").get_data(as_text=True)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_page_reports_the_server_it_reached(client: FlaskClient, db_server: DBServer) -> None:
    version = db_server.sql("SELECT VERSION()")[0][0]
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Connected successfully." in page
    assert f'<code id="server-version">{version}</code>' in page
    assert f"127.0.0.1:{db_server.port}" in page
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["version"] == version
