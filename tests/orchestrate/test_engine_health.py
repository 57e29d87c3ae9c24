"""`status` says when the engine never runs a container's healthcheck (Podman without systemd)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stack.readiness import engine_runs_no_healthcheck

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 5, 0, 0, tzinfo=UTC)
CHECK = {"Test": ["CMD-SHELL", "true"], "Interval": 5 * 10**9}


def attrs(started: str, health: dict | None, check: dict | None = CHECK) -> dict:
    return {"Config": {"Healthcheck": check}, "State": {"StartedAt": started, "Health": health}}


def test_a_check_never_run_long_after_start_is_named() -> None:
    # As Podman reports it: the status stays "starting" and the log stays empty.
    never = attrs("2026-12-03T04:58:00.123456789Z", {"Status": "starting", "Log": None})
    assert engine_runs_no_healthcheck(never, NOW)


@pytest.mark.parametrize(
    "container",
    [
        attrs("2026-12-03T04:59:55.5Z", {"Status": "starting", "Log": None}),  # too early to tell
        attrs("2026-12-03T04:58:00Z", {"Status": "healthy", "Log": [{"ExitCode": 0}]}),  # Docker ran it
        attrs("2026-12-03T04:58:00Z", None, check=None),  # no healthcheck at all
        attrs("2026-12-03T04:58:00Z", None, check={"Test": ["NONE"]}),  # the image's check switched off
        attrs("", {"Status": "starting", "Log": None}),  # no start time: say nothing
    ],
)
def test_nothing_is_said_otherwise(container: dict) -> None:
    assert not engine_runs_no_healthcheck(container, NOW)
