"""7. Sustained load: 60 s at 64 concurrent keep-alive connections, mixed reads and writes.

Zero 5xx, every acknowledged write stored, and the app container's memory flat: the mean of the
samples in the last 10 s within 10% of the mean in the first 10 s. Memory is the container's
usage minus its inactive page cache (what `docker stats` shows), sampled about once a second.

The same load runs for 20 s before the 60 s are measured. In those first seconds the app grows
from its idle size (~35 MiB) to its working size (~75 MiB): thread stacks, one DB connection per
worker thread, the allocator's arenas at peak concurrency, the FIGlet cache. Measured on this
machine it then stays level for minutes; comparing against the climb would only measure warm-up.

The load comes from Python threads on the same 2-core machine as the stack, so the latencies
include the client's own queueing: they bound the app's latency from above.
"""

from __future__ import annotations

import time

import pytest

from bench.containers import memory_bytes

from .support import LiveStack, Record, Traffic, lost_writes, percentile, summarise_5xx

pytestmark = pytest.mark.reliability

DURATION = 60.0
WARMUP = 20.0
CLIENTS = 64
WINDOW = 10.0  # the first and last seconds compared for memory
MEMORY_DRIFT = 0.10
MIX = {"list": 0.5, "read": 0.15, "page": 0.1, "write": 0.25}


def test_sustained_load(stack: LiveStack, figures: Record) -> None:
    app = stack.container("app")
    idle_mb = memory_bytes(app) / 2**20
    samples: list[tuple[float, int]] = []
    traffic = Traffic(stack.port, clients=CLIENTS, tag="load", mix=MIX, timeout=30)
    with traffic:
        time.sleep(WARMUP)  # part of the experiment: the load itself, before the measured minute
        warm_mb = memory_bytes(app) / 2**20
        start = time.monotonic()
        while (now := time.monotonic()) < start + DURATION:
            used = memory_bytes(app)
            samples.append(((now + time.monotonic()) / 2 - start, used))
        end = time.monotonic()

    measured = [e for e in traffic.exchanges if start <= e.started < end]
    p50, p99 = (percentile([e.elapsed for e in measured], share) * 1000 for share in (0.5, 0.99))
    errors = [e for e in measured if not e.ok]
    server_errors = [e for e in measured if e.status >= 500]
    writes = [e for e in traffic.exchanges if e.status == 201]
    lost = lost_writes(writes, stack.stored_messages())
    first = [used for at, used in samples if at < WINDOW]
    last = [used for at, used in samples if at >= DURATION - WINDOW]
    first_mb, last_mb = (sum(window) / len(window) / 2**20 if window else 0.0 for window in (first, last))
    drift = (last_mb - first_mb) / first_mb if first_mb else float("inf")
    figures(
        area="7 Sustained load",
        tried=f"{DURATION:g} s (after {WARMUP:g} s warm-up) at {CLIENTS} connections, 25% writes",
        often=f"{len(measured)} requests ({len(measured) / (end - start):.0f}/s), {len(errors)} errors, "
        f"{summarise_5xx(measured)}",
        lost=f"{len(lost)} of {len(writes)} acknowledged writes",
        figures=(
            f"latency p50 {p50:.0f} ms, p99 {p99:.0f} ms; memory first 10 s {first_mb:.1f} MiB, last 10 s"
            f" {last_mb:.1f} MiB ({drift:+.1%}; idle {idle_mb:.0f}, after warm-up {warm_mb:.0f})"
        ),
    )

    assert server_errors == [], f"{len(server_errors)} 5xx, e.g. {server_errors[:3]}"
    assert errors == [], f"{len(errors)} failed requests, e.g. {errors[:3]}"
    assert lost == [], f"acknowledged writes missing or altered: {lost[:3]}"
    assert len(first) >= 3 and len(last) >= 3, f"too few memory samples: {len(first)} and {len(last)}"
    assert abs(drift) <= MEMORY_DRIFT, f"memory moved {drift:+.1%} between the first and last {WINDOW:g} s"
