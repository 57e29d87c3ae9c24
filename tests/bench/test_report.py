"""The watch rows of the bench table when the reference's watcher misses edits."""

from __future__ import annotations

from typing import Any

import pytest

from bench import report

pytestmark = pytest.mark.bench


def _run(seconds: float, failed: int) -> dict[str, Any]:
    return {"new_code_s": seconds, "probes": 40, "failed": failed, "failing_window_s": 0.4 if failed else 0.0}


def _watch(compose_runs: list[dict[str, Any]], missed: int) -> dict[str, Any]:
    ours = [_run(0.5, 0), _run(0.6, 0)]
    medians = {"orchestrate": {"new_code_s": 0.55, "failed": 0, "failing_window_s": 0.0}}
    medians["compose"] = (
        {"new_code_s": compose_runs[0]["new_code_s"], "failed": 20, "failing_window_s": 0.4}
        if compose_runs
        else None
    )
    return {
        "compose_rule": "sync+restart",
        "runs": {"orchestrate": ours, "compose": compose_runs},
        "median": medians,
        "failed_total": {"orchestrate": 0, "compose": sum(r["failed"] for r in compose_runs)},
        "missed": {"orchestrate": [], "compose": ["compose: no sign of the new code"] * missed},
    }


def test_a_missed_edit_is_counted_beside_compose_time() -> None:
    timing, failures = report._watch_rows(_watch([_run(1.8, 20)], missed=1))
    assert timing.reference == "Compose watch (sync+restart) 1.80 s; missed 1 of 2 edits"
    assert timing.ratio == "0.31x"
    assert timing.result == "PASS"
    assert failures.ours == "0 of 80"
    assert failures.reference == "Compose 20 of 40, window 400 ms"


def test_compose_missing_every_edit_leaves_no_ratio() -> None:
    timing, failures = report._watch_rows(_watch([], missed=2))
    assert timing.reference == "Compose watch missed all 2 edits"
    assert (timing.ratio, timing.result) == ("", "n/a")
    assert timing.ours == "0.55 s"
    assert failures.reference == "Compose: no edit came in"


def test_results_from_before_misses_were_counted_read_as_none_missed() -> None:
    watch = _watch([_run(1.8, 20), _run(1.6, 20)], missed=0)
    del watch["missed"]
    timing, _ = report._watch_rows(watch)
    assert timing.reference == "Compose watch (sync+restart) 1.80 s"
