"""Both stand-ins keep the conventions docker-library/official-images checks on every image
(test/tests/utc, override-cmd and no-hard-coded-passwords): our own tests of the same facts."""

from __future__ import annotations

import uuid

import docker
import pytest

from .support import output_of

pytestmark = pytest.mark.standins


@pytest.fixture(params=["python_image", "db_image"])
def image(request: pytest.FixtureRequest) -> str:
    """Each stand-in in turn."""
    return request.getfixturevalue(request.param)


def test_clock_is_utc(docker_client: docker.DockerClient, image: str) -> None:
    """`date +%Z` says UTC: no local time zone is baked in."""
    assert output_of(docker_client, image, "utc", command=["+%Z"], entrypoint=["date"]) == "UTC\n"


def test_command_can_be_overridden(docker_client: docker.DockerClient, image: str) -> None:
    """`docker run IMAGE echo ...` runs echo, through the image's own entrypoint if it has one."""
    greeting = f"Hello {uuid.uuid4().hex}"
    assert output_of(docker_client, image, "override-cmd", command=["echo", greeting]) == f"{greeting}\n"


def test_no_account_has_a_password_set(docker_client: docker.DockerClient, image: str) -> None:
    """No password hash in /etc/shadow and none empty for root: every account is locked ('!' or '*')."""
    fields = ["-d:", "-f1,2", "/etc/passwd", "/etc/shadow"]
    out = output_of(docker_client, image, "passwords", command=fields, entrypoint=["cut"], user="0:0")
    passwords: dict[str, str] = {}
    for line in out.splitlines():
        account, password = line.split(":", 1)
        if password != "x":  # "x": the password is in /etc/shadow, which comes second
            passwords[account] = password
    assert "root" in passwords
    assert passwords["root"] != "", "root has an empty password"
    assert {account for account, password in passwords.items() if password.startswith("$")} == set()
