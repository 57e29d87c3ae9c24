"""Which characters show: a message must hold at least one, or it is an empty-looking post.

Invisible here: spaces and separators (Z*), format characters (Cf: zero-width space and
joiners, BOM, word joiner, direction marks and overrides, tags, soft hyphen), controls and
surrogates, and every other Default_Ignorable_Code_Point of Unicode (variation selectors,
the combining grapheme joiner, the Hangul fillers, ...), plus the braille blank, which is a
symbol that prints nothing, and the noncharacters, which are never assigned. Everything else
counts as visible: letters of every script, digits, punctuation, symbols and emoji, and combining
marks (an accent shows even on a space).
"""

from __future__ import annotations

import unicodedata

_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cf", "Cc", "Cs"})
# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt) outside those categories:
# marks, letters and unassigned code points that render as nothing; and the braille blank.
_BLANK_RANGES = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors (and the vowel separator, Cf)
    (0x2065, 0x2065),  # unassigned, among the invisible operators
    (0x2800, 0x2800),  # braille pattern blank: a symbol (So), not ignorable, yet it prints nothing
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors 1-16
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # unassigned, before the specials
)
_BLANK = frozenset(chr(code) for low, high in _BLANK_RANGES for code in range(low, high + 1))
# The whole tags block is ignorable: tags, variation selectors 17-256 and its unassigned rest.
_TAGS_FIRST, _TAGS_LAST = "\U000e0000", "\U000e0fff"


def is_visible(char: str) -> bool:
    """Tell whether one code point shows as something on screen."""
    if char in _BLANK or _TAGS_FIRST <= char <= _TAGS_LAST or _is_noncharacter(ord(char)):
        return False
    return unicodedata.category(char) not in _INVISIBLE_CATEGORIES


def _is_noncharacter(code: int) -> bool:
    """Unicode's 66 noncharacters (U+FDD0..U+FDEF, and the last two of every plane): never assigned,
    kept for programs' internal use, so no font draws them. Other unassigned code points stay
    visible: they may be characters newer than this Python's Unicode tables (new emoji).
    """
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def has_visible(text: str) -> bool:
    """Tell whether ``text`` holds at least one visible character (stops at the first)."""
    return any(is_visible(char) for char in text)
