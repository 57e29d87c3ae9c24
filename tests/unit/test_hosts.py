"""Only the hosts the app is meant to be reached by get an answer; origins are judged by the same list."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import ConfigError, load_allowed_hosts
from app.hosts import split_host
from app.security import CSRF_COOKIE

pytestmark = pytest.mark.unit

TOKEN = "T" * 43


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8080", "LOCALHOST:80", "127.0.0.1", "127.0.0.1:18080", "[::1]", "[::1]:8080"],
)
@pytest.mark.parametrize("path", ["/", "/healthz", "/api/messages", "/nothing-here"])
def test_this_machine_is_answered_on_any_port(client: FlaskClient, host: str, path: str) -> None:
    assert client.get(path, headers={"Host": host}).status_code != 400


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:18080",
        "localhost.evil.example",
        "127.0.0.2",
        "[::2]:80",
        "0.0.0.0",
        "localhost:",
        "localhost:http",
        "::1",
        "localhost:8080:80",
        "10.244.0.7:80",
        "",
    ],
)
@pytest.mark.parametrize(("path", "json"), [("/healthz", True), ("/api/messages/1", True), ("/", False)])
def test_any_other_host_is_400_before_any_route(
    client: FlaskClient, host: str, path: str, json: bool
) -> None:
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    assert response.mimetype == ("application/json" if json else "text/html")
    assert "APL_ALLOWED_HOSTS" in response.get_data(as_text=True)


def test_a_post_for_another_host_stores_nothing_even_with_a_matching_origin(client: FlaskClient) -> None:
    # The DNS-rebinding shape: the page's own origin, and the Host it was sent to, both the attacker's.
    headers = {"Host": "evil.example:18080", "Origin": "http://evil.example:18080"}
    response = client.post("/api/messages", json={"text": "hi"}, headers=headers)
    assert response.status_code == 400  # refused before the view: the DB (down here) was never asked


def test_a_request_line_that_names_another_host_is_400_whatever_the_host_header(client: FlaskClient) -> None:
    # HTTP gives the absolute form's host precedence over Host: both must be this machine.
    asked = client.get("/healthz", environ_overrides={"RAW_URI": "http://evil.example/healthz"})
    assert asked.status_code == 400
    own = client.get("/healthz", environ_overrides={"RAW_URI": "http://localhost:8080/healthz"})
    assert own.status_code == 200


@pytest.mark.parametrize("path", ["/api%2Fmessages", "/api/messages%2f1", "/static%2Fstyle.css"])
def test_a_slash_spelled_percent_2f_is_no_second_address(client: FlaskClient, path: str) -> None:
    # gunicorn decodes %2F before routing; the raw target still shows it.
    decoded = path.replace("%2F", "/").replace("%2f", "/")
    with client.get(decoded, environ_overrides={"RAW_URI": decoded}) as plain:
        assert plain.status_code != 404
    with client.get(decoded, environ_overrides={"RAW_URI": path}) as spelled:
        assert spelled.status_code == 404


@pytest.fixture
def named_app(environ: dict[str, str]) -> Flask:
    return create_app({"TESTING": True, "ENVIRON": environ | {"APL_ALLOWED_HOSTS": "apl-app, board.lan"}})


def test_the_setting_adds_hosts(named_app: Flask) -> None:
    client = named_app.test_client()
    for host in ("apl-app", "board.lan:8080", "localhost"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200
    assert client.get("/healthz", headers={"Host": "other.lan"}).status_code == 400


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://localhost", "localhost", True),
        ("http://127.0.0.1:8080", "localhost:8080", True),  # another allowed name, same port
        ("http://localhost:9090", "localhost:8080", False),  # another port: another origin
        ("https://localhost:8080", "localhost:8080", False),  # another scheme
        ("http://evil.example:8080", "localhost:8080", False),
        ("http://localhost:80", "localhost", True),  # the default port, said or not
        ("null", "localhost", False),
    ],
)
def test_same_origin_means_an_allowed_host_on_this_scheme_and_port(
    client: FlaskClient, origin: str, host: str, allowed: bool
) -> None:
    client.set_cookie(CSRF_COOKIE, TOKEN)
    headers = {"Host": host, "Origin": origin}
    response = client.post("/messages", data={"text": "hi", "csrf_token": TOKEN}, headers=headers)
    assert response.status_code == (503 if allowed else 403)  # 503: past the checks, the DB is down


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("LocalHost:8080", ("localhost", 8080)),
        ("[::1]", ("[::1]", None)),
        ("[::1]:80", ("[::1]", 80)),
        ("host", ("host", None)),
        ("::1", None),
        ("host:99999999", None),
        ("host:８０", None),  # fullwidth digits are not a port
    ],
)
def test_split_host(value: str, parts: tuple[str, int | None] | None) -> None:
    assert split_host(value) == parts


def test_allowed_hosts_setting_is_read_and_checked() -> None:
    assert load_allowed_hosts({}) == {"localhost", "127.0.0.1", "[::1]"}
    assert load_allowed_hosts({"APL_ALLOWED_HOSTS": "A.lan,b  [fe80::1]"}) >= {"a.lan", "b", "[fe80::1]"}
    for bad in ("host:8080", "*", "http://host", "a/b"):
        with pytest.raises(ConfigError) as caught:
            load_allowed_hosts({"APL_ALLOWED_HOSTS": bad})
        assert caught.value.variable == "APL_ALLOWED_HOSTS" and bad not in str(caught.value)
