"""The page at /: the connection test, then the message board."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, make_response, render_template, request
from pymysql.cursors import Cursor

from . import figlet, store
from .db import DatabaseUnavailable, Session, get_db
from .i18n import LANGUAGES, choose_language, messages_for
from .numbers import MAX_ID, query_number
from .pagecache import CSRF_MARK, ROUND_TRIP_MARK, PageCache, PageKey, fill
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
    """Reach the database (one small query), and render the page anew only when the board changed."""
    before = _before_arg()
    guard = current_app.extensions["apl.schema"]
    db = get_db()
    started = time.perf_counter()
    try:
        session, rows = db.run(lambda s, c: (s, store.fetch_fingerprint(c, guard, before=before)))
    except DatabaseUnavailable as exc:
        report = ConnectionReport(target=db.settings.address, reason=exc.reason)
        return render_page(report, Board(), status=503, before=before)
    except SchemaMismatch:
        return render_index()  # rare, and the page then lists what is missing: no cache
    round_trip_ms = (time.perf_counter() - started) * 1000

    language, explicit_lang = choose_language(request), _explicit_lang()
    pages: PageCache = current_app.extensions["apl.pages"]
    html = pages.get(PageKey(language, explicit_lang, before, rows, session.peer, session.version))
    if html is None:
        try:
            session, (page, rows) = db.run(lambda s, c: (s, store.fetch_board(c, guard, before=before)))
        except (DatabaseUnavailable, SchemaMismatch):
            return render_index()
        report = ConnectionReport(target=db.settings.address, peer=session.peer, version=session.version)
        html = _html(report, Board(page=page), language, before=before, marks=True)
        # Kept under what this same read saw, never under the first read's rows: a write between
        # the two reads would otherwise file this page under a board it does not show.
        pages.put(PageKey(language, explicit_lang, before, rows, session.peer, session.version), html)
    return _respond(fill(html, round_trip_ms, csrf_token()), 200, language)


def render_index(
    *, status: int = 200, form_error: str | None = None, draft: str = "", font: str | None = None
) -> Response:
    """Render the page uncached; the form's view re-renders it with an error and the text it was given."""
    before = _before_arg()
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
    html = _html(report, board, language, before=before, form_error=form_error, draft=draft, font=font)
    return _respond(html, status, language)


def _html(
    report: ConnectionReport,
    board: Board,
    language: str,
    *,
    before: int | None,
    form_error: str | None = None,
    draft: str = "",
    font: str | None = None,
    marks: bool = False,
) -> str:
    """Render index.html; with ``marks``, the per-request values are left as marks for pagecache.fill."""
    if marks:
        round_trip, token = ROUND_TRIP_MARK, CSRF_MARK
    else:
        round_trip = f"{report.round_trip_ms:.1f}" if report.round_trip_ms is not None else ""
        token = csrf_token()
    return render_template(
        "index.html",
        t=messages_for(language),
        language=language,
        languages=[(code, messages_for(code)["language"]) for code in LANGUAGES],
        explicit_lang=_explicit_lang(),
        report=report,
        round_trip=round_trip,
        board=board,
        before=before,
        fonts=figlet.FONTS,
        chosen_font=font if font in figlet.FONTS else figlet.DEFAULT_FONT,
        form_error=form_error,
        draft=draft,
        max_text=store.MAX_TEXT,
        csrf_field=CSRF_FIELD,
        csrf_token=token,
    )


def _respond(html: str, status: int, language: str) -> Response:
    response = make_response(html, status)
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response


def _before_arg() -> int | None:
    """The board page asked for, read as the API reads it (400 for a value the API refuses)."""
    return query_number("before", default=None, low=1, high=MAX_ID)


def _explicit_lang() -> str | None:
    """The language chosen with ?lang=, if it is one the page speaks."""
    lang = request.args.get("lang")
    return lang if lang in LANGUAGES else None
