"""A paced loop in a background thread, for as long as a ``with`` block runs."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Self


class Paced:
    """Calls ``tick`` every ``interval`` seconds in a daemon thread while the ``with`` block runs."""

    interval: float

    def tick(self) -> None:
        """One round of the background work."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            self.tick()
            # Paced, not waiting for a state: __exit__ wakes it at once.
            self._stop.wait(max(self.interval - (time.monotonic() - began), 0))
