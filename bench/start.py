"""Stack start: `orchestrate.py up` against `docker compose up -d --wait` on the exported file.

Both start the same images with the same settings; Compose's file is what
`orchestrate.py export compose` renders from the same spec, with bench/compose.override.yaml
merged over it. Cold: images present, no containers, a fresh volume; the clock runs from
launching the command to the first 200 from the published port. Warm: everything up and
unchanged; the clock runs until the command returns and the page answers. Sides alternate,
and which goes first alternates by round.
"""

from __future__ import annotations

import logging
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from stack.resources import listed_containers
from stack.spec import LABEL_PROJECT, build_spec

from .stacks import COMPOSE_LABEL, REPO, BenchError, Project, Workspace, first_ok

log = logging.getLogger("bench")

OVERRIDE = REPO / "bench" / "compose.override.yaml"
READY_TIMEOUT = 180


@dataclass(frozen=True)
class ComposeProject:
    """A Compose project made from the exported file."""

    name: str
    files: tuple[Path, ...]
    port: int

    @property
    def url(self) -> str:
        """The app's address on this machine."""
        return f"http://127.0.0.1:{self.port}/"

    def compose(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `docker compose` on this project; raise BenchError if it fails."""
        files = [arg for path in self.files for arg in ("-f", str(path))]
        command = ["docker", "compose", "-p", self.name, *files, *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            what = f"`docker compose {' '.join(args)}`"
            raise BenchError(f"{what} failed (exit {done.returncode}):\n{done.stderr.strip()}")
        return done


def export_compose(ours: Project, theirs: Project) -> ComposeProject:
    """Write the Compose file for ``theirs``, using the app image ``ours`` built."""
    image = build_spec(ours.settings()).app.image
    path = theirs.root / f"compose.{theirs.name}.yaml"
    theirs.orchestrate("export", "compose", "--output", str(path), "--image", image)
    return ComposeProject(theirs.name, (path, OVERRIDE), theirs.port)


def _timed(start: Callable[[], object], url: str) -> float:
    """Seconds from calling ``start`` to the first 200 from ``url``."""
    began = time.monotonic()
    start()
    return first_ok(url, timeout=READY_TIMEOUT) - began


def _assert_cold(client: docker.DockerClient, name: str) -> None:
    """Fail unless project ``name`` has no containers and no volumes left."""
    for label in (LABEL_PROJECT, COMPOSE_LABEL):
        filters = {"label": f"{label}={name}"}
        if listed_containers(client, filters) or client.volumes.list(filters=filters):
            raise BenchError(f"project {name} still has containers or volumes: a start would not be cold")


def measure(workspace: Workspace, root: Path, *, rounds: int, warm_runs: int) -> dict[str, Any]:
    """Time cold and warm starts of both, interleaved; return every time and the medians."""
    ours = workspace.project("start", root)
    theirs_project = workspace.project("compose", root)
    log.info("stack start: building the app image once (not timed)")
    ours.orchestrate("up")
    ours.orchestrate("down", "--volumes")
    theirs = export_compose(ours, theirs_project)

    sides: dict[str, tuple[Callable[[], object], Callable[[], object], str]] = {
        "orchestrate": (
            lambda: ours.orchestrate("up"),
            lambda: ours.orchestrate("down", "--volumes"),
            ours.url + "/",
        ),
        "compose": (
            lambda: theirs.compose("up", "-d", "--wait", "--wait-timeout", str(READY_TIMEOUT)),
            lambda: theirs.compose("down", "--volumes"),
            theirs.url,
        ),
    }
    times: dict[str, dict[str, list[float]]] = {kind: {s: [] for s in sides} for kind in ("cold", "warm")}
    for number in range(rounds):
        order = list(sides) if number % 2 == 0 else list(reversed(sides))
        for side in order:
            _assert_cold(workspace.client, ours.name if side == "orchestrate" else theirs.name)
            up, _, url = sides[side]
            times["cold"][side].append(_timed(up, url))
            log.info("  round %d: %-11s cold %.2f s", number + 1, side, times["cold"][side][-1])
        for _ in range(warm_runs):
            for side in order:
                up, _, url = sides[side]
                times["warm"][side].append(_timed(up, url))
                log.info("  round %d: %-11s warm %.2f s", number + 1, side, times["warm"][side][-1])
        for side in order:
            sides[side][1]()
    return {
        "compose_files": [str(path.name) for path in theirs.files],
        "compose_version": _compose_version(),
        **{kind: _summary(times[kind]) for kind in ("cold", "warm")},
    }


def _summary(times: dict[str, list[float]]) -> dict[str, Any]:
    ratios = [ours / theirs for ours, theirs in zip(times["orchestrate"], times["compose"], strict=True)]
    return {
        "seconds": {side: [round(t, 3) for t in values] for side, values in times.items()},
        "median": {
            "orchestrate_s": statistics.median(times["orchestrate"]),
            "compose_s": statistics.median(times["compose"]),
            "ratio": statistics.median(ratios),
        },
    }


def _compose_version() -> str:
    done = subprocess.run(
        ["docker", "compose", "version", "--short"], capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout.strip()
