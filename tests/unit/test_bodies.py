"""One body limit, whether the body comes with a Content-Length or chunked (length unknown)."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser
from gunicorn.http.wsgi import create
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Response

from app import MAX_CONTENT_LENGTH

pytestmark = pytest.mark.unit


def chunked(app: Flask, path: str, body: bytes, content_type: str = "application/json") -> Response:
    """Send ``body`` as gunicorn hands a chunked one to the app: no length, the stream ends by itself.

    Straight to the WSGI app: the test client would rebuild the environ and measure the body.
    """
    environ = EnvironBuilder(path=path, method="POST", content_type=content_type).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ |= {
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
    }
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    return Response(app_iter, status, headers)


def through_gunicorn(app: Flask, request: bytes) -> Response:
    """Parse raw request bytes with gunicorn's own parser, as the server does, and run the app on them.

    The bytes arrive in pieces of 4 KiB, as from a socket.
    """
    peer, server, config = ("127.0.0.1", 50000), ("127.0.0.1", 80), Config()
    pieces = (request[i : i + 4096] for i in range(0, len(request), 4096))
    parsed = next(RequestParser(config, pieces, peer))
    _, environ = create(parsed, None, peer, server, config)
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    return Response(app_iter, status, headers)


def padded(size: int) -> bytes:
    """Valid JSON of exactly ``size`` bytes: a message followed by spaces (what the issue sent)."""
    head = json.dumps({"text": "!"}).encode()
    return head + b" " * (size - len(head))


@pytest.mark.parametrize("size", [MAX_CONTENT_LENGTH + 1, MAX_CONTENT_LENGTH + 50_000, 1024 * 1024])
def test_a_chunked_body_over_the_limit_is_413_never_cut_and_parsed(app: Flask, size: int) -> None:
    response = chunked(app, "/api/messages", padded(size))
    assert response.status_code == 413
    assert str(MAX_CONTENT_LENGTH) in json.loads(response.get_data())["detail"]


def test_the_same_body_with_a_content_length_is_413_too(client: FlaskClient) -> None:
    response = client.post(
        "/api/messages", data=padded(MAX_CONTENT_LENGTH + 1), content_type="application/json"
    )
    assert response.status_code == 413


@pytest.mark.parametrize("size", [MAX_CONTENT_LENGTH, 100])
def test_a_chunked_body_within_the_limit_is_read_whole(app: Flask, size: int) -> None:
    # Whole: the database is down here, so a body that parsed and validated meets 503.
    assert chunked(app, "/api/messages", padded(size)).status_code == 503


def test_a_chunked_body_that_is_cut_within_the_limit_is_400(app: Flask) -> None:
    assert chunked(app, "/api/messages", padded(100)[:-99]).status_code == 400


def test_the_form_meets_the_same_limit_with_the_error_page(app: Flask) -> None:
    body = b"text=hi&csrf_token=x&pad=" + b"a" * MAX_CONTENT_LENGTH
    response = chunked(app, "/messages", body, "application/x-www-form-urlencoded")
    assert response.status_code == 413 and response.mimetype == "text/html"


CHUNKED_HEAD = (
    b"POST /api/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
BODY = b'{"text": "hi"}'


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\n" + BODY + b"\r\n0\r\n\r\n",  # not hexadecimal
        b"-e\r\n" + BODY + b"\r\n0\r\n\r\n",  # a sign
        b"0xe\r\n" + BODY + b"\r\n0\r\n\r\n",  # a C prefix
        b" e\r\n" + BODY + b"\r\n0\r\n\r\n",  # a space before the size
        b"e;" + b"x" * 20_000 + b"\r\n" + BODY + b"\r\n0\r\n\r\n",  # an endless extension
        b"e\r\n" + BODY + b"XX0\r\n\r\n",  # no CRLF after the chunk
        b"e\r\n" + BODY + b"\r\n0\r\nX-Trailer: " + b"y" * 20_000 + b"\r\n\r\n",  # a huge trailer
        b"e\r\n" + BODY + b"\r\n0\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(500)) + b"\r\n",
        b"e\r\n" + BODY[:5],  # the connection ends inside a chunk
    ],
    ids=["letters", "sign", "0x", "space", "extension", "terminator", "trailer", "trailers", "cut"],
)
def test_a_malformed_chunked_body_is_400_not_an_unexpected_error(app: Flask, chunks: bytes) -> None:
    response = through_gunicorn(app, CHUNKED_HEAD + chunks)
    assert response.status_code == 400
    assert json.loads(response.get_data())["detail"] == "the chunked request body is malformed or ended early"


def test_a_well_formed_chunked_body_passes_gunicorn_and_the_app(app: Flask) -> None:
    # Extensions and trailers are allowed: the body reaches validation (503: no database here).
    chunks = b"e;name=value\r\n" + BODY + b"\r\n0\r\nX-Trailer: y\r\n\r\n"
    assert through_gunicorn(app, CHUNKED_HEAD + chunks).status_code == 503


def _head(path: str, *fields: bytes) -> bytes:
    return b"\r\n".join([b"POST %s HTTP/1.1" % path.encode(), b"Host: localhost", *fields, b"", b""])


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/messages", b"application/json", b'{"text": "Please do not publish"}'),
        ("/messages", b"application/x-www-form-urlencoded", b"csrf_token=x&text=Please+do+not+publish"),
    ],
    ids=["JSON", "form"],
)
def test_a_body_that_ends_before_its_declared_length_is_400(
    app: Flask, path: str, content_type: bytes, body: bytes
) -> None:
    # The connection ends 20 bytes early: what came is valid on its own, only the length tells.
    head = _head(path, b"Content-Type: " + content_type, b"Content-Length: %d" % (len(body) + 20))
    response = through_gunicorn(app, head + body)
    assert response.status_code == 400
    assert b"the request body ended before its declared length" in response.get_data()


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"deflate,chunked", b"compress, chunked"])
def test_a_transfer_coding_other_than_chunked_is_501(app: Flask, coding: bytes) -> None:
    # gunicorn takes these but hands the body on undecoded: the app would read gzip as text.
    head = _head("/api/messages", b"Content-Type: application/json", b"Transfer-Encoding: " + coding)
    response = through_gunicorn(app, head + b"e\r\n" + BODY + b"\r\n0\r\n\r\n")
    assert response.status_code == 501
    assert "chunked" in json.loads(response.get_data())["detail"]


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate"])
def test_a_compressed_body_is_415(client: FlaskClient, coding: str) -> None:
    response = client.post(
        "/api/messages", data=BODY, content_type="application/json", headers={"Content-Encoding": coding}
    )
    assert response.status_code == 415
    assert json.loads(response.get_data())["detail"].startswith("the body must not be compressed")


def test_a_body_on_any_route_meets_one_limit_however_it_comes(app: Flask, client: FlaskClient) -> None:
    # The probes read no body, yet a body over the limit is refused there as everywhere.
    over = padded(MAX_CONTENT_LENGTH + 1)
    assert chunked(app, "/healthz", over).status_code == 413
    assert client.open("/healthz", method="GET", data=over).status_code == 413
    assert client.open("/healthz", method="GET", data=padded(100)).status_code == 200
