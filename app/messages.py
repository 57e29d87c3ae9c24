"""Posting and reading messages: validation, the JSON API and the page's form."""

from __future__ import annotations

import json
import sys
import unicodedata
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request, url_for

from . import figlet, store
from .db import DatabaseFailed, DatabaseUnavailable, get_db
from .i18n import CATALOG, DEFAULT_LANGUAGE
from .numbers import MAX_ID, query_number
from .pages import render_index
from .schema import SchemaMismatch
from .security import CSRF_FIELD, cross_site_reason
from .visibility import has_visible

bp = Blueprint("messages", __name__)
# The most digits Python reads as an int (its guard against slow conversions, by default 4,300).
_MAX_INT_DIGITS = sys.get_int_max_str_digits()


class InvalidMessage(Exception):
    """Input that is refused; ``key`` names the reason in the i18n catalog (error_<key>)."""

    def __init__(self, key: str) -> None:
        super().__init__(CATALOG[DEFAULT_LANGUAGE][f"error_{key}"])
        self.key = key


def clean_text(raw: str) -> str:
    """Trim the text and check it; anything else about it is stored exactly as given.

    Control characters (line breaks, tabs, NUL, ...) are refused rather than removed, lone
    surrogates (possible through JSON escapes) are refused because they are not text, and text
    with nothing visible in it (only zero-width, filler or blank characters) is refused too.
    """
    # Only ordinary whitespace is trimmed before the check: str.strip() alone would also drop
    # control characters such as \x1c or \x85 at the edges, silently changing the text.
    core = raw.strip(" \t\n\r")
    for char in core:
        category = unicodedata.category(char)
        if category == "Cc":
            raise InvalidMessage("control")
        if category == "Cs":
            raise InvalidMessage("unicode")
    text = core.strip()  # other Unicode spaces at the edges (e.g. U+3000)
    if not text:
        raise InvalidMessage("empty")
    if not has_visible(text):
        raise InvalidMessage("invisible")
    if len(text) > store.MAX_TEXT:
        raise InvalidMessage("too_long")
    return text


def clean_font(raw: str | None) -> str:
    """Return the chosen font, the default when none was chosen."""
    font = raw or figlet.DEFAULT_FONT
    if font not in figlet.FONTS:
        raise InvalidMessage("font")
    return font


def store_message(text: str, font: str) -> store.Message:
    """Write a validated message; database errors propagate: unavailable 503, failed 500."""
    guard = current_app.extensions["apl.schema"]
    return get_db().run(lambda _session, cursor: store.insert(cursor, guard, text, font), idempotent=False)


@bp.get("/api/messages")
def api_list() -> Response:
    """List messages newest first; ``before`` pages back, ``limit`` caps the page (1-100)."""
    limit = query_number("limit", default=20, low=1, high=store.MAX_LIMIT)
    before = query_number("before", default=None, low=1, high=MAX_ID)
    guard = current_app.extensions["apl.schema"]
    page = get_db().run(lambda _session, cursor: store.fetch_page(cursor, guard, before=before, limit=limit))
    return jsonify(messages=[m.to_json() for m in page.messages], next_before=page.next_before)


@bp.post("/api/messages")
def api_create() -> tuple[Response, int, dict[str, str]]:
    """Store {"text": ..., "font": ...} and answer 201 with the row as stored."""
    if request.mimetype != "application/json":
        abort(415, description="send the message as application/json")
    if reason := cross_site_reason(request, None):
        abort(403, description=reason)
    body = _json_body()
    text, font = body.get("text"), body.get("font")
    if not isinstance(text, str) or not (font is None or isinstance(font, str)):
        abort(400, description='expected {"text": string, "font": optional string}')
    try:
        message = store_message(clean_text(text), clean_font(font))
    except InvalidMessage as exc:
        abort(400, description=str(exc))
    return jsonify(message.to_json()), 201, {"Location": url_for(".api_get", message_id=message.id)}


@bp.get("/api/messages/<id:message_id>")
def api_get(message_id: int) -> Response:
    """Return one message by id, or 404."""
    guard = current_app.extensions["apl.schema"]
    message = get_db().run(lambda _session, cursor: store.fetch_one(cursor, guard, message_id))
    if message is None:
        abort(404, description=f"no message with id {message_id}")
    return jsonify(message.to_json())


@bp.post("/messages")
def post_form() -> Any:
    """Store a message from the page's form, then show the page again (Post/Redirect/Get)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(415, description="the form posts application/x-www-form-urlencoded")
    form = _form_body()
    if reason := cross_site_reason(request, form.get(CSRF_FIELD, "")):
        abort(403, description=f"Cross-site form post refused: {reason}.")
    draft, font = form.get("text", ""), form.get("font")
    try:
        message = store_message(clean_text(draft), clean_font(font))
    except InvalidMessage as exc:
        return render_index(status=400, form_error=exc.key, draft=draft, font=font)
    except (DatabaseUnavailable, SchemaMismatch):
        # The page's own probe then shows the reason; the person keeps what they typed.
        return render_index(status=503, form_error="not_stored", draft=draft, font=font)
    except DatabaseFailed:  # logged with its detail by app/db.py; the person keeps what they typed
        return render_index(status=500, form_error="not_stored", draft=draft, font=font)
    lang = request.args.get("lang")
    return redirect(url_for("pages.index", lang=lang, _anchor=f"message-{message.id}"), code=303)


def _json_body() -> dict[str, Any]:
    """Decode the request body as strict UTF-8 JSON holding an object."""
    try:
        body = json.loads(
            request.get_data(cache=False).decode("utf-8"),
            parse_constant=_not_json,
            object_pairs_hook=_object_without_repeats,
            parse_int=_bounded_int,
        )
    except UnicodeDecodeError:
        abort(400, description="the body is not valid UTF-8")
    except _RefusedJSON as exc:
        abort(400, description=str(exc))
    except ValueError:
        abort(400, description="the body is not valid JSON")
    except RecursionError:
        # A few KiB of "[[[[..." nest deeper than the decoder's recursion limit: bad input, not a bug.
        abort(400, description="the body nests JSON too deeply")
    if not isinstance(body, dict):
        abort(400, description="the body must be a JSON object")
    return body


class _RefusedJSON(ValueError):
    """JSON that Python's decoder would take but that is not valid, or not unambiguous."""


def _not_json(name: str) -> Any:
    """Refuse NaN and Infinity: Python's decoder takes them, JSON (RFC 8259) has no such values."""
    raise _RefusedJSON(f"the body is not valid JSON ({name} is not a JSON value)")


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse an object that names a key twice: which value counts would be a guess."""
    found = dict(pairs)
    if len(found) != len(pairs):
        names = [name for name, _ in pairs]
        repeated = next(name for name in names if names.count(name) > 1)
        raise _RefusedJSON(f"the body names the key {json.dumps(repeated)} more than once")
    return found


def _bounded_int(digits: str) -> int:
    """Read a JSON integer; one too long for Python to read is refused as what it is, not as bad JSON."""
    if len(digits.lstrip("-")) > _MAX_INT_DIGITS:
        raise _RefusedJSON(f"the body holds a number of more than {_MAX_INT_DIGITS} digits")
    return int(digits)


def _form_body() -> dict[str, str]:
    """Parse the form strictly: Werkzeug would quietly rewrite bytes that are not UTF-8."""
    try:
        raw = request.get_data(cache=False).decode("utf-8")
        return dict(parse_qsl(raw, keep_blank_values=True, errors="strict", max_num_fields=10))
    except UnicodeDecodeError:
        abort(400, description="the form data is not valid UTF-8")
    except ValueError:
        abort(400, description="the form data is malformed")
