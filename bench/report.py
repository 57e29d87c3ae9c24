"""The results as a table of goals (measured, reference, ratio, goal, PASS or SHORT) and as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Goals from the issue: this project's figure over the reference's, measured side by side.
GOAL_RPS_RATIO = 1.5
GOAL_P99_RATIO = 1 / 3
GOAL_CPU_RATIO = 1.0  # CPU time per request, page container + DB container
GOAL_CEILING_RATIO = 0.8  # `GET /` over the server's own /healthz: the app's work costs at most a fifth
GOAL_SLOW_P99_MS = 250.0  # ordinary requests while slow clients are held
GOAL_COLD_RATIO = 0.65
GOAL_WARM_RATIO = 0.25
GOAL_NEW_CODE_S = 5.0
GOAL_WATCH_S = 1.0  # an edit under `watch`, to new code serving (median)

TABLE_START = "<!-- bench-table:start -->"
TABLE_END = "<!-- bench-table:end -->"


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    what: str
    ours: str
    reference: str
    ratio: str
    goal: str
    result: str  # PASS, SHORT, or "info" for figures without a goal


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "SHORT"


def rows(results: dict[str, Any]) -> list[Row]:
    """The table's rows, in the issue's order."""
    out: list[Row] = []
    page = results["pages"]["home"]
    m = page["median"]
    pairs = len(page["pairs"])
    out.append(
        Row(
            f"1. `GET /` throughput, wrk -c{page['connections']}, median of {pairs} A/B pairs",
            f"{m['app_rps']:.0f} req/s",
            f"PHP {m['php_rps']:.0f} req/s",
            f"{m['rps_ratio']:.2f}x",
            f">= {GOAL_RPS_RATIO:g}x",
            _verdict(m["rps_ratio"] >= GOAL_RPS_RATIO),
        )
    )
    out.append(
        Row(
            "1. `GET /` p99 latency",
            f"{m['app_p99_ms']:.1f} ms",
            f"PHP {m['php_p99_ms']:.1f} ms",
            f"{m['p99_ratio']:.2f}x",
            "<= 0.33x",
            _verdict(m["p99_ratio"] <= GOAL_P99_RATIO),
        )
    )
    contacts = min(p["app"]["db_contacts_per_request"] for p in page["pairs"])
    connects = min(p["php"]["db_contacts_per_request"] for p in page["pairs"])
    failed = {side: sum(p[side]["failed"] for p in page["pairs"]) for side in ("app", "php")}
    out.append(
        Row(
            "1. `GET /`: every request reached the DB and got a 2xx (wrk's 2 s timeout)",
            f"{contacts:.2f} queries/request, {failed['app']} failed",
            f"PHP {connects:.2f} connections/request, {failed['php']} failed",
            "",
            "every request",
            _verdict(page["reached_db_every_request"]["app"]),
        )
    )
    out.append(
        Row(
            "1. CPU time per `GET /`: page container + DB container (median of per-pair ratios)",
            f"{m['app_cpu_us_per_request']:.0f} + {m['app_db_cpu_us_per_request']:.0f} us",
            f"PHP {m['php_cpu_us_per_request']:.0f} + {m['php_db_cpu_us_per_request']:.0f} us",
            f"{m['cpu_ratio']:.2f}x",
            f"<= {GOAL_CPU_RATIO:g}x",
            _verdict(m["cpu_ratio"] <= GOAL_CPU_RATIO),
        )
    )
    out.append(
        Row(
            "1. `GET /` against the server's own ceiling (`/healthz`, same worker, same run)",
            f"{m['app_rps']:.0f} req/s",
            f"/healthz {m['healthz_rps']:.0f} req/s, {m['healthz_cpu_us_per_request']:.0f} us CPU/request",
            f"{m['ceiling_ratio']:.2f}x",
            f">= {GOAL_CEILING_RATIO:g}x",
            _verdict(m["ceiling_ratio"] >= GOAL_CEILING_RATIO),
        )
    )
    slow = results["pages"]["slow"]
    out.append(
        Row(
            f"1. `GET /` p99 while {slow['slow_connections']} slow connections are held",
            f"{slow['p99_ms']:.1f} ms, {slow['rps']:.0f} req/s, {slow['failed']} failed",
            f"without them {m['app_p99_ms']:.1f} ms",
            "",
            f"< {GOAL_SLOW_P99_MS:g} ms, none failed",
            _verdict(slow["p99_ms"] < GOAL_SLOW_P99_MS and slow["failed"] == 0),
        )
    )
    others = (("list", "`GET /api/messages` (message list)"), ("post", "`POST /api/messages` (JSON)"))
    for key, label in others:
        run = results["pages"][key]
        out.append(
            Row(
                f"1. {label}",
                f"{run['rps']:.0f} req/s, p99 {run['p99_ms']:.1f} ms",
                "",
                "",
                "",
                "info" if run["failed"] == 0 else f"{run['failed']} failed",
            )
        )
    for kind, goal in (("cold", GOAL_COLD_RATIO), ("warm", GOAL_WARM_RATIO)):
        start = results["start"][kind]
        runs = len(start["seconds"]["orchestrate"])
        out.append(
            Row(
                f"2. {kind} start to first 200, median of {runs}",
                f"{start['median']['orchestrate_s']:.2f} s",
                f"Compose {start['median']['compose_s']:.2f} s",
                f"{start['median']['ratio']:.2f}x",
                f"<= {goal:g}x",
                _verdict(start["median"]["ratio"] <= goal),
            )
        )
    edit = results["edit"]
    out.append(
        Row(
            f"3. edit one line, `up`, until the new code answers (median of {len(edit['runs'])})",
            f"{edit['median']['new_code_s']:.2f} s",
            "",
            "",
            f"<= {GOAL_NEW_CODE_S:g} s",
            _verdict(edit["median"]["new_code_s"] <= GOAL_NEW_CODE_S),
        )
    )
    probes = sum(r["probes"] for r in edit["runs"])
    out.append(
        Row(
            "3. failed requests during the swap (a probe every 20 ms)",
            f"{edit['failed_total']} of {probes}, window {edit['median']['failing_window_s'] * 1000:.0f} ms",
            "",
            "",
            "none (aim)",
            _verdict(edit["failed_total"] == 0),
        )
    )
    out += _watch_rows(results.get("watch"))
    sizes = results["footprint"]["images"]
    out.append(
        Row(
            "4. image size over its base",
            f"app {sizes['app']['over_base_mb']:.0f} MB over {sizes['app']['base']}",
            f"PHP {sizes['php']['over_base_mb']:.0f} MB over {sizes['php']['base']}",
            "",
            "",
            "info",
        )
    )
    memory = results["footprint"]["memory_mib"]
    for kind in ("idle", "load"):
        figures = memory[kind]
        out.append(
            Row(
                f"4. memory, {'idle' if kind == 'idle' else 'peak under load'}",
                f"app {figures['app']:.0f} MiB, DB {figures['db']:.0f} MiB",
                f"PHP {figures['php']:.0f} MiB",
                "",
                "",
                "info",
            )
        )
    return out


def _watch_rows(watch: dict[str, Any] | None) -> list[Row]:
    """`orchestrate.py watch` against `docker compose watch` (no rows for results from before them)."""
    if not watch:
        return []
    ours, theirs = watch["median"]["orchestrate"], watch["median"]["compose"]
    probes = {side: sum(r["probes"] for r in runs) for side, runs in watch["runs"].items()}
    failed = watch["failed_total"]
    edits = len(watch["runs"]["orchestrate"])
    # Edits Compose's watcher never brought in (results from before this count have none).
    missed = len(watch.get("missed", {}).get("compose", []))
    missed_note = f"; missed {missed} of {len(watch['runs']['compose']) + missed} edits" if missed else ""
    if theirs is None:
        reference, ratio, faster = f"Compose watch missed all {missed} edits", "", None
        failures = "Compose: no edit came in"
    else:
        reference = f"Compose watch ({watch['compose_rule']}) {theirs['new_code_s']:.2f} s{missed_note}"
        ratio, faster = (
            f"{ours['new_code_s'] / theirs['new_code_s']:.2f}x",
            ours["new_code_s"] < theirs["new_code_s"],
        )
        window = theirs["failing_window_s"] * 1000
        failures = f"Compose {failed['compose']} of {probes['compose']}, window {window:.0f} ms"
    return [
        Row(
            f"3. edit one line under `watch`, until the new code answers (median of {edits})",
            f"{ours['new_code_s']:.2f} s",
            reference,
            ratio,
            f"<= {GOAL_WATCH_S:g} s and below Compose",
            # No Compose time, no comparison: neither passed nor short.
            "n/a" if faster is None else _verdict(ours["new_code_s"] <= GOAL_WATCH_S and faster),
        ),
        Row(
            "3. failed requests under `watch` (a probe every 20 ms)",
            f"{failed['orchestrate']} of {probes['orchestrate']}",
            failures,
            "",
            "none",
            _verdict(failed["orchestrate"] == 0),
        ),
    ]


def table(results: dict[str, Any]) -> str:
    """The rows as a Markdown table, under a line that says when and where they were measured."""
    meta = results["meta"]
    head = (
        f"Measured {meta['finished']} on {meta['cpus']} shared cores (load average "
        f"{meta['load_before']} before, {meta['load_after']} after), images `{meta['images']}`, "
        f"`{meta['command']}`. Medians of interleaved runs; ratios are this project over the reference."
    )
    columns = ["what", "this project", "reference", "ratio", "goal", "result"]
    lines = [head, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table_rows = rows(results)
    for row in table_rows:
        lines.append("| " + " | ".join(asdict(row).values()) + " |")
    short = [
        f"{row.what.split(' ', 1)[1]} ({row.ratio or row.ours}; goal {row.goal})"
        for row in table_rows
        if row.result == "SHORT"
    ]
    lines += ["", "Short of the goal: " + ("; ".join(short) if short else "nothing") + "."]
    return "\n".join(lines) + "\n"


def write_json(results: dict[str, Any], path: Path) -> None:
    """Write every figure, the rows included, as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**results, "goals": [asdict(row) for row in rows(results)]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def replace_table(document: Path, rendered: str) -> None:
    """Put ``rendered`` between the table markers in ``document``."""
    text = document.read_text()
    before, start, rest = text.partition(TABLE_START)
    _, end, after = rest.partition(TABLE_END)
    if not start or not end:
        raise ValueError(f"{document} has no {TABLE_START} ... {TABLE_END} block")
    document.write_text(f"{before}{TABLE_START}\n{rendered}{TABLE_END}{after}")
