"""5. Bad input: each case gets its expected status and, under /api, a JSON error with a reason.

Text that is accepted must come back, from the API, the database's bytes and the page, exactly
as sent (the only change the app makes is trimming surrounding whitespace, which its 201 answer
shows). After every case the app must still be live and ready.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pytest
import requests
from markupsafe import escape

from app import MAX_CONTENT_LENGTH

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
    headers: Mapping[str, str] = field(default_factory=dict)
    chunked: bool = False  # sent with Transfer-Encoding: chunked, so no Content-Length

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


def chunked(name: str, status: int, body: bytes, stored: str | None = None) -> Case:
    """A POST whose body comes in chunks, with no Content-Length (the size is known only at the end)."""
    return Case(name, status, body, stored=stored, chunked=True)


def host(name: str, value: str, path: str, status: int, **headers: str) -> Case:
    """A request for the Host ``value``; ``status`` 400 when the app must not answer for it."""
    method, body = ("POST", json.dumps({"text": name}).encode()) if headers else ("GET", None)
    return Case(name, status, body, "application/json", method, path, headers={"Host": value, **headers})


def padded_json(size: int) -> bytes:
    """{"text": "padded"} followed by spaces up to ``size`` bytes: valid JSON at any size."""
    head = json.dumps({"text": "padded"}).encode()
    return head + b" " * (size - len(head))


# Each holds nothing that shows: zero-width, filler, blank and format characters only.
INVISIBLE = {
    "zero-width space and joiners": "\u200b\u200c\u200d",
    "BOM and word joiner": "\ufeff\u2060",
    "Hangul filler": "\u3164",
    "halfwidth Hangul filler": "\uffa0",
    "Hangul choseong and jungseong fillers": "\u115f\u1160",
    "braille blank": "\u2800\u2800\u2800",
    "lone direction override": "\u202e",
    "variation selectors": "\ufe0f\U000e0100",
    "tag characters": "\U000e0067\U000e0062\U000e007f",
    "soft hyphen and grapheme joiner": "\u00ad\u034f",
    "mixed blanks around a space": "\u200b \u3164 \u2800",
    "noncharacters": "\ufdd0\uffff\U0010ffff",
}


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
    *(text(f"invisible: {name}", value, 400) for name, value in INVISIBLE.items()),
    text("emoji ZWJ sequence, flag, keycap, skin tone", "👩\u200d💻 🇯🇵 #\ufe0f\u20e3 ✋🏿", 201),
    text("combining marks only", "\u0301\u0308", 201),
    text("Hangul jamo, not filler", "\u1100\u1161\u11a8", 201),
    chunked("chunked: JSON then 50,000 spaces", 413, padded_json(MAX_CONTENT_LENGTH + 50_000)),
    chunked("chunked: one byte over the limit", 413, padded_json(MAX_CONTENT_LENGTH + 1)),
    chunked("chunked: exactly the limit", 201, padded_json(MAX_CONTENT_LENGTH), stored="padded"),
    raw("Content-Length: one byte over the limit", 413, padded_json(MAX_CONTENT_LENGTH + 1)),
    host("Host: another name", "evil.example", "/healthz", 400),
    host(
        "Host: another name, its own origin",
        "evil.example:18080",
        "/api/messages",
        400,
        Origin="http://evil.example:18080",
    ),
    host("Host: a name ending in localhost", "localhost.evil.example", "/", 400),
    host("Host: a pod IP", "10.244.0.7:80", "/readyz", 400),
    host("Host: localhost on another port", "localhost:1", "/healthz", 200),
    host("Host: [::1]", "[::1]:8080", "/healthz", 200),
    raw("JSON with NaN", 400, b'{"text": "nan", "n": NaN}'),
    raw("JSON naming the text twice", 400, b'{"text": "first", "text": "second"}'),
    raw("JSON with a 5,000-digit number", 400, b'{"text": "big", "n": ' + b"9" * 5000 + b"}"),
    Case("compressed body", 415, b'{"text": "hi"}', headers={"Content-Encoding": "gzip"}),
    Case("Origin Python cannot split", 403, b'{"text": "hi"}', headers={"Origin": "http://["}),
    Case(
        "WebSocket upgrade",
        400,
        None,
        None,
        "GET",
        "/healthz",
        headers={"Connection": "Upgrade", "Upgrade": "websocket"},
    ),
    route("GET", "/api/messages%2F1", 404),  # a second address for message 1, by gunicorn's decoding
    route("GET", "/api/messages/%D9%A3", 404),  # Arabic-Indic 3
    route("GET", "/api/messages/%EF%BC%93", 404),  # fullwidth 3
    route("GET", "/api/messages/03", 404),
    route("GET", "/api/messages?before=%D9%A3", 400),
    route("GET", "/?before=0", 400),
    route("GET", "/?before=%D9%A3", 400),
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
    headers |= case.headers
    # A generator makes requests send the body chunked, in pieces of 4 KiB.
    body = (
        (case.body[i : i + 4096] for i in range(0, len(case.body or b""), 4096))
        if case.chunked
        else case.body
    )
    response = requests.request(
        case.method, stack.base_url + case.path, data=body, headers=headers, timeout=10
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
    if case.status == 400 and case.method == "POST" and "Host" in case.headers:
        # Refused before any view ran: nothing of it reached the database.
        assert stack.rows(
            f"SELECT COUNT(*) FROM messages WHERE text = UNHEX('{case.name.encode().hex()}')"
        ) == [["0"]]
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


# Chunked framing written by hand, each broken in one way: gunicorn decodes the chunks as the app
# reads the body, so its parse errors reach the app (app/bodies.py) and must be a 400, never a 500.
BODY = b'{"text": "framed"}'
BROKEN_FRAMING = {
    "chunk size not hexadecimal": b"zz\r\n" + BODY + b"\r\n0\r\n\r\n",
    "chunk size with a sign": b"-12\r\n" + BODY + b"\r\n0\r\n\r\n",
    "chunk size with 0x": b"0x12\r\n" + BODY + b"\r\n0\r\n\r\n",
    "chunk extension of 20,000 bytes": b"12;" + b"x" * 20_000 + b"\r\n" + BODY + b"\r\n0\r\n\r\n",
    "no CRLF after a chunk": b"12\r\n" + BODY + b"XX0\r\n\r\n",
    "trailer of 20,000 bytes": b"12\r\n" + BODY + b"\r\n0\r\nX-T: " + b"y" * 20_000 + b"\r\n\r\n",
    "500 trailers": b"12\r\n"
    + BODY
    + b"\r\n0\r\n"
    + b"".join(b"X-%d: y\r\n" % i for i in range(500))
    + b"\r\n",
}


@pytest.mark.parametrize("framing", BROKEN_FRAMING.values(), ids=BROKEN_FRAMING.keys())
def test_broken_chunked_framing(stack: LiveStack, tally: Counter[str], framing: bytes) -> None:
    tally["cases"] += 1
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    try:
        # A Transfer-Encoding header of our own: http.client then sends the body exactly as written.
        headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        connection.request("POST", "/api/messages", body=framing, headers=headers)
        response = connection.getresponse()
        status, error = response.status, json.loads(response.read())
    finally:
        connection.close()
    tally["5xx"] += status >= 500
    assert (status, error["detail"]) == (400, "the chunked request body is malformed or ended early")
    tally["refused"] += 1
    assert stack.rows("SELECT COUNT(*) FROM messages WHERE text = 'framed'") == [["0"]]
    for probe in ("/healthz", "/readyz"):
        assert requests.get(stack.base_url + probe, timeout=10).status_code == 200
    tally["healthy"] += 1


# Requests written byte by byte, each wrong in a way only the raw bytes can show; nothing of any
# may be stored, and each answer must come in the app's JSON error shape with its headers.
POST_HEAD = b"POST /api/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
RAW_REQUESTS = {
    # The connection half-closes 20 bytes short of the declared length: what came is valid JSON.
    "body shorter than its Content-Length": (
        POST_HEAD + b"Content-Length: %d\r\n\r\n" % (len(b'{"text": "cut"}') + 20) + b'{"text": "cut"}',
        400,
    ),
    "gzip, chunked": (
        POST_HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\nf\r\n" + b'{"text": "cut"}' + b"\r\n0\r\n\r\n",
        501,
    ),
    "absolute form naming another host": (
        b"GET http://evil.example/healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
        400,
    ),
    "method in lower case (gunicorn's own refusal)": (
        b"get /api/messages HTTP/1.1\r\nHost: localhost\r\n\r\n",
        400,
    ),
    "body over the limit, awaiting 100 Continue": (
        POST_HEAD + b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % (MAX_CONTENT_LENGTH + 1),
        413,
    ),
}


@pytest.mark.parametrize(("request_bytes", "status"), RAW_REQUESTS.values(), ids=RAW_REQUESTS.keys())
def test_raw_requests(stack: LiveStack, tally: Counter[str], request_bytes: bytes, status: int) -> None:
    tally["cases"] += 1
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as client:
        client.sendall(request_bytes)
        client.shutdown(socket.SHUT_WR)  # sends nothing more, and never the rest of a body
        answer = b""
        while data := client.recv(65536):
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    tally["5xx"] += head.startswith(b"HTTP/1.1 5") and status < 500
    assert head.startswith(b"HTTP/1.1 %d " % status), answer[:300]
    assert b"\r\ncontent-security-policy: default-src 'none'" in head.lower()
    assert json.loads(body)["status"] == status
    tally["refused"] += 1
    assert stack.rows("SELECT COUNT(*) FROM messages WHERE text = 'cut'") == [["0"]]
    for probe in ("/healthz", "/readyz"):
        assert requests.get(stack.base_url + probe, timeout=10).status_code == 200
    tally["healthy"] += 1
