"""Every request body read whole before any route runs: one size limit, and never a part taken for all.

werkzeug checks MAX_CONTENT_LENGTH against a Content-Length header, but then reads whatever the
stream gives. gunicorn's stream ends early, without an error, when a client closes (or half-closes)
before it has sent the length it declared, so a form or JSON body cut short was parsed and stored
as if whole. A chunked body has no length up front: gunicorn marks its input as terminated
(``wsgi.input_terminated``), and werkzeug's LimitedStream stops at the limit and returns what it
has, so a chunked body over the limit reached the views cut to its first 16 KiB. Here either kind
is read first, up to the limit: past it is a 413, short of its declared length a 400, anything
else is handed on as a body of known length. Bodies are small (16 KiB at most), so reading them
before the route costs nothing a view would not spend anyway.

Only bodies the app can read as sent are taken: a transfer coding other than chunked (``gzip,
chunked``), which gunicorn passes on undecoded, is 501, and a compressed body (Content-Encoding) 415.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Flask, abort, current_app, request
from gunicorn.http.errors import ParseException

ENDED_EARLY = "the request body ended before its declared length"
MALFORMED_CHUNKS = "the chunked request body is malformed or ended early"


def declared_length(content_length: str | None) -> int | None:
    """A Content-Length header's value as a number; None when absent or not plain ASCII digits."""
    if content_length and content_length.isascii() and content_length.isdigit():
        return int(content_length)
    return None


def withholds_continue(expect: str | None, content_length: str | None, limit: int) -> bool:
    """Whether a client waiting for "100 Continue" must not get it: the body it declares is over the limit.

    gunicorn invites the body before the app runs; gunicorn.conf.py asks this first, and the 413
    then goes out at once, without reading a body the client was told not to send.
    """
    declared = declared_length(content_length)
    return expect is not None and expect.lower() == "100-continue" and (declared or 0) > limit


def _read_body() -> None:
    """Read the body whole, or refuse it: too large, cut short, malformed or encoded."""
    environ = request.environ
    coding, length = environ.get("HTTP_TRANSFER_ENCODING"), environ.get("CONTENT_LENGTH")
    if not coding and not length:
        return  # no body: the usual GET, on the hot path
    if coding and coding.strip().lower() != "chunked":
        abort(501, description="the only transfer coding understood is chunked; send the body as it is")
    if environ.get("HTTP_CONTENT_ENCODING", "identity").strip().lower() != "identity":
        abort(415, description="the body must not be compressed (no Content-Encoding)")
    limit: int = current_app.config["MAX_CONTENT_LENGTH"]
    stream = environ["wsgi.input"]
    if coding:
        # Only a stream the server ends itself can be read to its end without hanging; without
        # that mark werkzeug reads the body as empty: nothing unbounded, nothing cut.
        if not environ.get("wsgi.input_terminated"):
            return
        body = _read_up_to(stream, limit + 1, MALFORMED_CHUNKS)
        if len(body) > limit:
            abort(413)  # errors.py drains the rest from the original stream, then answers
        del environ["HTTP_TRANSFER_ENCODING"]  # no longer chunked: werkzeug now trusts CONTENT_LENGTH
    else:
        declared = declared_length(length)
        if declared is None:
            abort(400, description="the Content-Length header is not a number")
        if declared > limit:
            abort(413)
        body = _read_up_to(stream, declared, ENDED_EARLY)
        if len(body) < declared:
            abort(400, description=ENDED_EARLY)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _read_up_to(stream: IO[bytes], size: int, reason: str) -> bytes:
    """Read ``size`` bytes, or fewer where the stream ends; a broken stream is a 400 with ``reason``."""
    body = bytearray()
    try:
        while len(body) < size:
            chunk = stream.read(size - len(body))
            if not chunk:
                break
            body += chunk
    # gunicorn decodes chunks as they are read: a bad chunk size, extension, terminator or trailer
    # is a ParseException (not an OSError), a connection that ends mid-body NoMoreData (an OSError).
    except (OSError, ValueError, ParseException):
        abort(400, description=reason)
    return bytes(body)


def init_app(app: Flask) -> None:
    """Register the hook (create_app registers the host check before it)."""
    app.before_request(_read_body)
