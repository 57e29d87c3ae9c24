"""Connections: one kept per thread, re-established when killed, recovery after an outage."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .conftest import APP_USER, DBServer, make_app, wait_for

pytestmark = pytest.mark.appdb


def app_connections(db_server: DBServer, database: str) -> list[int]:
    """The ids of the app user's connections to ``database``, seen from the server."""
    rows = db_server.sql(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s AND DB = %s ORDER BY ID",
        (APP_USER, database),
    )
    return [row[0] for row in rows]


def test_one_connection_is_kept_across_requests(
    client: FlaskClient, db_server: DBServer, database: str
) -> None:
    for _ in range(5):
        assert client.get("/").status_code == 200
        assert client.get("/readyz").status_code == 200
    assert len(app_connections(db_server, database)) == 1


def test_a_connection_killed_server_side_is_replaced_on_the_next_request(
    client: FlaskClient, db_server: DBServer, database: str
) -> None:
    assert client.get("/").status_code == 200
    (victim,) = app_connections(db_server, database)
    db_server.sql(f"KILL {int(victim)}")
    wait_for(
        lambda: True if victim not in app_connections(db_server, database) else None, timeout=10, what="KILL"
    )

    assert client.get("/").status_code == 200  # a read: retried once on a fresh connection
    (replacement,) = app_connections(db_server, database)
    assert replacement != victim

    db_server.sql(f"KILL {int(replacement)}")
    wait_for(lambda: True if not app_connections(db_server, database) else None, timeout=10, what="KILL")
    response = client.post("/api/messages", json={"text": "after a kill"})  # a write: pinged first
    assert response.status_code == 201
    assert db_server.sql("SELECT COUNT(*) FROM messages", database=database) == [(1,)]


def _timed(call) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_outage_answers_503_then_recovers_without_a_restart(db_server: DBServer, database: str) -> None:
    app = make_app(db_server.environ(database))
    client = app.test_client()
    stored = client.post("/api/messages", json={"text": "before the outage 🐳"}).get_json()
    late_app: Flask | None = None
    try:
        db_server.container.stop(timeout=10)

        page, seconds = _timed(lambda: client.get("/"))
        assert page.status_code == 503 and seconds < 8
        assert "Connection failed." in page.get_data(as_text=True)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["reason"]
        write = client.post("/api/messages", json={"text": "during the outage"})
        assert write.status_code == 503 and write.get_json()["detail"]
        assert client.get("/healthz").status_code == 200

        late_app = make_app(db_server.environ(database))  # an app may start while its DB is down
        assert late_app.test_client().get("/readyz").status_code == 503
    finally:
        db_server.container.start()
        db_server.wait_ready()

    # The same app objects, never rebuilt: their next requests reconnect by themselves.
    wait_for(lambda: True if client.get("/readyz").status_code == 200 else None, timeout=30, what="recovery")
    messages = client.get("/api/messages").get_json()["messages"]
    assert [m["text"] for m in messages] == [stored["text"]]  # survived; nothing half-written
    assert late_app.test_client().get("/").status_code == 200
    app.extensions["apl.db"].close()
    late_app.extensions["apl.db"].close()
