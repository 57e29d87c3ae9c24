"""Which characters count as visible: every script, emoji and mark does; blank and format characters don't."""

from __future__ import annotations

import unicodedata

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.i18n import CATALOG
from app.messages import clean_text
from app.security import CSRF_COOKIE
from app.visibility import has_visible, is_visible

pytestmark = pytest.mark.unit

# Characters that print nothing, as the issue lists them and Unicode's Default_Ignorable_Code_Point has them.
INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "invisible times": "\u2062",
    "BOM / zero-width no-break space": "\ufeff",
    "soft hyphen": "\u00ad",
    "left-to-right mark": "\u200e",
    "right-to-left override": "\u202e",
    "first strong isolate": "\u2068",
    "Arabic letter mark": "\u061c",
    "Hangul filler": "\u3164",
    "Hangul choseong filler": "\u115f",
    "Hangul jungseong filler": "\u1160",
    "halfwidth Hangul filler": "\uffa0",
    "braille pattern blank": "\u2800",
    "combining grapheme joiner": "\u034f",
    "variation selector 16": "\ufe0f",
    "variation selector 17": "\U000e0100",
    "Mongolian free variation selector": "\u180b",
    "Mongolian vowel separator": "\u180e",
    "Khmer inherent vowel": "\u17b4",
    "tag letter": "\U000e0061",
    "cancel tag": "\U000e007f",
    "shorthand format overlap": "\U0001bca0",
    "musical begin beam": "\U0001d173",
    "no-break space": "\u00a0",
    "ideographic space": "\u3000",
    "em space": "\u2003",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "noncharacter U+FDD0": "\ufdd0",
    "noncharacter U+FFFF": "\uffff",
    "noncharacter U+10FFFE": "\U0010fffe",
}

# Texts that must count as visible, from every corner the board is used from.
VISIBLE = {
    "Latin": "hello",
    "Korean": "안녕하세요",
    "Japanese": "こんにちは、ｶﾀｶﾅ",
    "Chinese": "你好",
    "Arabic": "مرحبا",
    "Hebrew": "שלום",
    "Devanagari": "नमस्ते",
    "Thai": "สวัสดี",
    "Tamil": "வணக்கம்",
    "Khmer": "សួស្តី",
    "Mongolian": "ᠮᠣᠩᠭᠣᠯ",
    "Ethiopic": "ሰላም",
    "Cherokee": "ᏣᎳᎩ",
    "Greek and Cyrillic": "Γειά Привет",
    "digits": "٣ 3 ३",
    "punctuation": "!?…",
    "ZWJ family": "👨\u200d👩\u200d👧\u200d👦",
    "flag": "🇰🇷",
    "tag flag (England)": "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "keycap": "1\ufe0f\u20e3",
    "skin tone": "👍🏽",
    "lone skin tone modifier": "🏽",
    "heart with VS16": "\u2764\ufe0f",
    "combining acute on a space": " \u0301",
    "lone combining mark": "\u0301",
    "enclosing keycap alone": "\u20e3",
    "decomposed e-acute": "e\u0301",
    "Hangul jamo": "\u1100\u1161",  # a syllable spelled with conjoining jamo: visible, unlike the fillers
    "Arabic number sign with digits": "\u0600\u0661\u0662",
    "private use": "\ue000",
    "unassigned in this Python (a newer emoji, say)": "\u0378",
    "next to a noncharacter": "\ufdcf\ufdf0\ufffd",
    "zero-width between letters": "a\u200bb",
}


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_blank_and_format_characters_are_invisible(char: str) -> None:
    assert not is_visible(char)


@pytest.mark.parametrize("text", VISIBLE.values(), ids=VISIBLE.keys())
def test_every_script_emoji_and_mark_is_visible_and_stored_as_given(text: str) -> None:
    assert has_visible(text)
    assert clean_text(f"x{text}x") == f"x{text}x"  # inside a message: unchanged
    if text.strip():
        assert clean_text(text) == text.strip()


# Assigned characters that print nothing although they are not spaces or format characters:
# Default_Ignorable marks and letters (Unicode's DerivedCoreProperties.txt) and the braille blank.
BLANK_NON_FORMAT = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


@settings(derandomize=True, database=None, max_examples=2000)
@given(st.characters(categories=["L", "N", "P", "S", "M", "Z", "Cf"]))
def test_every_letter_digit_mark_punctuation_and_symbol_shows_but_the_blank_ones(char: str) -> None:
    shows = unicodedata.category(char) not in ("Zs", "Zl", "Zp", "Cf") and char not in BLANK_NON_FORMAT
    assert is_visible(char) == shows


@settings(derandomize=True, database=None, max_examples=300)
@given(st.text(st.sampled_from(list(INVISIBLE.values())), min_size=1, max_size=20), st.text(max_size=20))
def test_one_visible_character_anywhere_is_enough(blank: str, other: str) -> None:
    assert not has_visible(blank)
    assert has_visible(blank + "a" + other) and has_visible(other + "가" + blank)


def test_the_api_and_the_form_refuse_invisible_text_alike(client: FlaskClient) -> None:
    blank = "\u200b\u3164\u2800"
    response = client.post("/api/messages", json={"text": blank})
    assert response.status_code == 400 and "nothing visible" in response.get_json()["detail"]

    client.set_cookie(CSRF_COOKIE, "T" * 43)
    form = client.post("/messages?lang=ko", data={"text": blank, "csrf_token": "T" * 43})
    page = form.get_data(as_text=True)
    # 503 rather than 400 only because the page's own probe finds the database down here.
    assert form.status_code in (400, 503) and CATALOG["ko"]["error_invisible"] in page
    assert f'value="{blank}"' in page  # what was typed is kept
