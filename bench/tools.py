"""The programs the benchmarks drive: wrk and Compose v2, installed when missing and possible."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

from .stacks import REPO, BenchError

log = logging.getLogger("bench")


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, env=env)


def require_wrk() -> None:
    """Make sure `wrk` is on PATH; as root on Debian, install Debian's package if it is not."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BenchError("wrk is not installed; install it (Debian: apt-get install wrk) and run again")
    log.info("installing Debian's wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = _run(command, env)
        if done.returncode != 0:
            raise BenchError(f"`{' '.join(command)}` failed:\n{done.stderr.strip()}")


def require_compose() -> None:
    """Make sure `docker compose` answers, installing the plugin with scripts/compose-plugin.sh if not."""
    if _run(["docker", "compose", "version"]).returncode == 0:
        return
    log.info("installing the Docker Compose plugin (scripts/compose-plugin.sh)")
    script = REPO / "scripts" / "compose-plugin.sh"
    done = _run(["bash", str(script)], {**os.environ, "PYTHON": sys.executable})
    if done.returncode != 0:
        raise BenchError(f"scripts/compose-plugin.sh failed:\n{done.stderr.strip()}")


def versions() -> dict[str, str]:
    """The versions of the tools in play, for the record."""
    wrk_line = _run(["wrk", "--version"]).stdout.splitlines()
    compose = _run(["docker", "compose", "version", "--short"]).stdout.strip()
    engine = _run(["docker", "version", "--format", "{{.Server.Version}}"]).stdout.strip()
    wrk = wrk_line[0].split(" [")[0] if wrk_line else ""
    return {"wrk": wrk, "compose": compose, "docker_engine": engine}
