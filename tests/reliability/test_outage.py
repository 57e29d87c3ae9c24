"""1. Database outage: the DB stopped, or killed, under steady reads and writes.

While the DB is gone the app answers 503 with a reason (never 500, never slower than its own
DB timeouts allow); once the DB is back it serves again within 5 s without a restart; and every
message it acknowledged with 201, before, during or after, is in the database afterwards.

"DB ready" is the end of the first TCP query that succeeds inside the DB container (the probe
`up` uses, polled every 0.1 s); "serving" is the first 200 from GET /api/messages after that.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from app.config import DBSettings
from stack.waiting import wait_for

from .support import LiveStack, Record, Traffic, has_exited, lost_writes, stored_anyway, summarise_5xx

pytestmark = pytest.mark.reliability

OUTAGE = 5.0  # seconds the DB stays down while traffic runs: the experiment itself, not a wait
RECOVERY_LIMIT = 5.0
_DB = {f.name: f.default for f in dataclasses.fields(DBSettings)}
# The longest one answer may take with the DB gone: the app's own DB timeouts, plus a margin.
ANSWER_LIMIT = float(_DB["connect_timeout"] + _DB["read_timeout"] + _DB["write_timeout"]) + 2.0
MIX = {"write": 0.5, "list": 0.3, "read": 0.1, "page": 0.1}


def _app_identity(stack: LiveStack) -> tuple[str, str, int]:
    app = stack.container("app")
    return app.id, app.attrs["State"]["StartedAt"], app.attrs.get("RestartCount", 0)


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_db_outage(stack: LiveStack, figures: Record, how: str) -> None:
    app_before = _app_identity(stack)
    db = stack.container("db")
    traffic = Traffic(
        stack.port, clients=4, tag=f"outage-{how}", mix=MIX, timeout=ANSWER_LIMIT + 5, pause=0.02
    )
    with traffic:
        wait_for(lambda: traffic.count(lambda e: e.status == 201) >= 20, timeout=30)
        down_at = time.monotonic()
        if how == "stop":
            db.stop(timeout=10)
        else:
            db.kill()  # SIGKILL: no shutdown, InnoDB recovers from its log on the next start
        wait_for(lambda: has_exited(db), timeout=30)
        time.sleep(OUTAGE)  # the outage itself, with traffic running
        db.start()
        ready_at = wait_for(lambda: stack.db_answers() and time.monotonic(), timeout=60, interval=0.1)
        serving_at = stack.wait_until_serving(timeout=30)
        # Keep going for a while after recovery: every client must be served again, not just the probe.
        wait_for(lambda: traffic.count(lambda e: e.started > serving_at and e.ok) >= 60, timeout=30)

    exchanges = traffic.exchanges
    stored = stack.stored_messages()
    lost = lost_writes(exchanges, stored)
    acknowledged = sum(1 for e in exchanges if e.status == 201)
    during = [e for e in exchanges if down_at <= e.started <= ready_at]
    unavailable = [e for e in exchanges if e.status == 503]
    unexpected = [e for e in exchanges if e.status not in (200, 201, 503)]
    after_grace = [e for e in exchanges if e.started >= ready_at + RECOVERY_LIMIT and not e.ok]
    slowest = max(e.elapsed for e in exchanges)
    recovery = max(0.0, serving_at - ready_at)
    kept, unacknowledged = stored_anyway(exchanges, stored)
    secrets = stack.secrets()
    leaks = [e for e in unavailable if any(s.encode() in e.body for s in secrets)]
    label = "stopped" if how == "stop" else "killed (SIGKILL)"
    figures(
        area=f"1 DB outage, {how}",
        tried=f"DB {label} for {OUTAGE:g} s under 4 clients of reads+writes",
        often=f"{len(exchanges)} requests, {len(during)} during the outage, {len(unavailable)} answered 503",
        lost=f"{len(lost)} of {acknowledged} acknowledged writes",
        figures=(
            f"recovery {recovery:.2f} s after DB ready; slowest answer {slowest:.2f} s;"
            f" {summarise_5xx(exchanges)}; unacknowledged writes stored anyway"
            f" {kept}/{unacknowledged}"
        ),
    )

    assert unavailable, "the outage was never seen: no request got 503"
    assert unexpected == [], f"answers other than 200/201/503: {unexpected[:5]}"
    assert [e for e in unavailable if not e.reason] == [], "a 503 without a reason"
    assert leaks == [], "a 503 answer shows a password"
    assert slowest <= ANSWER_LIMIT, f"an answer took {slowest:.2f} s (limit {ANSWER_LIMIT:g} s)"
    assert recovery <= RECOVERY_LIMIT, f"served again {recovery:.2f} s after the DB was ready"
    assert after_grace == [], f"failures {RECOVERY_LIMIT:g} s after the DB was ready: {after_grace[:5]}"
    assert lost == [], f"acknowledged writes missing or altered: {lost[:5]}"
    assert _app_identity(stack) == app_before, "the app container was restarted or replaced"
