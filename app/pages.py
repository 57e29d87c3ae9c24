"""The page at /: the connection test, then the message board."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Blueprint, Response, current_app, make_response, render_template, request
from markupsafe import Markup
from pymysql.cursors import Cursor

from . import figlet, store
from .db import DatabaseUnavailable, Session, get_db
from .i18n import LANGUAGES, choose_language, messages_for
from .schema import SchemaMismatch
from .security import CSRF_FIELD, csrf_token

bp = Blueprint("pages", __name__)


@dataclass(frozen=True)
class ConnectionReport:
    """What the connection test found, as the page shows it."""

    target: str
    peer: str | None = None
    version: str | None = None
    round_trip_ms: float | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the database answered."""
        return self.reason is None


@dataclass(frozen=True)
class Board:
    """The message board's part of the page: a page of messages, or why there is none."""

    page: store.Page | None = None
    problems: tuple[str, ...] = ()


@bp.get("/")
def index() -> Response:
    """Reach the database (one round trip that also reads the board) and show what happened."""
    return render_index()


def render_index(
    *, status: int = 200, form_error: str | None = None, draft: str = "", font: str | None = None
) -> Response:
    """Render the page; the form's view re-renders it with an error and the text it was given."""
    raw_before = request.args.get("before", "")
    valid = raw_before.isascii() and raw_before.isdecimal() and len(raw_before) <= 20
    before = int(raw_before) if valid else None  # a mangled link shows the newest page
    guard = current_app.extensions["apl.schema"]

    def probe(session: Session, cursor: Cursor) -> tuple[Session, Board]:
        try:
            return session, Board(page=store.fetch_page(cursor, guard, before=before))
        except SchemaMismatch as exc:
            return session, Board(problems=tuple(exc.problems))

    db = get_db()
    started = time.perf_counter()
    try:
        session, board = db.run(probe)
        report = ConnectionReport(
            target=db.settings.address,
            peer=session.peer,
            version=session.version,
            round_trip_ms=(time.perf_counter() - started) * 1000,
        )
    except DatabaseUnavailable as exc:
        report, board, status = ConnectionReport(target=db.settings.address, reason=exc.reason), Board(), 503
    return render_page(
        report, board, status=status, before=before, form_error=form_error, draft=draft, font=font
    )


@lru_cache(maxsize=1024)
def message_item(message: store.Message, language: str) -> Markup:
    """Render one message's list item, once per message and language.

    A stored message never changes and the key is the whole row, so the HTML is reused safely;
    rendering ten items each time was most of the page's cost under load.
    """
    return Markup(render_template("message.html", message=message, t=messages_for(language)))


def render_page(
    report: ConnectionReport,
    board: Board,
    *,
    status: int = 200,
    before: int | None = None,
    form_error: str | None = None,
    draft: str = "",
    font: str | None = None,
) -> Response:
    """Turn what the probe found into the page, in the visitor's language."""
    language = choose_language(request)
    explicit_lang = request.args.get("lang") if request.args.get("lang") in LANGUAGES else None
    html = render_template(
        "index.html",
        t=messages_for(language),
        language=language,
        languages=[(code, messages_for(code)["language"]) for code in LANGUAGES],
        explicit_lang=explicit_lang,
        report=report,
        board=board,
        before=before,
        fonts=figlet.FONTS,
        chosen_font=font if font in figlet.FONTS else figlet.DEFAULT_FONT,
        form_error=form_error,
        draft=draft,
        max_text=store.MAX_TEXT,
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token(),
        message_item=message_item,
    )
    response = make_response(html, status)
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response
