"""One size limit for every request body, however it arrives (Content-Length or chunked).

werkzeug checks MAX_CONTENT_LENGTH against a Content-Length header and answers 413 before
reading anything. A chunked body has no length up front: gunicorn marks its input as
terminated (``wsgi.input_terminated``), and werkzeug then reads it through a LimitedStream
that stops at the limit and returns what it has, raising 413 only on a further read
(``LimitedStream.readall`` ends its loop once the limit is reached). So a chunked body over
the limit used to reach the views cut to its first 16 KiB, and valid JSON followed by spaces
was stored. Here a chunked body is read first, up to one byte past the limit: past it is a
413, anything else is handed on as a body of known length, which werkzeug's one check covers.
"""

from __future__ import annotations

import io

from flask import Flask, abort, current_app, request
from gunicorn.http.errors import ParseException


def _size_chunked_body() -> None:
    """Read a body of unknown length, refuse it past the limit, else give it a Content-Length."""
    environ = request.environ
    if environ.get("CONTENT_LENGTH") or not environ.get("HTTP_TRANSFER_ENCODING"):
        return
    # Only a stream the server ends itself can be read to its end without hanging; without that
    # mark werkzeug reads the body as empty: nothing unbounded, nothing cut.
    if not environ.get("wsgi.input_terminated"):
        return
    limit: int = current_app.config["MAX_CONTENT_LENGTH"]
    stream, body = environ["wsgi.input"], bytearray()
    try:
        while len(body) <= limit:
            chunk = stream.read(limit + 1 - len(body))
            if not chunk:
                break
            body += chunk
    # gunicorn decodes the chunks as they are read: a bad chunk size, extension, terminator or
    # trailer is a ParseException (not an OSError), a body cut short NoMoreData (an OSError).
    except (OSError, ValueError, ParseException):
        abort(400, description="the chunked request body is malformed or ended early")
    if len(body) > limit:
        abort(413)  # errors.py drains the rest from the original stream, then answers
    environ["wsgi.input"] = io.BytesIO(bytes(body))
    environ["CONTENT_LENGTH"] = str(len(body))
    del environ["HTTP_TRANSFER_ENCODING"]  # no longer chunked: werkzeug now trusts CONTENT_LENGTH


def init_app(app: Flask) -> None:
    """Register the hook (create_app registers the host check before it)."""
    app.before_request(_size_chunked_body)
