"""Undoing a failed `up`: Ctrl-C at awkward moments, and an engine that stops answering."""

from __future__ import annotations

import os
import signal

import pytest
import requests

from stack import rollback
from stack.errors import StackError
from stack.rollback import Journal

pytestmark = pytest.mark.unit


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
