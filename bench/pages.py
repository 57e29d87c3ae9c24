"""Page throughput and latency: the app against the lesson's PHP page, both on one DB container.

Runs alternate A/B/A/B so that whatever else the machine does falls on both sides alike; each
pair gives a ratio and the report takes their median. Around every run the DB's own counters
show whether each request reached it: a query per request for the app, a connection per
request for the PHP page (which runs no query), and no failed connection.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from docker.models.containers import Container

from . import wrk
from .containers import cpu_seconds, db_status
from .slowclients import SlowClients

log = logging.getLogger("bench")

SEED_MESSAGES = 12  # more than one page of the board (10), so `/` shows a full page and a pager


@dataclass(frozen=True)
class Target:
    """One side of the comparison: where to send load, and which DB counter it moves per request."""

    name: str
    url: str
    container: Container
    db_counter: str  # "Questions" (the app queries) or "Connections" (the PHP page only connects)


@dataclass(frozen=True)
class Run:
    """One wrk run and what it cost."""

    target: str
    wrk: wrk.WrkResult
    cpu_us: float  # the target container's CPU time per request
    db_cpu_us: float  # the DB container's CPU time per request
    db_contacts: float  # DB queries or connections per request
    aborted_connects: int  # DB connections refused during the run

    @property
    def reached_db(self) -> bool:
        """Whether every request got a 2xx/3xx answer and reached the DB."""
        return self.db_contacts >= 1 and self.aborted_connects == 0 and self.wrk.failed == 0

    def to_json(self) -> dict[str, Any]:
        """The run as plain values."""
        return {
            "target": self.target,
            **self.wrk.to_json(),
            "cpu_us_per_request": round(self.cpu_us, 1),
            "db_cpu_us_per_request": round(self.db_cpu_us, 1),
            "db_contacts_per_request": round(self.db_contacts, 3),
            "aborted_connects": self.aborted_connects,
            "reached_db_every_request": self.reached_db,
        }


def measure(
    target: Target, db: Container, *, seconds: int, connections: int, post_json: str | None = None
) -> Run:
    """Load ``target`` once and read the CPU and DB counters around the run."""
    status, cpu, db_cpu = db_status(db), cpu_seconds(target.container), cpu_seconds(db)
    result = wrk.run(target.url, connections=connections, seconds=seconds, post_json=post_json)
    status_after, cpu_after, db_cpu_after = db_status(db), cpu_seconds(target.container), cpu_seconds(db)
    requests_done = max(result.requests, 1)
    # Reading the counters is itself one connection and one statement: not the target's.
    contacts = status_after[target.db_counter] - status[target.db_counter] - 1
    run = Run(
        target=target.name,
        wrk=result,
        cpu_us=(cpu_after - cpu) * 1e6 / requests_done,
        db_cpu_us=(db_cpu_after - db_cpu) * 1e6 / requests_done,
        db_contacts=contacts / requests_done,
        aborted_connects=status_after["Aborted_connects"] - status["Aborted_connects"],
    )
    log.info(
        "  %-4s %s: %.0f req/s, p99 %.1f ms, %.0f us CPU/request, %.2f DB contacts/request",
        target.name,
        target.url,
        result.rps,
        result.p99_ms,
        run.cpu_us,
        run.db_contacts,
    )
    return run


def compare(
    app: Target,
    php: Target,
    ceiling: Target,
    db: Container,
    *,
    pairs: int,
    seconds: int,
    connections: int,
    warmup: int,
) -> dict[str, Any]:
    """Interleave app and PHP runs, each pair followed by the app's /healthz (``ceiling``).

    Returns every run and the medians of the per-pair ratios. /healthz does nothing but answer,
    so its throughput is the server's own ceiling, measured under the same noise as the page.
    """
    log.info("page A/B: warm-up (%d s each, not counted), then %d pairs of %d s", warmup, pairs, seconds)
    for target in (app, php, ceiling):
        # Apache forks its children and the app opens its DB connections on first use.
        wrk.run(target.url, connections=connections, seconds=warmup)
    runs: list[tuple[Run, Run, Run]] = []
    for _ in range(pairs):
        a = measure(app, db, seconds=seconds, connections=connections)
        b = measure(php, db, seconds=seconds, connections=connections)
        c = measure(ceiling, db, seconds=seconds, connections=connections)
        runs.append((a, b, c))
    rps_ratios = [a.wrk.rps / b.wrk.rps for a, b, _ in runs]
    p99_ratios = [a.wrk.p99_ms / b.wrk.p99_ms for a, b, _ in runs]
    cpu_ratios = [(a.cpu_us + a.db_cpu_us) / (b.cpu_us + b.db_cpu_us) for a, b, _ in runs]
    ceiling_ratios = [a.wrk.rps / c.wrk.rps for a, _, c in runs]
    return {
        "connections": connections,
        "seconds": seconds,
        "pairs": [{"app": a.to_json(), "php": b.to_json(), "healthz": c.to_json()} for a, b, c in runs],
        "median": {
            "app_rps": statistics.median(a.wrk.rps for a, _, _ in runs),
            "php_rps": statistics.median(b.wrk.rps for _, b, _ in runs),
            "healthz_rps": statistics.median(c.wrk.rps for _, _, c in runs),
            "app_p99_ms": statistics.median(a.wrk.p99_ms for a, _, _ in runs),
            "php_p99_ms": statistics.median(b.wrk.p99_ms for _, b, _ in runs),
            "app_cpu_us_per_request": statistics.median(a.cpu_us for a, _, _ in runs),
            "php_cpu_us_per_request": statistics.median(b.cpu_us for _, b, _ in runs),
            "healthz_cpu_us_per_request": statistics.median(c.cpu_us for _, _, c in runs),
            "app_db_cpu_us_per_request": statistics.median(a.db_cpu_us for a, _, _ in runs),
            "php_db_cpu_us_per_request": statistics.median(b.db_cpu_us for _, b, _ in runs),
            "rps_ratio": statistics.median(rps_ratios),
            "p99_ratio": statistics.median(p99_ratios),
            "cpu_ratio": statistics.median(cpu_ratios),
            "ceiling_ratio": statistics.median(ceiling_ratios),
        },
        "reached_db_every_request": {
            "app": all(a.reached_db for a, _, _ in runs),
            "php": all(b.reached_db for _, b, _ in runs),
        },
    }


def under_slow_clients(target: Target, db: Container, *, slow: int, seconds: int, connections: int) -> Run:
    """Load ``target`` while ``slow`` slow connections (bench/slowclients.py) are held open."""
    port = urlsplit(target.url).port or 80
    log.info("page under %d slow connections: %d s", slow, seconds)
    with SlowClients(port, slow) as held:
        run = measure(target, db, seconds=seconds, connections=connections)
    log.info("  slow connections: %s", held.report.summary())
    return run


def seed(base_url: str, count: int = SEED_MESSAGES) -> None:
    """Post ``count`` messages so the board shows a full page, as on a board in use."""
    for number in range(1, count + 1):
        response = requests.post(
            f"{base_url}/api/messages", json={"text": f"bench message {number}"}, timeout=10
        )
        response.raise_for_status()
