"""Edit, rebuild, serve: change one line of the app, run `up`, and watch the port meanwhile.

The edit adds a field to /healthz's answer, so the new code is recognisable the moment it
answers. While `up` rebuilds the image and replaces the container, a prober sends a request
every 20 ms on a new connection, as new visitors would, and records every one that is refused,
cut off or answered with an error.
"""

from __future__ import annotations

import logging
import secrets
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from stack.waiting import wait_for

from .background import Paced
from .stacks import BenchError, Workspace

log = logging.getLogger("bench")

EDITED_FILE = Path("app/health.py")
ORIGINAL_LINE = 'return jsonify(status="ok")'
NEW_CODE_TIMEOUT = 120


@dataclass
class Probe:
    """One request of the prober: when it was sent, and how it went."""

    at: float
    failure: str | None  # None when it got a 200
    edit: str | None = None  # the edit marker in the answer, if any


@dataclass
class Prober(Paced):
    """Sends GET ``url`` every ``interval`` seconds in the background, each on a new connection."""

    url: str
    interval: float = 0.02
    probes: list[Probe] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def first_with(self, marker: str) -> float | None:
        """When the first answer carrying ``marker`` was sent, if one has come."""
        with self._lock:
            return next((p.at for p in self.probes if p.edit == marker), None)

    def tick(self) -> None:
        probe = Probe(time.monotonic(), None)
        try:
            response = requests.get(self.url, timeout=2, headers={"Connection": "close"})
            if response.status_code == 200:
                probe.edit = response.json().get("edit")
            else:
                probe.failure = f"HTTP {response.status_code}"
        except requests.ConnectionError as error:
            probe.failure = "refused" if "refused" in str(error).lower() else "connection cut"
        except requests.Timeout:
            probe.failure = "timeout"
        except ValueError:
            probe.failure = "not JSON"
        with self._lock:
            self.probes.append(probe)


def measure(workspace: Workspace, root: Path, *, runs: int) -> dict[str, Any]:
    """Edit the snapshot ``runs`` times, each followed by `up`; return the timings and failures."""
    project = workspace.project("edit", root)
    log.info("edit, rebuild, serve: starting project %s (not timed)", project.name)
    project.orchestrate("up")
    source = root / EDITED_FILE
    original = source.read_text()
    results = []
    for number in range(1, runs + 1):
        marker = f"bench-{number}-{secrets.token_hex(4)}"
        source.write_text(with_marker(original, marker))
        with Prober(f"{project.url}/healthz") as prober:
            began = time.monotonic()
            project.orchestrate("up")
            returned = time.monotonic()
            serving = wait_for(
                lambda marker=marker: prober.first_with(marker), timeout=NEW_CODE_TIMEOUT, interval=0.02
            )
        results.append(summary(prober.probes, began, returned, serving))
        log.info(
            "  edit %d: new code after %.2f s (`up` took %.2f s); %d of %d probes failed",
            number,
            results[-1]["new_code_s"],
            results[-1]["up_s"],
            results[-1]["failed"],
            results[-1]["probes"],
        )
    return {
        "edited_file": str(EDITED_FILE),
        "probe_interval_ms": 20,
        "runs": results,
        "median": {
            "new_code_s": statistics.median(r["new_code_s"] for r in results),
            "up_s": statistics.median(r["up_s"] for r in results),
            "failed": statistics.median(r["failed"] for r in results),
            "failing_window_s": statistics.median(r["failing_window_s"] for r in results),
        },
        "failed_total": sum(r["failed"] for r in results),
    }


def with_marker(original: str, marker: str) -> str:
    """The edited file's text, with /healthz also answering ``marker``."""
    if ORIGINAL_LINE not in original:
        raise BenchError(f"{EDITED_FILE} no longer contains {ORIGINAL_LINE!r}: update bench/edit.py's edit")
    return original.replace(ORIGINAL_LINE, f'return jsonify(status="ok", edit="{marker}")', 1)


def summary(probes: list[Probe], began: float, returned: float, serving: float) -> dict[str, Any]:
    """The probes sent from ``began`` (the edit) to ``serving`` (the first new answer), and their failures."""
    during = [p for p in probes if began <= p.at <= serving]
    failed = [p for p in during if p.failure]
    kinds: dict[str, int] = {}
    for probe in failed:
        kinds[probe.failure or ""] = kinds.get(probe.failure or "", 0) + 1
    return {
        "up_s": round(returned - began, 3),
        "new_code_s": round(serving - began, 3),
        "probes": len(during),
        "failed": len(failed),
        "failures": kinds,
        # From the first failed probe to the first one after it that worked.
        "failing_window_s": round(_failing_window(during), 3),
    }


def _failing_window(probes: list[Probe]) -> float:
    """Seconds from the first failed probe to the first good one after the last failed probe."""
    failed = [p.at for p in probes if p.failure]
    if not failed:
        return 0.0
    recovered = next((p.at for p in probes if p.at > failed[-1]), probes[-1].at)
    return recovered - failed[0]
