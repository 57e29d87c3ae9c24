"""Undoing a failed `up`: every step runs, and what could not be undone is named with its command."""

from __future__ import annotations

import pytest

from stack.errors import StackError
from stack.rollback import Journal, failure, leftovers_error

pytestmark = pytest.mark.unit


def fails(message: str):  # noqa: ANN201
    def step() -> None:
        raise RuntimeError(message)

    return step


def test_every_undo_step_runs_newest_first_and_failures_are_listed() -> None:
    ran: list[str] = []
    journal = Journal()
    journal.on_failure("network n", lambda: ran.append("network"), "docker network rm n")
    journal.on_failure("container c", fails("no such container\nmore"), "docker rm -f c")
    journal.on_failure("volume v", lambda: ran.append("volume"), "docker volume rm v")
    assert journal.roll_back() == ["container c (no such container): docker rm -f c"]
    assert ran == ["volume", "network"]


def test_an_interruption_is_as_it_was_only_when_nothing_is_left() -> None:
    clean = failure(KeyboardInterrupt(), [])
    assert isinstance(clean, StackError) and clean.exit_code == 130
    assert clean.problem == "interrupted; the stack is as it was before this run"
    left = failure(KeyboardInterrupt(), ["network n (in use): docker network rm n"])
    assert isinstance(left, StackError) and left.exit_code == 130
    assert "as it was" not in str(left) and "  network n (in use): docker network rm n" in left.details


def test_a_failure_keeps_its_message_and_adds_what_is_left() -> None:
    original = StackError("the database did not answer", "read its logs", details="  mysql | boom")
    assert failure(original, []) is original
    reported = failure(original, ["network n (in use): docker network rm n"])
    assert isinstance(reported, StackError)
    assert (reported.problem, reported.fix) == (original.problem, original.fix)
    assert reported.details.splitlines() == [
        "  mysql | boom",
        "undoing this run failed, so these are left; remove them by hand:",
        "  network n (in use): docker network rm n",
    ]


def test_other_errors_pass_through_unless_something_is_left() -> None:
    error = ValueError("bad")
    assert failure(error, []) is error
    wrapped = failure(error, ["container c (gone): docker rm -f c"])
    assert isinstance(wrapped, StackError) and wrapped.problem == "ValueError: bad"


def test_finishing_steps_that_fail_are_reported() -> None:
    journal = Journal()
    journal.on_success("container old", fails("in use"), "docker rm old")
    left = journal.complete()
    assert left == ["container old (in use): docker rm old"]
    assert leftovers_error(left).details == "  container old (in use): docker rm old"
