"""The benchmark command still works: `python -m bench --quick` prints a full table, writes JSON
and leaves nothing of its own behind (checked by its run's names, whatever else the engine runs).

Only the shape is checked, never the figures: this machine is shared, and timings belong in
the benchmark's own report, not in a test's verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docker
import pytest

from bench import report
from stack.resources import listed_containers

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parents[2]


def _numbers(value: object) -> list[float]:
    """Every number in a JSON value, booleans left out."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    if isinstance(value, list):
        return [n for item in value for n in _numbers(item)]
    return []


def test_quick_run_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(output.read_text())

    goals = results["goals"]
    assert [row["what"] for row in goals] == [row.what for row in report.rows(results)]
    assert {row["result"] for row in goals} <= {"PASS", "SHORT", "info", "n/a"}
    assert goals and all(row["ours"] for row in goals)
    for row in goals:
        assert f"| {row['what']} |" in done.stdout

    home = results["pages"]["home"]["median"]
    figures = ("app_rps", "php_rps", "healthz_rps", "app_p99_ms", "php_p99_ms", "rps_ratio", "ceiling_ratio")
    assert all(home[key] > 0 for key in (*figures, "cpu_ratio"))
    for key in ("list", "post", "slow"):
        assert results["pages"][key]["requests"] > 0
    for kind in ("cold", "warm"):
        started = _numbers(results["start"][kind])
        assert started and all(value > 0 for value in started)
    assert results["edit"]["median"]["new_code_s"] > 0
    watch = results["watch"]
    assert watch["median"]["orchestrate"]["new_code_s"] > 0
    # Compose's watcher either brought every edit in or each miss is on record with its reason.
    compose_edits = len(watch["runs"]["compose"]) + len(watch["missed"]["compose"])
    assert compose_edits == len(watch["runs"]["orchestrate"])
    for reason in watch["missed"]["compose"]:
        assert reason.startswith(("compose: no sign of", "edit ")), reason
    assert watch["median"]["compose"] is None or watch["median"]["compose"]["new_code_s"] > 0
    memory = _numbers(results["footprint"]["memory_mib"])
    assert memory and all(value > 0 for value in memory)
    assert all(results["footprint"]["images"][name]["image_mb"] > 0 for name in ("app", "php"))
    assert leftovers(results["meta"]["names"]) == []


def leftovers(names: dict[str, str]) -> list[str]:
    """What of this run (its names begin with its own prefix) is still on the engine."""
    prefix, php_image = names["prefix"], names["php_image"]
    assert prefix.startswith("aplbench-") and len(prefix) > len("aplbench-")
    client = docker.from_env()
    try:
        found = [c.name for c in listed_containers(client) if c.name.startswith(prefix)]
        found += [n.name for n in client.networks.list() if n.name.startswith(prefix)]
        found += [v.name for v in client.volumes.list() if v.name.startswith(prefix)]
        found += [t for i in client.images.list() for t in i.tags if t.startswith(prefix) or t == php_image]
    finally:
        client.close()
    return found
