"""The benchmark command still works: `python -m bench --quick` prints a full table and writes JSON.

Only the shape is checked, never the figures: this machine is shared, and timings belong in
the benchmark's own report, not in a test's verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report

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
    assert {row["result"] for row in goals} <= {"PASS", "SHORT", "info"}
    assert goals and all(row["ours"] for row in goals)
    for row in goals:
        assert f"| {row['what']} |" in done.stdout

    home = results["pages"]["home"]["median"]
    assert all(home[key] > 0 for key in ("app_rps", "php_rps", "app_p99_ms", "php_p99_ms", "rps_ratio"))
    for key in ("list", "post"):
        assert results["pages"][key]["requests"] > 0
    for kind in ("cold", "warm"):
        started = _numbers(results["start"][kind])
        assert started and all(value > 0 for value in started)
    assert results["edit"]["median"]["new_code_s"] > 0
    memory = _numbers(results["footprint"]["memory_mib"])
    assert memory and all(value > 0 for value in memory)
    assert all(results["footprint"]["images"][name]["image_mb"] > 0 for name in ("app", "php"))


def test_nothing_is_left_behind() -> None:
    import docker

    client = docker.from_env()
    try:
        leftovers = [c.name for c in client.containers.list(all=True) if c.name.startswith("aplbench")]
        leftovers += [n.name for n in client.networks.list() if n.name.startswith("aplbench")]
        leftovers += [v.name for v in client.volumes.list() if v.name.startswith("aplbench")]
        leftovers += [t for i in client.images.list() for t in i.tags if t.startswith("aplbench")]
    finally:
        client.close()
    assert leftovers == []
