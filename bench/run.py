"""The benchmark command: set up, measure, clean up, print the table and write the JSON.

python -m bench                  # the full run: a few minutes
python -m bench --quick          # everything once and briefly, to check that it works
python -m bench --update-docs    # also put the table into docs/benchmarks.md and README.md
python -m bench --table-only     # show the table of the last run again (with --update-docs: write it)
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException

from stack.errors import StackError
from stack.images import DEFAULT_IMAGE_SET, IMAGE_SETS, resolve_images
from stack.spec import build_spec

from . import edit, footprint, pages, report, start, tools, watch, wrk
from .containers import MemorySampler
from .pages import Target
from .stacks import REPO, BenchError, Workspace

log = logging.getLogger("bench")

RESULTS = REPO / "bench" / "results" / "latest.json"
DOCUMENTS = (REPO / "docs" / "benchmarks.md", REPO / "README.md")
POST_BODY = '{"text": "wrk was here"}'
SLOW_CLIENTS = 256  # held open while the page is loaded once more (bench/slowclients.py)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 pair of 2 s, one start round, one edit")
    p.add_argument("--pairs", type=int, default=5, help="A/B pairs for the page (default 5)")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--start-rounds", type=int, default=3, help="cold-start pairs (default 3)")
    p.add_argument("--warm-runs", type=int, default=2, help="warm-start pairs per round (default 2)")
    p.add_argument("--edit-runs", type=int, default=3, help="edit-and-up runs (default 3)")
    p.add_argument("--watch-runs", type=int, default=3, help="edits under each watcher (default 3)")
    p.add_argument(
        "--images",
        choices=sorted(IMAGE_SETS),
        default=os.environ.get("APL_IMAGES") or DEFAULT_IMAGE_SET,
        help="image set, as for orchestrate.py (default: APL_IMAGES, else official)",
    )
    p.add_argument("--output", type=Path, default=RESULTS, help="JSON (default bench/results/latest.json)")
    p.add_argument("--update-docs", action="store_true", help="table into docs/benchmarks.md, README.md")
    p.add_argument("--table-only", action="store_true", help="measure nothing: show the table of --output")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; return the exit code."""
    args = parser().parse_args(argv)
    if args.quick:
        args.pairs, args.duration, args.start_rounds, args.warm_runs, args.edit_runs = 1, 2, 1, 1, 1
        args.watch_runs = 1
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s", stream=sys.stderr)
    command = "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    try:
        if args.table_only:
            results = json.loads(args.output.read_text())
        else:
            results = measure_all(args, command.strip())
    except (BenchError, StackError, wrk.WrkError, DockerException, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; removed what the benchmarks had created", file=sys.stderr)
        return 130
    rendered = report.table(results)
    print(rendered)
    if not args.table_only:
        report.write_json(results, args.output)
        log.info("wrote %s", args.output)
    if args.update_docs:
        for document in DOCUMENTS:
            report.replace_table(document, rendered)
            log.info("updated the table in %s", document.relative_to(REPO))
    return 0


def measure_all(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """Set everything up, measure, and take it all down again."""
    tools.require_wrk()
    tools.require_compose()
    client = docker.from_env()
    images = resolve_images(args.images)
    php_base = "apl/debian:bookworm" if args.images == "standin" else "debian:bookworm"
    meta: dict[str, Any] = {
        "started": _now(),
        "command": command,
        "images": args.images,
        "cpus": os.cpu_count(),
        "load_before": _load(),
        "git": _git_state(),
        "tools": tools.versions(),
    }
    results: dict[str, Any] = {}
    with Workspace(client, args.images) as workspace:
        tree = workspace.snapshot("tree")

        log.info("pages: starting the stack and the PHP page on its DB")
        project = workspace.project("pages", tree)
        project.orchestrate("up")
        workspace.build_php(php_base)
        php_container, php_url = workspace.start_php(project)
        app_container, db = project.container(client, "app"), project.container(client, "db")
        pages.seed(project.url)
        app = Target("app", f"{project.url}/", app_container, "Questions")
        php = Target("php", php_url, php_container, "Connections")
        ceiling = Target("healthz", f"{project.url}/healthz", app_container, "Questions")
        named = {"app": app_container, "php": php_container, "db": db}
        idle = footprint.memory_now(named.values())
        with MemorySampler(named.values()) as sampler:
            home = pages.compare(
                app,
                php,
                ceiling,
                db,
                pairs=args.pairs,
                seconds=args.duration,
                connections=args.connections,
                warmup=min(3, args.duration),
            )
            others = {
                key: pages.measure(
                    Target("app", f"{project.url}/api/messages", app_container, "Questions"),
                    db,
                    seconds=args.duration,
                    connections=args.connections,
                    post_json=body,
                ).to_json()
                for key, body in (("list", None), ("post", POST_BODY))
            }
            slow = pages.under_slow_clients(
                app, db, slow=SLOW_CLIENTS, seconds=args.duration, connections=args.connections
            ).to_json()
        results["pages"] = {"home": home, **others, "slow": {**slow, "slow_connections": SLOW_CLIENTS}}
        results["footprint"] = {
            "images": footprint.image_sizes(
                client,
                {
                    "app": (build_spec(project.settings()).app.image, images.python),
                    "php": (php_container.image.tags[0], php_base),
                },
            ),
            "memory_mib": {
                kind: {role: figures[container.name] for role, container in named.items()}
                for kind, figures in (("idle", idle), ("load", footprint.in_mib(sampler.peaks)))
            },
        }
        workspace.remove_project(project.name)  # frees the CPU it would idle on

        results["start"] = start.measure(workspace, tree, rounds=args.start_rounds, warm_runs=args.warm_runs)
        results["edit"] = edit.measure(workspace, workspace.snapshot("edit"), runs=args.edit_runs)
        results["watch"] = watch.measure(
            workspace, workspace.snapshot("watch"), workspace.snapshot("compose-watch"), runs=args.watch_runs
        )
    # What this run named its resources, so a check for leftovers looks at this run's only.
    names = {"prefix": workspace.prefix, "php_image": workspace.php_image}
    results["meta"] = {**meta, "finished": _now(), "load_after": _load(), "names": names}
    return results


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _git_state() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    return f"{commit} (with uncommitted changes)" if git("status", "--porcelain") else commit
