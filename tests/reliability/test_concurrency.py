"""3. Concurrency: 2,000 POSTs from 32 concurrent clients, each text unique and in mixed scripts.

Exactly 2,000 new rows appear, their ids are distinct, and each acknowledged text is stored
byte for byte (compared on the bytes MySQL holds, read back as HEX).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.store import MAX_TEXT

from .support import (
    Client,
    Exchange,
    LiveStack,
    Record,
    exchange,
    lost_writes,
    message_text,
    percentile,
    summarise_5xx,
)

pytestmark = pytest.mark.reliability

POSTS = 2000
CLIENTS = 32


def _text(number: int) -> str:
    """Unique text; every 100th is exactly the longest allowed, in three-byte characters."""
    text = message_text("concurrency", f"{number:04d}")
    return text.ljust(MAX_TEXT, "가") if number % 100 == 0 else text


def test_2000_posts_from_32_clients(stack: LiveStack, figures: Record) -> None:
    (last_id,) = stack.rows("SELECT COALESCE(MAX(id), 0) FROM messages")[0]
    texts = [_text(n) for n in range(POSTS)]
    assert len(set(texts)) == POSTS
    local = threading.local()
    clients: list[Client] = []

    def post(text: str) -> Exchange:
        if not hasattr(local, "client"):
            local.client = Client(stack.port, timeout=30)
            clients.append(local.client)
        return exchange(local.client, "write", "/api/messages", text)

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(post, texts))
    finally:
        for client in clients:
            client.close()
    elapsed = time.monotonic() - started

    new_rows = {i: t for i, t in stack.stored_messages().items() if i > int(last_id)}
    ids = [r.stored_id for r in results if r.status == 201]
    lost = lost_writes(results, new_rows)
    refused = [r for r in results if r.status != 201]
    p50, p99 = (percentile([r.elapsed for r in results], share) * 1000 for share in (0.5, 0.99))
    figures(
        area="3 Concurrency",
        tried=f"{POSTS} POSTs from {CLIENTS} concurrent clients, mixed scripts, some 280 chars",
        often=f"{POSTS} writes in {elapsed:.1f} s ({POSTS / elapsed:.0f}/s)",
        lost=f"{len(lost)} of {len(ids)} acknowledged writes",
        figures=(
            f"{len(new_rows)} new rows, {len(set(ids))} distinct ids, {len(refused)} not 201"
            f" ({summarise_5xx(results)});"
            f" latency p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        ),
    )

    assert refused == [], f"{len(refused)} POSTs not acknowledged, e.g. {refused[:3]}"
    assert len(new_rows) == POSTS
    assert len(set(ids)) == POSTS and set(ids) == set(new_rows)
    assert lost == [], f"acknowledged texts missing or altered: {lost[:3]}"
    assert sorted(new_rows.values()) == sorted(texts)
