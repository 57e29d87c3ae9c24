"""The page: the connection result in the visitor's language, and messages shown safely."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.pages import Board, ConnectionReport, render_page
from app.store import Message, Page

from .conftest import PASSWORD

pytestmark = pytest.mark.unit

FAILED = {"en": "Connection failed.", "ko": "접속에 실패했습니다.", "ja": "接続に失敗しました。"}
CONNECTED = {"en": "Connected successfully.", "ko": "접속에 성공했습니다.", "ja": "接続に成功しました。"}


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        (None, "en"),
        ("ko", "ko"),
        ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"),
        ("ja-JP", "ja"),
        ("en;q=0.5, ja;q=0.9", "ja"),
        ("fr-FR, de;q=0.8", "en"),
        ("*", "en"),
        ("garbage;;q=x", "en"),
    ],
)
def test_language_follows_accept_language(
    client: FlaskClient, accept_language: str | None, language: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.get("/", headers=headers)
    page = response.get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    assert FAILED[language] in page
    assert response.headers["Content-Language"] == language
    assert "Accept-Language" in response.headers["Vary"]


def test_lang_parameter_overrides_the_header(client: FlaskClient) -> None:
    page = client.get("/?lang=ja", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert FAILED["ja"] in page
    assert 'action="/messages?lang=ja"' in page  # the form keeps the choice


def test_a_mangled_before_parameter_is_a_400_page_naming_it(client: FlaskClient) -> None:
    response = client.get("/?before=" + "9" * 5000)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "before must be a whole number" in response.get_data(as_text=True)


def test_database_down_is_a_503_with_the_reason_and_nothing_secret(client: FlaskClient) -> None:
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Connection refused" in page
    assert "CONNECTION TEST" in page
    assert PASSWORD not in page
    assert "Traceback" not in page


def _render(app: Flask, messages: list[Message], lang: str | None = None) -> str:
    report = ConnectionReport(
        target="mysql:3306", peer="172.18.0.2:3306", version="5.7.44", round_trip_ms=0.4
    )
    with app.test_request_context(f"/?lang={lang}" if lang else "/"):
        response = render_page(report, Board(page=Page(messages=messages, next_before=None)))
    return response.get_data(as_text=True)


def _message(text: str, font: str = "standard", id_: int = 1) -> Message:
    return Message(id=id_, text=text, font=font, created_at=datetime(2026, 11, 28, 7, 30))


@pytest.mark.parametrize("lang", ["en", "ko", "ja"])
def test_success_shows_host_version_and_the_books_line(app: Flask, lang: str) -> None:
    page = _render(app, [], lang)
    assert CONNECTED[lang] in page
    assert "mysql:3306" in page and "172.18.0.2:3306" in page and "5.7.44" in page


def test_script_message_is_shown_as_text(app: Flask) -> None:
    page = _render(app, [_message("<script>alert('x')</script>")])
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_non_ascii_message_is_shown_whole_instead_of_as_art(app: Flask) -> None:
    page = _render(app, [_message("안녕 docker 🐳", id_=7)])
    card = page[page.index('id="message-7"') :]
    assert "안녕 docker 🐳" in card
    assert 'class="art"' not in card
    assert "FIGlet fonts draw ASCII only" in card


def test_ascii_message_gets_art_and_its_text(app: Flask) -> None:
    page = _render(app, [_message("Hi", font="slant", id_=3)])
    card = page[page.index('id="message-3"') :]
    assert '<pre class="art" aria-hidden="true">' in card
    assert '<p class="caption">Hi</p>' in card
    assert "2026-11-28 07:30 UTC" in card


def test_form_fields_are_stable(app: Flask) -> None:
    # The browser test and people's bookmarks rely on these names.
    page = _render(app, [])
    for fragment in (
        'id="message-form"',
        'action="/messages"',
        'id="message-text" name="text"',
        'id="message-font" name="font"',
        'name="csrf_token"',
        'id="message-submit" type="submit"',
    ):
        assert fragment in page


def test_page_cache_fills_marks_and_starts_over_when_full() -> None:
    from app.pagecache import CSRF_MARK, ROUND_TRIP_MARK, PageCache, PageKey, fill

    html = f"<dd>{ROUND_TRIP_MARK} ms</dd><input value='{CSRF_MARK}'>"
    assert fill(html, 1.25, "tok") == "<dd>1.2 ms</dd><input value='tok'>"
    cache = PageCache(size=2)
    keys = [PageKey("en", None, None, ((n, 0),), "peer", "v") for n in range(3)]
    for key in keys:
        cache.put(key, str(key.board))
    assert cache.get(keys[2]) == str(keys[2].board)
    assert cache.get(keys[0]) is None
