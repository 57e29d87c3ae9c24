"""Every error as a clean answer: JSON under /api and for the probes, a small page elsewhere.

No traceback ever reaches a client; unexpected errors are logged (without request bodies)
and answered 500. A database that cannot be reached is 503 with its reason; a statement the
database refused is 500 with a reason that names nothing inside (app/db.py logs the detail).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.routing import WebsocketMismatch

from .bodies import withholds_continue
from .db import DatabaseFailed, DatabaseUnavailable
from .schema import SchemaMismatch

# Read at most this much of an oversized body before answering 413: closing a socket with
# unread data makes the kernel send a reset, and the client may then never see the 413.
_DRAIN_LIMIT = 4 * 1024 * 1024
_JSON_PREFIXES = ("/api/", "/healthz", "/readyz")
DATABASE_FAILED = "the database could not complete the request; the error has been logged"


def _wants_json() -> bool:
    """Tell whether this request is answered in JSON."""
    return request.path == "/api" or request.path.startswith(_JSON_PREFIXES)


def _drain_body() -> None:
    """Discard what is left of an oversized request body, up to a limit."""
    headers, limit = request.headers, current_app.config["MAX_CONTENT_LENGTH"]
    if withholds_continue(headers.get("Expect"), headers.get("Content-Length"), limit):
        return  # the client was never invited to send it, and waits for this answer instead
    stream = request.environ.get("wsgi.input")
    remaining = min(request.content_length or _DRAIN_LIMIT, _DRAIN_LIMIT)
    while stream is not None and remaining > 0:
        chunk = stream.read(min(65536, remaining))
        if not chunk:
            break
        remaining -= len(chunk)


def _http_error(exc: HTTPException) -> Response:
    """Render a werkzeug HTTP error, keeping its headers (e.g. Allow on 405)."""
    name, detail, code = exc.name, exc.description or "", exc.code or 500
    if isinstance(exc, WebsocketMismatch):  # werkzeug's own words blame a "browser (or proxy)"
        detail = "this server does not speak WebSocket; send the request without Upgrade: websocket"
    if code == 413:
        _drain_body()
        detail = f"the request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    response = exc.get_response()
    if _wants_json():
        body = jsonify(error=name, status=code, detail=detail)
    else:
        body = current_app.make_response(render_template("error.html", code=code, name=name, detail=detail))
    body.status_code = code
    for header, value in response.headers.items():
        if header.lower() not in ("content-type", "content-length"):
            body.headers[header] = value
    return body


def _db_error(exc: DatabaseUnavailable | SchemaMismatch) -> Response:
    """Answer 503 with the reason, which is safe to show."""
    reason = exc.reason if isinstance(exc, DatabaseUnavailable) else f"database schema: {exc}"
    return _http_error(ServiceUnavailable(description=reason))


def _db_failed(_exc: DatabaseFailed) -> Response:
    """Answer 500: the detail (already logged by app/db.py) may name tables or values."""
    return _http_error(InternalServerError(description=DATABASE_FAILED))


def _unexpected(exc: Exception) -> Response:
    """Log a bug's traceback for the operator and answer a plain 500."""
    current_app.logger.error("unexpected error on %s %s", request.method, request.path, exc_info=exc)
    return _http_error(InternalServerError(description="an unexpected error occurred; it has been logged"))


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DatabaseUnavailable, _db_error)
    app.register_error_handler(SchemaMismatch, _db_error)
    app.register_error_handler(DatabaseFailed, _db_failed)
    app.register_error_handler(Exception, _unexpected)
