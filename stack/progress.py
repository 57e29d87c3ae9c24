"""Progress lines in the manner of Docker Compose: one line per resource and state.

On a terminal the block of lines is redrawn in place as states change; elsewhere (CI, a
pipe) every change is a new plain line, so logs read top to bottom.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

DONE = {
    "Created",
    "Restored",
    "Started",
    "Running",
    "Healthy",
    "Removed",
    "Up to date",
    "Built",
    "Pulled",
    "Stopped",
}
DONE |= {"Reloaded"}  # an app change synced by `watch`, and the app reloaded
DONE |= {"Tagged", "Pushed", "Layer already exists"}  # states of an image push
FAILED = {"Error", "Failed", "Unhealthy", "Exited"}


class Progress:
    """Report state changes of the stack's resources."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        # A terminal that says it is "dumb" (Emacs shells, some CI logs) cannot move the cursor:
        # it gets one plain line per change, as a pipe does.
        self.tty = self.stream.isatty() and os.environ.get("TERM") != "dumb" if tty is None else tty
        self._states: dict[str, str] = {}
        self._drawn = 0
        self._lock = threading.Lock()

    def update(self, kind: str, name: str, state: str) -> None:
        """Record that resource ``kind name`` is now in ``state``."""
        if self.quiet:
            return
        key = f"{kind} {name}"
        with self._lock:
            self._states[key] = state
            if self.tty:
                self._redraw()
            else:
                self.stream.write(self._line(key, state) + "\n")
            self.stream.flush()

    def echo(self, text: str) -> None:
        """Print free text (build output) below the block, which then starts anew."""
        if self.quiet:
            return
        with self._lock:
            self.stream.write(text.rstrip("\n") + "\n")
            self.stream.flush()
            self._states.clear()
            self._drawn = 0

    def settle(self) -> None:
        """Start a new block: the lines drawn so far stay as they are (`watch`, one event after another)."""
        with self._lock:
            self._states.clear()
            self._drawn = 0

    def _redraw(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F")
        for key, state in self._states.items():
            self.stream.write("\x1b[2K" + self._line(key, state) + "\n")
        self._drawn = len(self._states)

    def _line(self, key: str, state: str) -> str:
        word = state.partition(" (")[0]  # a state may carry a figure: "Reloaded (0.41 s)"
        mark = "✔" if word in DONE else "✘" if word in FAILED else "⠿"
        return f" {mark} {key:<32} {state}"
