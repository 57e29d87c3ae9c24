"""What a command says when another one, on a host sharing the engine, works on the same project.

The lock (stack/lock.py) orders commands on one host; across hosts the engine's answers are all
there is. Provoked for real with two lock folders (two "hosts") racing, the later command met a
name its own project had just taken, or a network removed under it; these are those answers.
"""

from __future__ import annotations

import pytest
import requests
from docker.errors import APIError, NotFound

from stack.containers import _network_gone, name_taken
from stack.resources import gone
from stack.spec import LABEL_PROJECT

pytestmark = pytest.mark.unit


def test_a_name_taken_by_the_same_project_is_a_command_at_the_same_moment() -> None:
    error = name_taken("volume", "p-apl-mysql-data", "p", {LABEL_PROJECT: "p"})
    assert error.problem.startswith("another command created volume p-apl-mysql-data at the same moment")
    assert "--project p status" in error.fix


@pytest.mark.parametrize("labels", [None, {}, {LABEL_PROJECT: "other"}])
def test_a_name_taken_by_anything_else_is_not_ours(labels: dict[str, str] | None) -> None:
    error = name_taken("network", "p-apl-net", "p", labels)
    assert error.problem == "a network named p-apl-net already exists and does not belong to project p"


def answer(status: int) -> requests.Response:
    """An engine's HTTP answer with ``status``, as docker-py's errors carry it."""
    response = requests.Response()
    response.status_code = status
    return response


def test_a_network_removed_under_a_command_is_recognised() -> None:
    # As the engine answers a container's start once its network is gone.
    gone = NotFound("404 Client Error", answer(404), explanation="network p-apl-net not found")
    assert _network_gone(gone)
    assert not _network_gone(NotFound("404 Client Error", answer(404), explanation="No such container: abc"))
    assert not _network_gone(
        APIError("500 Server Error", answer(500), explanation="network p-apl-net: failed")
    )


def test_a_container_removed_meanwhile_is_gone_whatever_the_status() -> None:
    # Docker says so with 404; Podman, while it removes one, with 500 and these words.
    assert gone(NotFound("404 Client Error", answer(404), explanation="No such container: abc"))
    podman = "container abc does not exist in database: no such container"
    assert gone(APIError("500 Server Error", answer(500), explanation=podman))
    assert not gone(APIError("500 Server Error", answer(500), explanation="driver failed programming"))
