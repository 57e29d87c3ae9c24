"""Deadline-bounded polling: the only way this project waits for anything."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """The condition did not hold before the deadline."""


def wait_for(
    condition: Callable[[], T | None],
    timeout: float,
    interval: float = 0.1,
    transient: tuple[type[BaseException], ...] = (),
    what: str = "the condition",
) -> T:
    """Call ``condition`` until it returns something truthy, and return that.

    Exceptions listed in ``transient`` count as "not yet"; any other propagates at once, so a
    condition can abort the wait early (a container that exited will never become ready).
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except transient as error:
            last_error = error
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reason = f": last error: {last_error}" if last_error else ""
            raise WaitTimeout(f"gave up waiting for {what} after {timeout:g}s{reason}")
        time.sleep(min(interval, remaining))
