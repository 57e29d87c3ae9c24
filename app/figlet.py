"""Draw messages as FIGlet ASCII art, and know when a message cannot be drawn faithfully."""

from __future__ import annotations

from functools import lru_cache

import pyfiglet

# A short list of fonts that each draw every printable ASCII character (a unit test checks).
FONTS = ("standard", "slant", "small", "big", "doom", "shadow")
DEFAULT_FONT = "standard"
# The art wraps at this many columns, like the figlet command in an 80-column terminal.
WIDTH = 80


def is_drawable(text: str) -> bool:
    """Tell whether every character is printable ASCII, the only range FIGlet fonts draw.

    pyfiglet silently drops anything else ("안녕 docker" comes out as "docker"), so a message
    that fails this test is shown as text instead of as art.
    """
    return text.isascii() and text.isprintable()


@lru_cache(maxsize=len(FONTS))
def _figlet(font: str) -> pyfiglet.Figlet:
    """Load a font once per process: parsing a font file costs milliseconds."""
    return pyfiglet.Figlet(font=font, width=WIDTH)


@lru_cache(maxsize=2048)
def render(text: str, font: str = DEFAULT_FONT) -> str | None:
    """Return the message as ASCII art, or None when drawing it would lose characters."""
    if font not in FONTS:
        raise ValueError(f"unknown font {font!r}")
    if not is_drawable(text):
        return None
    # Trailing spaces and blank rows only pad the art; the page's own spacing does that job.
    lines = [line.rstrip() for line in _figlet(font).renderText(text).splitlines()]
    return "\n".join(lines).strip("\n")
