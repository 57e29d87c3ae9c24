"""Waiting for a stack made by other means than `up` (docker commands, Compose) to answer."""

from __future__ import annotations

import requests

from stack.waiting import wait_for


def wait_until_connected(base_url: str, timeout: float = 180) -> str:
    """Poll /readyz until the app reaches its DB, then return the page's text."""

    def ready() -> bool:
        return requests.get(f"{base_url}/readyz", timeout=2).status_code == 200

    wait_for(ready, timeout=timeout, interval=0.5, transient=(requests.RequestException,))
    page = requests.get(f"{base_url}/", timeout=10)
    assert page.status_code == 200
    return page.text
