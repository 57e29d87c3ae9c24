"""A statement the database refuses is a 500 that names nothing inside, logged with its detail.

Only a database that cannot be reached is a 503 ("cannot reach the database"). Here the server is
up and answering, and a trigger refuses one text, as a constraint or a bug in SQL would.
"""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from app.errors import DATABASE_FAILED
from app.security import CSRF_COOKIE

from .conftest import DBServer

pytestmark = pytest.mark.appdb

REFUSED = "refuse me"
DETAIL = "apl-test-trigger-detail"  # the server's own words: for the log only
TRIGGER = f"""
CREATE TRIGGER refuse_marked BEFORE INSERT ON messages FOR EACH ROW
BEGIN
    IF NEW.text = '{REFUSED}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{DETAIL}'; END IF;
END
"""


@pytest.fixture
def refusing(client: FlaskClient, db_server: DBServer, database: str) -> None:
    assert client.get("/api/messages").status_code == 200  # the app creates the table on first use
    db_server.sql(TRIGGER, database=database)


@pytest.mark.usefixtures("refusing")
def test_a_refused_insert_is_500_with_a_plain_reason_and_the_detail_in_the_log(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="app.db"):
        response = client.post("/api/messages", json={"text": REFUSED})
    assert response.status_code == 500 and response.get_json()["detail"] == DATABASE_FAILED
    assert DETAIL not in response.get_data(as_text=True) and "1644" not in response.get_data(as_text=True)
    assert any(DETAIL in record.getMessage() for record in caplog.records)
    # Still reachable, still ready, still storing: nothing about the connection was wrong.
    assert client.get("/readyz").status_code == 200
    assert client.post("/api/messages", json={"text": "fine"}).status_code == 201


@pytest.mark.usefixtures("refusing")
def test_the_form_shows_a_500_and_keeps_the_text(client: FlaskClient) -> None:
    client.set_cookie(CSRF_COOKIE, "T" * 43)
    response = client.post("/messages?lang=en", data={"text": REFUSED, "csrf_token": "T" * 43})
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and f'value="{REFUSED}"' in page and DETAIL not in page
