"""FIGlet art: drawn only when no character would be lost, cached, in every listed font."""

from __future__ import annotations

import string

import pyfiglet
import pytest

from app import figlet

pytestmark = pytest.mark.unit

PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))


def test_pyfiglet_really_drops_what_it_cannot_draw() -> None:
    # The reason for the non-ASCII rule: this is what naive use would show.
    assert pyfiglet.figlet_format("안녕 docker") == pyfiglet.figlet_format(" docker")


@pytest.mark.parametrize("text", ["안녕 docker", "こんにちは", "café", "emoji 🐳", "tab\there", "bell\a"])
def test_text_that_fonts_cannot_draw_gets_no_art(text: str) -> None:
    assert not figlet.is_drawable(text)
    assert figlet.render(text) is None


def test_ascii_text_is_drawn() -> None:
    art = figlet.render("Hi")
    assert art is not None
    assert art == art.strip("\n")
    assert len(art.splitlines()) > 1
    assert art.splitlines() and all(line == line.rstrip() for line in art.splitlines())


@pytest.mark.parametrize("font", figlet.FONTS)
def test_every_listed_font_draws_every_printable_ascii_character(font: str) -> None:
    blank = figlet.render("  ", font)
    for char in PRINTABLE_ASCII.replace(" ", ""):
        art = figlet.render(f" {char} ", font)
        assert art and art != blank, f"{font} cannot draw {char!r}"


def test_rendered_art_is_cached() -> None:
    figlet.render.cache_clear()
    figlet.render("cache me", "slant")
    figlet.render("cache me", "slant")
    assert figlet.render.cache_info().hits == 1


def test_unknown_font_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown font"):
        figlet.render("x", "comic-sans")


def test_only_printable_ascii_counts_as_drawable() -> None:
    assert figlet.is_drawable(string.ascii_letters + string.digits + string.punctuation + " ")
