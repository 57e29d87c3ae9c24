"""Edit under watch: `orchestrate.py watch` against `docker compose watch`, side by side.

Each side runs its own stack from its own snapshot, and its watcher stays up throughout. The
edit is bench/edit.py's (/healthz also answers a marker); the clock runs from saving the file
to the first answer carrying the marker, and a prober sends a request every 20 ms on a new
connection meanwhile. `orchestrate.py watch` copies the file in and reloads gunicorn; Compose
runs the `sync+restart` rule that `orchestrate.py export compose` writes: it copies the file in
and restarts the container. Edits alternate between the sides.
"""

from __future__ import annotations

import logging
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stack.invoke import Background, orchestrate_command
from stack.waiting import WaitTimeout, wait_for

from .edit import EDITED_FILE, Prober, summary, with_marker
from .stacks import BenchError, Workspace

log = logging.getLogger("bench")

START_TIMEOUT = 600  # Compose builds the image itself first (BuildKit keeps no cache of ours)
NEW_CODE_TIMEOUT = 60


@dataclass
class Side:
    """One watcher on one stack: how to tell that it is watching, and that it has handled an edit."""

    name: str
    root: Path
    url: str
    watcher: Background
    ready: str  # the line it prints once it watches
    handled: str  # the line it prints once it has brought an edit in

    def wait_until_watching(self) -> None:
        def watching() -> bool:
            if self.watcher.process.poll() is not None:
                raise BenchError(f"{self.name}'s watcher ended:\n" + "\n".join(self.watcher.lines[-20:]))
            return any(self.ready in line for line in self.watcher.lines)

        try:
            wait_for(watching, timeout=START_TIMEOUT, interval=0.2)
        except WaitTimeout:
            lines = "\n".join(self.watcher.lines[-20:])
            raise BenchError(f"{self.name}'s watcher did not start:\n{lines}") from None


def measure(workspace: Workspace, ours_root: Path, theirs_root: Path, *, runs: int) -> dict[str, Any]:
    """Edit each side's snapshot ``runs`` times, alternating; return the timings and failures."""
    ours = workspace.project("aplbench-watch", ours_root)
    theirs = workspace.project("aplbench-cwatch", theirs_root)
    compose_file = theirs_root / f"compose.{theirs.name}.yaml"
    theirs.orchestrate("export", "compose", "--output", str(compose_file))
    log.info("edit under watch: starting both stacks and watchers (not timed)")
    ours_watch = Background(orchestrate_command(*ours.selection, "watch", root=ours_root))
    compose = ["docker", "compose", "-p", theirs.name, "-f", str(compose_file), "watch"]
    sides = [
        Side("orchestrate", ours_root, ours.url, ours_watch, "watching ", "Reloaded"),
        Side("compose", theirs_root, theirs.url, Background(compose), "Watch enabled", "restarted"),
    ]
    try:
        for side in sides:
            side.wait_until_watching()
        results: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
        missed: dict[str, list[str]] = {side.name: [] for side in sides}
        for number in range(1, runs + 1):
            for side in sides if number % 2 else reversed(sides):
                if missed[side.name]:
                    # After a miss the watcher's state is unknown (a late line of that edit would
                    # pass for the next one's): it gets no more edits, each counted as missed.
                    missed[side.name].append(f"edit {number} not made: an earlier one was missed")
                    continue
                try:
                    run = _edit(side, f"watch-{number}-{secrets.token_hex(4)}")
                except EditMissed as miss:
                    # Ours missing an edit is a defect and stops the run; the reference missing
                    # one is a figure about the reference, so it is counted and shown.
                    if side.name == "orchestrate":
                        raise BenchError(str(miss)) from None
                    missed[side.name].append(str(miss))
                    log.warning("  edit %d, %-11s: MISSED: %s", number, side.name, miss)
                    continue
                results[side.name].append(run)
                log.info(
                    "  edit %d, %-11s: new code after %.2f s; %d of %d probes failed",
                    number,
                    side.name,
                    run["new_code_s"],
                    run["failed"],
                    run["probes"],
                )
    finally:
        for side in sides:
            side.watcher.interrupt()
    return {
        "edited_file": str(EDITED_FILE),
        "probe_interval_ms": 20,
        "compose_rule": "sync+restart",
        "runs": results,
        "median": {name: _medians(runs) for name, runs in results.items()},
        "failed_total": {name: sum(r["failed"] for r in runs) for name, runs in results.items()},
        "missed": missed,
    }


def _edit(side: Side, marker: str) -> dict[str, Any]:
    source = side.root / EDITED_FILE
    original = source.read_text()
    seen = len(side.watcher.lines)
    with Prober(f"{side.url}/healthz") as prober:
        began = time.monotonic()
        source.write_text(with_marker(_pristine(original), marker))
        serving = _wait(side, seen, "the new code to serve", lambda: prober.first_with(marker), 0.02)
    # Let the watcher finish with this edit before the next one (Compose says so after its restart).
    _wait(side, seen, f"the watcher to say {side.handled!r}", _said(side, seen), 0.05)
    return summary(prober.probes, began, serving, serving)


class EditMissed(Exception):
    """A watcher did not bring an edit in within NEW_CODE_TIMEOUT."""


def _wait(side: Side, seen: int, what: str, condition: Callable[[], Any], interval: float) -> Any:
    """wait_for; on a timeout, EditMissed naming the side, the step and what its watcher printed."""
    try:
        return wait_for(condition, timeout=NEW_CODE_TIMEOUT, interval=interval)
    except WaitTimeout:
        code = side.watcher.process.poll()
        ended = "" if code is None else f" (its watcher had ended, exit code {code})"
        printed = "; ".join(side.watcher.lines[seen:][-10:]) or "nothing"
        raise EditMissed(
            f"{side.name}: no sign of {what} {NEW_CODE_TIMEOUT} s after the edit{ended}; "
            f"its watcher printed since: {printed}"
        ) from None


def _said(side: Side, seen: int) -> Callable[[], str | None]:
    return lambda: side.watcher.said(side.handled, after=seen)


def _pristine(text: str) -> str:
    """The edited file without an earlier run's marker, so each edit starts from the original line."""
    start = text.find(', edit="')
    return text if start < 0 else text[:start] + text[text.index('")', start) + 1 :]


def _medians(runs: list[dict[str, Any]]) -> dict[str, float] | None:
    if not runs:
        return None
    return {
        "new_code_s": statistics.median(r["new_code_s"] for r in runs),
        "failed": statistics.median(r["failed"] for r in runs),
        "failing_window_s": statistics.median(r["failing_window_s"] for r in runs),
    }
