"""The page at / rendered once per state of the board, then reused with the per-request values put in.

Rendering the page cost more than the database round trip under load. What the page shows
depends on the language, the page of the board asked for, the rows on it and the server
reached; all of that is the cache key, read with one small query on every request, so the
page still reaches the database each time. Two values change on every request (the round
trip time and the visitor's form token): the cached HTML holds marks in their place.
"""

from __future__ import annotations

from dataclasses import dataclass

from .store import Fingerprint

# NUL never comes from stored text (control characters are refused), so a mark cannot collide.
ROUND_TRIP_MARK = "\x00round-trip\x00"
CSRF_MARK = "\x00csrf-token\x00"


@dataclass(frozen=True)
class PageKey:
    """Everything the cached part of the page depends on."""

    language: str
    explicit_lang: str | None
    before: int | None
    board: Fingerprint  # (id, checksum) of each row read: store.fetch_fingerprint or store.fetch_board
    peer: str
    version: str


class PageCache:
    """At most ``size`` rendered pages; pages for boards that changed are simply never asked for again."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._pages: dict[PageKey, str] = {}

    def get(self, key: PageKey) -> str | None:
        """Return the page rendered for ``key``, if any."""
        return self._pages.get(key)

    def put(self, key: PageKey, html: str) -> None:
        """Keep ``html`` for ``key``; a full cache starts over (cheaper than LRU bookkeeping per hit)."""
        if len(self._pages) >= self.size:
            self._pages.clear()
        self._pages[key] = html


def fill(html: str, round_trip_ms: float, token: str) -> str:
    """Put this request's values in place of the marks."""
    return html.replace(ROUND_TRIP_MARK, f"{round_trip_ms:.1f}").replace(CSRF_MARK, token)
