"""Liveness (/healthz: the process answers) and readiness (/readyz: the database answers too)."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify
from pymysql.cursors import Cursor

from .db import DatabaseUnavailable, Session, get_db
from .schema import SchemaMismatch

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Answer without touching the database: Docker's HEALTHCHECK must not restart the app for a DB outage."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Make one database round trip and check the schema; 200 when both are fine, else 503."""
    guard = current_app.extensions["apl.schema"]

    def probe(session: Session, cursor: Cursor) -> Session:
        guard.require(cursor)
        cursor.execute("SELECT 1")
        cursor.fetchall()
        return session

    db = get_db()
    started = time.perf_counter()
    try:
        session = db.run(probe)
    except DatabaseUnavailable as exc:
        return jsonify(status="unavailable", database=db.settings.address, reason=exc.reason), 503
    except SchemaMismatch as exc:
        return jsonify(
            status="unavailable", database=db.settings.address, reason=str(exc), problems=exc.problems
        ), 503
    return jsonify(
        status="ready",
        database=db.settings.address,
        peer=session.peer,
        version=session.version,
        round_trip_ms=round((time.perf_counter() - started) * 1000, 3),
    ), 200
