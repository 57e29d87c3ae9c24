"""4. Persistence: `down` then `up` keeps every message; `down --volumes` then `up` keeps none.

The comparison is on every row in the database (id and stored bytes), not on a sample.
"""

from __future__ import annotations

import pytest
import requests

from tests.integration.support import owned

from .support import LiveStack, Record, message_text

pytestmark = pytest.mark.reliability

FRESH = 25  # messages written by this test, on top of whatever the stack already holds


def test_down_up_keeps_messages_and_down_volumes_forgets_them(stack: LiveStack, figures: Record) -> None:
    with requests.Session() as session:
        for n in range(FRESH):
            text = message_text("persistence", str(n))
            created = session.post(f"{stack.base_url}/api/messages", json={"text": text}, timeout=10)
            assert created.status_code == 201, created.text
    before = stack.stored_messages()

    down = stack.orchestrate("down")
    assert down.returncode == 0, down.stderr
    left = owned(stack.client, stack.project)
    stack.up()
    kept = stack.stored_messages()

    wiped = stack.orchestrate("down", "--volumes")
    assert wiped.returncode == 0, wiped.stderr
    left_after_wipe = owned(stack.client, stack.project)
    stack.up()
    remaining = stack.stored_messages()
    listed = requests.get(f"{stack.base_url}/api/messages", timeout=10).json()["messages"]

    missing = [i for i, text in before.items() if kept.get(i) != text]
    figures(
        area="4 Persistence",
        tried="`down` + `up`, then `down --volumes` + `up`",
        often=f"{len(before)} messages ({FRESH} written here) across each cycle",
        lost=f"{len(missing)} of {len(before)} after `down`; {len(remaining)} remain after `--volumes`",
        figures=f"rows after down/up: {len(kept)}; after down --volumes/up: {len(remaining)}",
    )

    assert left["containers"] == [] and left["networks"] == [] and len(left["volumes"]) == 1
    assert kept == before
    assert left_after_wipe["volumes"] == []
    assert remaining == {} and listed == []
