"""5. Bad input: each case gets its expected status and, under /api, a JSON error with a reason.

Text that is accepted must come back, from the API, the database's bytes and the page, exactly
as sent (the only change the app makes is trimming surrounding whitespace, which its 201 answer
shows). After every case the app must still be live and ready.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from markupsafe import escape

from .support import LiveStack, Record

pytestmark = pytest.mark.reliability


@dataclass(frozen=True)
class Case:
    """One request and what the app must answer."""

    name: str
    status: int
    body: bytes | None = None
    content_type: str | None = "application/json"
    method: str = "POST"
    path: str = "/api/messages"
    stored: str | None = None  # for 201: the text the database must hold

    @property
    def answers_json(self) -> bool:
        return self.path.startswith(("/api/", "/healthz", "/readyz"))


def text(name: str, value: str, status: int, stored: str | None = None) -> Case:
    """A POST of {"text": value}, sent as UTF-8 (a lone surrogate only fits as a JSON escape)."""
    try:
        body = json.dumps({"text": value}, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        body = json.dumps({"text": value}).encode()
    return Case(
        name, status, body, stored=(stored if stored is not None else value) if status == 201 else None
    )


def raw(name: str, status: int, body: bytes | None, content_type: str | None = "application/json") -> Case:
    return Case(name, status, body, content_type)


def route(method: str, path: str, status: int) -> Case:
    return Case(f"{method} {path}", status, None, None, method, path)


CASES = [
    text("empty", "", 400),
    text("whitespace only", " \t\u3000\u00a0 ", 400),
    text("281 characters", "a" * 281, 400),
    text("281 Korean characters", "가" * 281, 400),
    text("280 Korean characters", "가" * 280, 201),
    raw("1 MB body", 413, json.dumps({"text": "x" * 1024 * 1024}).encode()),
    raw("invalid JSON", 400, b'{"text": "unterminated'),
    raw("JSON array", 400, b'["text"]'),
    raw("text not a string", 400, b'{"text": 42}'),
    raw("JSON nested 5000 deep", 400, b"[" * 5000 + b"]" * 5000),
    raw("unknown font", 400, b'{"text": "hi", "font": "comic-sans"}'),
    raw("text/plain", 415, b'{"text": "hi"}', "text/plain"),
    raw("form-encoded", 415, b"text=hi", "application/x-www-form-urlencoded"),
    raw("no content type", 415, b'{"text": "hi"}', None),
    raw("non-UTF-8 bytes", 400, b'{"text": "caf\xe9"}'),
    text("lone surrogate", "\ud800", 400),
    text("<script> payload", "<script>alert(document.cookie)</script>", 201),
    text("attribute payload", '"><img src=x onerror=alert(1)>', 201),
    text("SQL quote", "'; DROP TABLE messages; --", 201),
    text("SQL meta-characters", "\" OR 1=1; -- \\' \\\\ % _ `x` /* */", 201),
    text("Korean", "안녕하세요, 도커와 쿠버네티스!", 201),
    text("emoji", "🐳 👍🏽 👨‍👩‍👧‍👦 🇰🇷", 201),
    text("right-to-left", "שלום עולם · مرحبا بالعالم", 201),
    text("bidi override", "abc \u202edcba\u202c def", 201),
    text("zero-width", "zero\u200bwidth\u200cnon\u200djoiner\u2060\ufeffend", 201),
    text("combining marks kept apart", "e\u0301 \u00e9", 201),
    text("surrounding spaces", "  padded  ", 201, stored="padded"),
    text("NUL", "a\x00b", 400),
    text("newline", "a\nb", 400),
    text("terminal escape", "\x1b[31mred", 400),
    text("DEL", "a\x7fb", 400),
    text("C1 control", "a\x85b", 400),
    route("GET", "/api/nothing-here", 404),
    route("GET", "/api/messages/abc", 404),
    route("GET", "/api/messages/0", 404),
    route("GET", "/nothing-here", 404),
    route("GET", "/api/messages?limit=0", 400),
    route("GET", "/api/messages?limit=abc", 400),
    route("GET", "/api/messages?before=-1", 400),
    route("DELETE", "/api/messages", 405),
    route("PUT", "/api/messages/1", 405),
    route("POST", "/healthz", 405),
    route("PATCH", "/", 405),
]


@pytest.fixture(scope="module")
def tally(module_figures: Record) -> Iterator[Counter[str]]:
    """Counts across the cases, summed up in one line of the figures table."""
    counts: Counter[str] = Counter()
    yield counts
    module_figures(
        area="5 Bad input",
        tried="malformed, oversized, hostile and multilingual input; unknown routes and methods",
        often=f"{counts['cases']} cases, each followed by /healthz and /readyz",
        lost=f"{counts['accepted'] - counts['faithful']} of {counts['accepted']} accepted texts altered",
        figures=(
            f"{counts['refused']} refused with a JSON reason; {counts['5xx']} answered 5xx;"
            f" {counts['healthy']} health checks passed"
        ),
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(stack: LiveStack, tally: Counter[str], case: Case) -> None:
    tally["cases"] += 1
    headers = {"Content-Type": case.content_type} if case.content_type else {}
    response = requests.request(
        case.method, stack.base_url + case.path, data=case.body, headers=headers, timeout=10
    )
    tally["5xx"] += response.status_code >= 500
    assert response.status_code == case.status, response.text[:300]
    if case.status >= 400 and case.answers_json:
        assert response.headers["Content-Type"] == "application/json"
        error = response.json()
        assert error["status"] == case.status and error["error"] and error["detail"]
        tally["refused"] += 1
    elif case.status >= 400:
        assert response.headers["Content-Type"].startswith("text/html")
        tally["refused"] += 1
    if case.stored is not None:
        tally["accepted"] += 1
        _assert_faithful(stack, response.json(), case.stored)
        tally["faithful"] += 1
    for probe in ("/healthz", "/readyz"):
        assert requests.get(stack.base_url + probe, timeout=10).status_code == 200
    tally["healthy"] += 1


def _assert_faithful(stack: LiveStack, created: dict, expected: str) -> None:
    """The API, the database's bytes and the page all hold ``expected``, unaltered."""
    assert created["text"] == expected
    message_id = int(created["id"])
    assert requests.get(f"{stack.base_url}/api/messages/{message_id}", timeout=10).json()["text"] == expected
    ((hexed,),) = stack.rows(f"SELECT HEX(text) FROM messages WHERE id = {message_id}")
    assert bytes.fromhex(hexed) == expected.encode("utf-8")
    page = requests.get(f"{stack.base_url}/?before={message_id + 1}", timeout=10)
    assert f'id="message-{message_id}"' in page.text
    # Shown as text: escaped by the template, and no script could run under this policy anyway.
    assert str(escape(expected)) in page.text
    assert "<script>" not in page.text and "<img src=x" not in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
