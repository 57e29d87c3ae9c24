"""Headers on every answer, and form posts from anywhere but this page refused."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from app.security import CSRF_COOKIE

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/messages", "/api/nothing", "/static/style.css"])
def test_security_headers_everywhere(client: FlaskClient, path: str) -> None:
    with client.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "style-src 'self'" in csp
    assert "script-src" not in csp and "default-src 'none'" in csp  # so no script runs at all
    assert headers["X-Content-Type-Options"] == "nosniff"


def _token(client: FlaskClient) -> str:
    client.get("/")
    cookie = client.get_cookie(CSRF_COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    return cookie.value


def test_page_has_no_inline_script_or_style(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "<script" not in page and "style=" not in page and "<style" not in page


def test_same_origin_form_post_passes_the_checks(client: FlaskClient) -> None:
    token = _token(client)
    response = client.post(
        "/messages",
        data={"text": "hi", "csrf_token": token},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    # Past the checks, the database is down: the page says so, keeping the text typed.
    assert response.status_code == 503
    assert 'value="hi"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Referer": "http://[::1/x"},  # a URL Python cannot split: refused, never a 500
        {"Origin": "http://["},
        {"Origin": "http://localhost:99999"},
    ],
)
def test_cross_site_form_post_is_refused_even_with_the_token(client: FlaskClient, headers: dict) -> None:
    token = _token(client)
    response = client.post("/messages", data={"text": "hi", "csrf_token": token}, headers=headers)
    assert response.status_code == 403
    assert "Cross-site form post refused" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_form_post_without_the_matching_token_is_refused(client: FlaskClient, token: str | None) -> None:
    _token(client)
    data = {"text": "hi"} if token is None else {"text": "hi", "csrf_token": token}
    assert client.post("/messages", data=data).status_code == 403


def test_form_post_with_bytes_that_are_not_utf8_is_400(client: FlaskClient) -> None:
    token = _token(client)
    body = f"text=%FF%FE&csrf_token={token}".encode()
    response = client.post("/messages", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_json_post_from_another_origin_is_refused(client: FlaskClient) -> None:
    response = client.post("/api/messages", json={"text": "hi"}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert response.get_json()["status"] == 403
