"""5. A statement the database refuses: 500 with a plain reason, the detail in the app's log only.

The database stays up and reachable; a trigger makes one text break a NOT NULL column, as a data
error, a constraint or a bug in SQL would. Only "cannot reach the database" is a 503
(tests/reliability/test_outage.py).
"""

from __future__ import annotations

import pytest
import requests

from app.errors import DATABASE_FAILED

from .support import LiveStack, Record

pytestmark = pytest.mark.reliability

REFUSED = "refused by a trigger"
# One statement (the mysql client splits on ';'): the trigger empties a NOT NULL column for one text.
CREATE = (
    "CREATE TRIGGER aplrel_refuse BEFORE INSERT ON messages FOR EACH ROW"
    f" SET NEW.font = IF(NEW.text = '{REFUSED}', NULL, NEW.font)"
)
DETAIL = "1048"  # MySQL error 1048, "Column 'font' cannot be null": the server's words, for the log only


def test_a_refused_statement_is_a_500_logged_with_its_detail(stack: LiveStack, figures: Record) -> None:
    code, _, errors = stack.mysql(CREATE)
    assert code == 0, errors
    try:
        answers = [
            requests.post(f"{stack.base_url}/api/messages", json={"text": REFUSED}, timeout=10)
            for _ in range(3)
        ]
        after = requests.post(
            f"{stack.base_url}/api/messages", json={"text": "after the refusal"}, timeout=10
        )
        ready = requests.get(f"{stack.base_url}/readyz", timeout=10)
    finally:
        stack.mysql("DROP TRIGGER IF EXISTS aplrel_refuse")
    logs = stack.container("app").logs().decode(errors="replace")
    stored = stack.rows(f"SELECT COUNT(*) FROM messages WHERE text = '{REFUSED}'")
    statuses = [answer.status_code for answer in answers]
    figures(
        area="5 DB statement refused",
        tried="a trigger makes one text break a NOT NULL column; the DB stays up",
        often=f"{len(answers)} refused writes, then one ordinary write and /readyz",
        lost=f"{stored[0][0]} refused texts stored",
        figures=f"statuses {statuses}; then {after.status_code}, /readyz {ready.status_code}",
    )

    assert statuses == [500] * len(answers)
    for answer in answers:
        assert answer.json()["detail"] == DATABASE_FAILED
        assert DETAIL not in answer.text and "font" not in answer.text
    assert logs.count(DETAIL) >= len(answers), "the detail is not in the app's log"
    assert after.status_code == 201 and ready.status_code == 200
    assert stored == [["0"]]
