"""Numbers in URLs (message ids, ``before``, ``limit``): one reader, so every route agrees.

Only ASCII digits count: Python's int() and werkzeug's ``<int:>`` converter also take other
scripts' digits ("٣" is 3), which would give one message many addresses. No sign, no leading
zero, no spaces: each number has one spelling.
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import BaseConverter, ValidationError

# The messages table's id is BIGINT UNSIGNED (db/001-schema.sql); ids and ``before`` share the range.
MAX_ID = 2**64 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_number(raw: str, low: int, high: int) -> int | None:
    """Return ``raw`` as an int in [low, high] when it is a plain ASCII number, else None."""
    # The length check comes first: int() refuses strings of thousands of digits with ValueError.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_DIGITS):
        return None
    if len(raw) > 1 and raw[0] == "0":  # one spelling per number: "03" is not 3
        return None
    value = int(raw)
    return value if low <= value <= high else None


def query_number(name: str, *, default: int | None, low: int, high: int) -> int | None:
    """Read query parameter ``name`` as a number in [low, high]; absent or empty means ``default``.

    Anything else is a 400 naming the parameter and its range, on the page and in the API alike.
    """
    raw = request.args.get(name, "")
    if raw == "":
        return default
    value = parse_number(raw, low, high)
    if value is None:
        abort(400, description=f"{name} must be a whole number from {low} to {high}")
    return value


class IdConverter(BaseConverter):
    """``<id:name>`` in a route: a message id, or the route does not match (404)."""

    regex = f"[0-9]{{1,{_MAX_DIGITS}}}"  # [0-9], not \d: \d matches every script's digits

    def to_python(self, value: str) -> int:
        number = parse_number(value, 1, MAX_ID)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


def init_app(app: Flask) -> None:
    """Register the ``id`` converter; call before any blueprint that uses it is registered."""
    app.url_map.converters["id"] = IdConverter
