"""A fixed number of places, handed out in the order they were asked for.

``threading.Semaphore`` lets a newcomer take a place that was just freed before the waiter it
woke gets to run; under gevent, where hundreds of greenlets ask at once, some waiters then lose
that race again and again and wait for seconds while others are served in milliseconds. Here a
freed place goes straight to the longest waiter. Built on ``threading.Lock``, so it serves
threads and (patched by gevent) greenlets alike.
"""

from __future__ import annotations

import threading
from collections import deque


class FairSlots:
    """At most ``size`` holders at once; the others wait in line."""

    def __init__(self, size: int) -> None:
        self._guard = threading.Lock()
        self._free = size
        self._line: deque[threading.Lock] = deque()  # one held lock per waiter, released to hand over

    def acquire(self, timeout: float) -> bool:
        """Take a place, waiting at most ``timeout`` seconds for one; tell whether one was taken."""
        with self._guard:
            if self._free and not self._line:
                self._free -= 1
                return True
            ticket = threading.Lock()
            ticket.acquire()
            self._line.append(ticket)
        if ticket.acquire(timeout=timeout):
            return True  # release() handed its place to this waiter
        with self._guard:
            if ticket in self._line:
                self._line.remove(ticket)
                return False
        return True  # handed over just as the wait ran out: the place is ours

    def release(self) -> None:
        """Give the place back: to the longest waiter if there is one."""
        with self._guard:
            if self._line:
                self._line.popleft().release()
            else:
                self._free += 1
