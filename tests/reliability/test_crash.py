"""2. App crash: the app's main process SIGKILLed under steady traffic.

A crash is the process dying on its own, and the restart policy (unless-stopped) brings the
container back. `docker kill` is different: Docker takes it as a manual stop, which restart
policies deliberately ignore, so `status` shows the container exited and `up` starts it again.
Both are tried; in both, no message acknowledged with 201 is lost.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
from docker.models.containers import Container

from stack.waiting import wait_for

from .support import LiveStack, Record, Traffic, has_exited, lost_writes, summarise_5xx

pytestmark = pytest.mark.reliability

MIX = {"write": 0.5, "list": 0.3, "read": 0.1, "page": 0.1}


def _main_process(container: Container) -> int:
    """The container's main process id on this host, after checking it is that container's."""
    pid = int(container.attrs["State"]["Pid"])
    try:
        cgroup = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        pytest.skip("the engine's processes are not visible here (a remote or rootless engine)")
    if container.id not in cgroup:
        pytest.skip(f"host process {pid} does not belong to {container.name}")
    return pid


def _state(stack: LiveStack, role: str) -> str:
    """The STATE column of the ``role`` container's line in `status`."""
    result = stack.orchestrate("status")
    assert result.returncode == 0, result.stderr
    name = stack.container(role).name
    line = next(line for line in result.stdout.splitlines() if line.startswith(f"container {name} "))
    return re.split(r"\s{2,}", line)[1]


def _restarted_since(container: Container, restarts: int) -> bool:
    container.reload()
    return container.status == "running" and container.attrs.get("RestartCount", 0) > restarts


@pytest.mark.parametrize("how", ["crash", "docker-kill"])
def test_app_killed(stack: LiveStack, figures: Record, how: str) -> None:
    app = stack.container("app")
    restarts = app.attrs.get("RestartCount", 0)
    pid = _main_process(app) if how == "crash" else 0
    traffic = Traffic(stack.port, clients=4, tag=f"crash-{how}", mix=MIX, timeout=15, pause=0.02)
    with traffic:
        wait_for(lambda: traffic.count(lambda e: e.status == 201) >= 20, timeout=30)
        killed_at = time.monotonic()
        if how == "crash":
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: _restarted_since(app, restarts), timeout=60)
        else:
            app.kill()
            wait_for(lambda: has_exited(app), timeout=30)
            while_down = _state(stack, "app")
            stack.up()
        serving_at = stack.wait_until_serving(timeout=60)
        wait_for(lambda: traffic.count(lambda e: e.started > serving_at and e.ok) >= 60, timeout=30)

    # `up` on the recovered stack changes nothing: a past restart is history, not a failure.
    again = stack.up()
    after = _state(stack, "app")
    exchanges = traffic.exchanges
    lost = lost_writes(exchanges, stack.stored_messages())
    acknowledged = sum(1 for e in exchanges if e.status == 201)
    refused = sum(1 for e in exchanges if e.status == 0)
    server_errors = [e for e in exchanges if e.status >= 500]
    downtime = serving_at - killed_at
    seen = after if how == "crash" else f"{while_down}, after `up` {after}"
    figures(
        area=f"2 App {'crash (SIGKILL)' if how == 'crash' else 'docker kill'}",
        tried=(
            "app's main process SIGKILLed; restart policy brings it back"
            if how == "crash"
            else "`docker kill` (a manual stop: no policy restart); `up` starts it"
        ),
        often=f"{len(exchanges)} requests from 4 clients, {refused} without an answer while down,"
        f" {summarise_5xx(exchanges)}",
        lost=f"{len(lost)} of {acknowledged} acknowledged writes",
        figures=f"serving again {downtime:.2f} s after the kill; `status`: {seen}",
    )

    assert lost == [], f"acknowledged writes missing or altered: {lost[:5]}"
    assert server_errors == [], f"5xx answers: {server_errors[:5]}"
    assert "Recreating" not in again.stderr and "Creating" not in again.stderr
    if how == "crash":
        assert after == f"running, restarted {restarts + 1}x"
    else:
        assert while_down.startswith("exited, exit code 137")
        assert after.startswith("running")
