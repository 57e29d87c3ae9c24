"""The page's words in English, Korean and Japanese, and the choice among them."""

from __future__ import annotations

from flask import Request

LANGUAGES = ("en", "ko", "ja")
DEFAULT_LANGUAGE = "en"

# Korean and Japanese status lines are the book's own.
CATALOG: dict[str, dict[str, str]] = {
    "en": {
        "language": "English",
        "subtitle": "Does the app reach its database? This page asks again on every visit.",
        "connected": "Connected successfully.",
        "failed": "Connection failed.",
        "host": "Host reached",
        "host_tried": "Host tried",
        "server": "Server version",
        "round_trip": "Round trip",
        "reason": "Reason",
        "board": "Message board",
        "board_intro": "Messages are stored in MySQL and drawn with FIGlet.",
        "message": "Message",
        "placeholder": "Say hello (1 to 280 characters)",
        "font": "Font",
        "post": "Post",
        "empty_board": "No messages yet. Be the first!",
        "older": "Older messages",
        "newest": "Newest",
        "text_only": "FIGlet fonts draw ASCII only, so this message is shown as text.",
        "board_down": "The message board needs the database.",
        "schema": "The database is reachable, but its schema needs attention:",
        "error_not_stored": "The message was not stored.",
        "error_empty": "The message is empty.",
        "error_invisible": "The message has nothing visible: only spaces, zero-width or filler characters.",
        "error_too_long": "A message can be at most 280 characters.",
        "error_control": "Control characters such as line breaks or tabs are not allowed.",
        "error_unicode": "The text is not valid Unicode.",
        "error_font": "Choose one of the listed fonts.",
        "footer": "A Python port of the “PHP CONNECTION TEST” lesson.",
    },
    "ko": {
        "language": "한국어",
        "subtitle": "앱이 데이터베이스에 접속할 수 있을까요? 이 페이지는 열 때마다 다시 확인합니다.",
        "connected": "접속에 성공했습니다.",
        "failed": "접속에 실패했습니다.",
        "host": "접속한 호스트",
        "host_tried": "시도한 호스트",
        "server": "서버 버전",
        "round_trip": "왕복 시간",
        "reason": "원인",
        "board": "메시지 보드",
        "board_intro": "메시지는 MySQL에 저장되고 FIGlet 아스키 아트로 그려집니다.",
        "message": "메시지",
        "placeholder": "인사를 남겨 주세요 (1~280자)",
        "font": "글꼴",
        "post": "게시",
        "empty_board": "아직 메시지가 없습니다. 첫 메시지를 남겨 보세요!",
        "older": "이전 메시지",
        "newest": "최신",
        "text_only": "FIGlet 글꼴은 ASCII만 그릴 수 있어서 이 메시지는 글자 그대로 보여 줍니다.",
        "board_down": "메시지 보드는 데이터베이스가 있어야 동작합니다.",
        "schema": "데이터베이스에 접속했지만 스키마를 고쳐야 합니다:",
        "error_not_stored": "메시지를 저장하지 못했습니다.",
        "error_empty": "메시지가 비어 있습니다.",
        "error_invisible": "메시지에 보이는 글자가 없습니다. 공백, 폭 없는 문자, 채움 문자뿐입니다.",
        "error_too_long": "메시지는 280자까지 쓸 수 있습니다.",
        "error_control": "줄바꿈이나 탭 같은 제어 문자는 쓸 수 없습니다.",
        "error_unicode": "올바른 유니코드 텍스트가 아닙니다.",
        "error_font": "목록에 있는 글꼴을 골라 주세요.",
        "footer": "“PHP CONNECTION TEST” 실습을 파이썬으로 옮겼습니다.",
    },
    "ja": {
        "language": "日本語",
        "subtitle": "アプリはデータベースに接続できるでしょうか。このページは開くたびに確かめます。",
        "connected": "接続に成功しました。",
        "failed": "接続に失敗しました。",
        "host": "接続先ホスト",
        "host_tried": "接続を試みたホスト",
        "server": "サーバーのバージョン",
        "round_trip": "往復時間",
        "reason": "原因",
        "board": "メッセージボード",
        "board_intro": "メッセージは MySQL に保存され、FIGlet のアスキーアートで描かれます。",
        "message": "メッセージ",
        "placeholder": "ひとことどうぞ（1〜280文字）",
        "font": "フォント",
        "post": "投稿",
        "empty_board": "まだメッセージはありません。最初の一通をどうぞ！",
        "older": "古いメッセージ",
        "newest": "最新",
        "text_only": "FIGlet のフォントは ASCII しか描けないため、このメッセージは文字のまま表示します。",
        "board_down": "メッセージボードにはデータベースが必要です。",
        "schema": "データベースには接続できましたが、スキーマを直す必要があります：",
        "error_not_stored": "メッセージを保存できませんでした。",
        "error_empty": "メッセージが空です。",
        "error_invisible": "メッセージに見える文字がありません。空白、幅のない文字、埋め草文字だけです。",
        "error_too_long": "メッセージは280文字までです。",
        "error_control": "改行やタブなどの制御文字は使えません。",
        "error_unicode": "正しい Unicode のテキストではありません。",
        "error_font": "一覧にあるフォントを選んでください。",
        "footer": "「PHP CONNECTION TEST」の演習を Python に移植したものです。",
    },
}


def choose_language(request: Request) -> str:
    """Pick the page language: an explicit ?lang= first, then Accept-Language, then English."""
    explicit = request.args.get("lang", "")
    if explicit in LANGUAGES:
        return explicit
    if "HTTP_ACCEPT_LANGUAGE" not in request.environ:
        return DEFAULT_LANGUAGE  # no header to parse (scripts, probes, load tools): skip the parser
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def messages_for(language: str) -> dict[str, str]:
    """Return the catalog for one language (English for anything unknown)."""
    return CATALOG.get(language, CATALOG[DEFAULT_LANGUAGE])
