"""A small OpenAPI 3.0 description of the JSON API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from . import figlet, store
from .numbers import MAX_ID

bp = Blueprint("openapi", __name__)


def _json(schema: str, description: str) -> dict[str, Any]:
    """Describe a JSON answer holding one named schema."""
    body = {"schema": {"$ref": f"#/components/schemas/{schema}"}}
    return {"description": description, "content": {"application/json": body}}


def _error(description: str) -> dict[str, Any]:
    """Describe an error answer: every one carries the same JSON shape."""
    return _json("Error", description)


def _integer(name: str, low: int, high: int, description: str) -> dict[str, Any]:
    """Describe an optional integer query parameter."""
    schema = {"type": "integer", "minimum": low, "maximum": high}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "apl message board", "version": "1"},
    "paths": {
        "/api/messages": {
            "get": {
                "summary": "List messages, newest first",
                "parameters": [
                    _integer("limit", 1, store.MAX_LIMIT, "page size (default 20)"),
                    _integer("before", 1, MAX_ID, "only messages with a smaller id"),
                ],
                "responses": {
                    "200": _json("MessagePage", "a page of messages"),
                    "400": _error("a parameter is out of range"),
                    "500": _error("the database failed the request (logged)"),
                    "503": _error("the database is unavailable"),
                },
            },
            "post": {
                "summary": "Store a message",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewMessage"}}},
                },
                "responses": {
                    "201": _json("Message", "the message as stored"),
                    "400": _error("invalid JSON or text"),
                    "403": _error("posted from another origin"),
                    "413": _error("body too large"),
                    "415": _error("not application/json"),
                    "500": _error("the database failed the request (logged)"),
                    "503": _error("the database is unavailable; a write cut off mid-way may be stored"),
                },
            },
        },
        "/api/messages/{message_id}": {
            "get": {
                "summary": "Read one message",
                "parameters": [
                    {
                        "name": "message_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    }
                ],
                "responses": {
                    "200": _json("Message", "the message"),
                    "404": _error("no such message"),
                    "500": _error("the database failed the request (logged)"),
                    "503": _error("the database is unavailable"),
                },
            }
        },
    },
    "components": {
        "schemas": {
            "NewMessage": {
                "type": "object",
                "required": ["text"],
                "properties": {
                    "text": {"type": "string", "minLength": 1, "maxLength": store.MAX_TEXT},
                    "font": {"type": "string", "enum": list(figlet.FONTS)},
                },
            },
            "Message": {
                "type": "object",
                "required": ["id", "text", "font", "created_at"],
                "properties": {
                    "id": {"type": "integer"},
                    "text": {"type": "string"},
                    "font": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                },
            },
            "MessagePage": {
                "type": "object",
                "required": ["messages", "next_before"],
                "properties": {
                    "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                    "next_before": {"type": "integer", "nullable": True},
                },
            },
            "Error": {
                "type": "object",
                "required": ["error", "status", "detail"],
                "properties": {
                    "error": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                },
            },
        }
    },
}


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """Serve the description."""
    return jsonify(SPEC)
