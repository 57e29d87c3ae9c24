"""The JSON API's answers to bad input, unknown routes and a missing database: never a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .conftest import PASSWORD

pytestmark = pytest.mark.unit


def _assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == status and body["error"] and body["detail"]
    return body


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"text": ""}, "empty"),
        ({"text": "   "}, "empty"),
        ({"text": "x" * 281}, "280"),
        ({"text": "a\nb"}, "Control characters"),
        ({"text": 42}, "expected"),
        ({"text": "hi", "font": 7}, "expected"),
        ({"text": "hi", "font": "wingdings"}, "font"),
        ({}, "expected"),
        ([1, 2], "JSON object"),
    ],
)
def test_invalid_messages_are_400_before_the_database_is_asked(
    client: FlaskClient, body: object, detail: str
) -> None:
    # The database is down: a 400 proves validation happens first and needs no database.
    response = client.post("/api/messages", json=body)
    assert detail in _assert_json_error(response, 400)["detail"]


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"text": "\xff\xfe"}', "application/json", 400),
        (b'{"text": "lone \\ud800 surrogate"}', "application/json", 400),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),  # deeper than the decoder's recursion limit
        (b"text=hi", "application/x-www-form-urlencoded", 415),
        (b'{"text": "hi"}', "text/plain", 415),
        (b'{"text": "hi"}', None, 415),
        (b"x" * (1024 * 1024), "application/json", 413),
    ],
)
def test_malformed_bodies(client: FlaskClient, data: bytes, content_type: str | None, status: int) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    _assert_json_error(client.post("/api/messages", data=data, headers=headers), status)


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b'{"text": "hi", "n": NaN}', "the body is not valid JSON (NaN is not a JSON value)"),
        (b'{"text": "hi", "n": -Infinity}', "the body is not valid JSON (-Infinity is not a JSON value)"),
        (b'{"text": "first", "text": "second"}', 'the body names the key "text" more than once'),
        (b'{"text": "hi", "x": {"a": 1, "a": 2}}', 'the body names the key "a" more than once'),
        (b'{"text": "hi", "n": ' + b"9" * 5000 + b"}", "the body holds a number of more than 4300 digits"),
    ],
    ids=["NaN", "Infinity", "text twice", "a nested key twice", "5,000 digits"],
)
def test_json_that_python_would_take_but_is_not_plain_json_is_400_with_its_reason(
    client: FlaskClient, data: bytes, detail: str
) -> None:
    response = client.post("/api/messages", data=data, content_type="application/json")
    assert _assert_json_error(response, 400)["detail"] == detail


def test_a_websocket_upgrade_is_told_that_none_is_offered(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"Connection": "Upgrade", "Upgrade": "websocket"})
    assert "does not speak WebSocket" in _assert_json_error(response, 400)["detail"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=abc", "before=0", "before=-3", "limit=1.5", "before=" + "9" * 5000],
)
def test_bad_paging_parameters_are_400(client: FlaskClient, query: str) -> None:
    _assert_json_error(client.get(f"/api/messages?{query}"), 400)


def test_unknown_routes_and_wrong_methods_answer_json(client: FlaskClient) -> None:
    _assert_json_error(client.get("/api/nothing-here"), 404)
    _assert_json_error(client.get("/api/messages/-1"), 404)
    _assert_json_error(client.get("/api/messages/" + "9" * 5000), 404)
    response = client.delete("/api/messages")
    _assert_json_error(response, 405)
    assert "POST" in response.headers["Allow"]


def test_database_down_is_503_with_reason_for_reads_and_writes(client: FlaskClient) -> None:
    for response in (client.get("/api/messages"), client.post("/api/messages", json={"text": "hi"})):
        body = _assert_json_error(response, 503)
        assert "Connection refused" in body["detail"]
        assert PASSWORD not in response.get_data(as_text=True)


def test_health_needs_no_database_but_readiness_does(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["status"] == "unavailable"
    assert "Connection refused" in ready.get_json()["reason"]


def test_openapi_description_is_served(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/messages", "/api/messages/{message_id}"} <= set(spec["paths"])
