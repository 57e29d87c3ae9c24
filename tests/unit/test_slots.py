"""The DB pool's places: never more holders than places, and waiters served in arrival order."""

from __future__ import annotations

import threading

import pytest

from app.slots import FairSlots
from stack.waiting import wait_for

pytestmark = pytest.mark.unit


def test_a_free_place_is_taken_at_once_and_a_full_set_times_out() -> None:
    slots = FairSlots(2)
    assert slots.acquire(timeout=0) and slots.acquire(timeout=0)
    assert not slots.acquire(timeout=0.01)
    slots.release()
    assert slots.acquire(timeout=0)


def test_a_freed_place_goes_to_the_longest_waiter_not_to_a_newcomer() -> None:
    slots = FairSlots(1)
    assert slots.acquire(timeout=0)
    served: list[str] = []

    def wait(name: str) -> None:
        if slots.acquire(timeout=10):
            served.append(name)
            slots.release()

    first = threading.Thread(target=wait, args=("first",))
    first.start()
    wait_for(lambda: len(slots._line) == 1, timeout=5, interval=0.01, what="the first waiter to queue")
    second = threading.Thread(target=wait, args=("second",))
    second.start()
    wait_for(lambda: len(slots._line) == 2, timeout=5, interval=0.01, what="the second waiter to queue")
    slots.release()
    assert not slots.acquire(timeout=0)  # a newcomer does not jump the line while others wait
    first.join(timeout=10)
    second.join(timeout=10)
    assert served == ["first", "second"]
    assert slots.acquire(timeout=0)  # everything was given back
