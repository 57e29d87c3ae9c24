"""Undoing a failed `up`: every step runs, and what could not be undone is named with its command.

Also Ctrl-C at awkward moments, and an engine that stops answering.
"""

from __future__ import annotations

import os
import signal

import pytest
import requests

from stack import rollback
from stack.cleanup import Stopped
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


def press_ctrl_c() -> None:
    """Send this process a real SIGINT, as a terminal's Ctrl-C does."""
    os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_during_a_change_waits_until_its_undo_is_recorded(capsys) -> None:
    journal, undone = Journal(), []
    with pytest.raises(KeyboardInterrupt), journal.change("creating network n"):
        press_ctrl_c()  # as if pressed while the engine was creating the network
        journal.on_failure("network n", lambda: undone.append("n"), "docker network rm n")
    assert journal.roll_back() == [] and undone == ["n"]
    assert (
        capsys.readouterr().err == "interrupted: finishing creating network n first, then undoing this run\n"
    )
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_during_a_change_is_held_too_and_ends_the_run_as_a_shell_says(capsys) -> None:
    journal, undone = Journal(), []
    with pytest.raises(Stopped) as stopped, journal.change("creating network n"):
        os.kill(os.getpid(), signal.SIGTERM)
        journal.on_failure("network n", lambda: undone.append("n"), "docker network rm n")
    assert journal.roll_back() == [] and undone == ["n"]
    assert failure(stopped.value, []).exit_code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_change_without_ctrl_c_goes_on() -> None:
    with Journal().change("creating network n"):
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_while_removing_what_a_good_run_replaced_does_not_stop_it() -> None:
    journal, removed = Journal(), []
    journal.on_success("container a", lambda: (press_ctrl_c(), removed.append("a")), "docker rm a")
    journal.on_success("container b", lambda: removed.append("b"), "docker rm b")
    assert journal.complete() == [] and removed == ["a", "b"]


def test_an_engine_that_stops_answering_ends_the_undo_at_once_and_lists_every_step() -> None:
    journal, tried = Journal(), []

    def hangs() -> None:
        tried.append("container app")
        raise requests.ReadTimeout("UnixHTTPConnectionPool(host='localhost', port=None): Read timed out.")

    journal.on_failure("network n", lambda: tried.append("network n"), "docker network rm n")
    journal.on_failure("container app", hangs, "docker rm -f 0123")
    # Newest first: the container's removal times out; the network's would wait as long again.
    assert journal.roll_back() == [
        "container app (the engine did not answer in time): docker rm -f 0123",
        "network n (not tried: the engine did not answer in time): docker network rm n",
    ]
    assert tried == ["container app"]


def test_other_failed_undo_steps_stop_no_other_step() -> None:
    journal, tried = Journal(), []

    def refused() -> None:
        tried.append("container app")
        raise RuntimeError("conflict: in use")

    journal.on_failure("network n", lambda: tried.append("network n"), "docker network rm n")
    journal.on_failure("container app", refused, "docker rm -f 0123")
    assert journal.roll_back() == ["container app (conflict: in use): docker rm -f 0123"]
    assert tried == ["container app", "network n"]


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (requests.ConnectionError("('Connection aborted.', RemoteDisconnected())"), "could not be reached"),
        (requests.ReadTimeout("Read timed out. (read timeout=30)"), "did not answer in time"),
    ],
)
def test_an_engine_gone_mid_run_is_said_so_with_a_fix(error: Exception, said: str) -> None:
    for left in ([], ["network n (the engine could not be reached): docker network rm n"]):
        reported = rollback.failure(error, left)
        assert isinstance(reported, StackError)
        assert reported.problem.startswith(f"the Docker engine {said} (")
        assert "docker info" in reported.fix
        assert ("docker network rm n" in reported.details) == bool(left)
