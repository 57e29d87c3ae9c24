"""Settings and credentials: read once, validated, secrets generated once and kept private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from stack.errors import StackError
from stack.images import OFFICIAL, STANDIN
from stack.settings import read_settings

pytestmark = pytest.mark.unit


def settings(tmp_path: Path, env: dict[str, str] | None = None, **flags):  # noqa: ANN003, ANN201
    return read_settings(env or {}, root=tmp_path, **flags)


def test_defaults_are_the_lessons(tmp_path: Path) -> None:
    chosen = settings(tmp_path)
    assert (chosen.project, chosen.port, chosen.images) == ("apl", 8080, OFFICIAL)
    assert chosen.credentials.user == "apl" and chosen.credentials.database == "apl"


def test_flags_win_over_the_environment(tmp_path: Path) -> None:
    env = {"APL_PROJECT": "fromenv", "APL_PORT": "9000", "APL_IMAGES": "standin"}
    chosen = settings(tmp_path, env, project="fromflag", port=9100)
    assert (chosen.project, chosen.port, chosen.images) == ("fromflag", 9100, STANDIN)


def test_one_image_can_be_overridden(tmp_path: Path) -> None:
    chosen = settings(tmp_path, {"APL_IMAGES": "standin"}, db_image="mariadb:10.11")
    assert chosen.images.db == "mariadb:10.11" and chosen.images.python == STANDIN.python


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"project": "Bad Name"}, {}, "invalid project name 'Bad Name'"),
        ({"project": ""}, {"APL_PROJECT": "demo"}, "--project was given an empty name"),
        ({"port": 70000}, {}, "invalid port 70000"),
        ({}, {"APL_PORT": "eighty"}, "APL_PORT='eighty' is not a whole number"),
        ({"images": "nightly"}, {}, "unknown image set 'nightly'"),
        ({}, {"APL_WAIT_TIMEOUT": "soon"}, "APL_WAIT_TIMEOUT='soon' is not a number"),
        ({}, {"APL_WAIT_TIMEOUT": "0"}, "invalid readiness timeout of 0 seconds"),
        ({}, {"APL_WAIT_TIMEOUT": "-5"}, "APL_WAIT_TIMEOUT='-5' is not a number"),
        ({}, {"APL_WAIT_TIMEOUT": "nan"}, "APL_WAIT_TIMEOUT='nan' is not a number"),
        # Whole-string validation: `$` or int()/float() would let these through.
        ({"project": "apl\n"}, {}, "invalid project name 'apl\\n'"),
        ({}, {"APL_PROJECT": "demo\n"}, "invalid project name 'demo\\n'"),
        ({}, {"APL_PORT": "8080\n"}, "APL_PORT='8080\\n' is not a whole number"),
        ({}, {"APL_PORT": " 8080"}, "APL_PORT=' 8080' is not a whole number"),
        ({}, {"APL_PORT": "8_080"}, "APL_PORT='8_080' is not a whole number"),
        ({}, {"APL_PORT": "+80"}, "APL_PORT='+80' is not a whole number"),
        ({}, {"APL_WAIT_TIMEOUT": "1e3"}, "APL_WAIT_TIMEOUT='1e3' is not a number"),
        ({}, {"APL_WAIT_TIMEOUT": "inf"}, "APL_WAIT_TIMEOUT='inf' is not a number"),
        ({}, {"APL_WAIT_TIMEOUT": "2.5\n"}, "APL_WAIT_TIMEOUT='2.5\\n' is not a number"),
        ({}, {"MYSQL_USER": "apl\n"}, "MYSQL_USER='apl\\n' is not a valid name"),
        ({}, {"MYSQL_DATABASE": "apl; DROP"}, "MYSQL_DATABASE='apl; DROP' is not a valid name"),
        # The app refuses these at start-up, after the build: refused here before anything is made.
        (
            {},
            {"APL_ALLOWED_HOSTS": "board.lan:8080"},
            "APL_ALLOWED_HOSTS='board.lan:8080' is not a list of host names",
        ),
        ({}, {"APL_ALLOWED_HOSTS": "*"}, "APL_ALLOWED_HOSTS='*' is not a list of host names"),
        (
            {},
            {"APL_ALLOWED_HOSTS": "http://board.lan"},
            "APL_ALLOWED_HOSTS='http://board.lan' is not a list of host names",
        ),
        ({"wait_timeout": 0.0}, {}, "invalid readiness timeout of 0 seconds"),
        ({"wait_timeout": -0.5}, {}, "invalid readiness timeout of -0.5 seconds"),
    ],
)
def test_bad_settings_say_what_and_how_to_fix(tmp_path: Path, flags: dict, env: dict, message: str) -> None:
    with pytest.raises(StackError) as raised:
        settings(tmp_path, env, **flags)
    assert raised.value.problem == message
    assert raised.value.fix


def test_the_readiness_timeout_takes_fractions_from_either_source(tmp_path: Path) -> None:
    assert settings(tmp_path, {"APL_WAIT_TIMEOUT": "2.5"}).wait_timeout == 2.5
    assert settings(tmp_path, {"APL_WAIT_TIMEOUT": "90"}, wait_timeout=0.25).wait_timeout == 0.25


def test_generated_credentials_are_private_and_reused(tmp_path: Path) -> None:
    first = settings(tmp_path, project="demo").credentials
    stored = tmp_path / ".apl" / "demo.env"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    second = settings(tmp_path, project="demo").credentials
    assert second == first
    assert len(first.password) >= 20 and first.password != first.root_password
    assert first.password not in repr(first)


def test_credentials_from_the_environment_are_not_written(tmp_path: Path) -> None:
    env = {"MYSQL_USER": "alice", "MYSQL_PASSWORD": "pw1", "MYSQL_ROOT_PASSWORD": "pw2"}
    creds = settings(tmp_path, env).credentials
    assert (creds.user, creds.password, creds.root_password) == ("alice", "pw1", "pw2")
    assert not (tmp_path / ".apl").exists()


def test_the_lessons_root_settings(tmp_path: Path) -> None:
    creds = settings(tmp_path, {"MYSQL_USER": "root", "MYSQL_PASSWORD": "qwerty"}).credentials
    assert creds.user_is_root
    assert creds.password == creds.root_password == "qwerty"


def test_root_with_two_different_passwords_is_refused(tmp_path: Path) -> None:
    env = {"MYSQL_USER": "root", "MYSQL_PASSWORD": "a", "MYSQL_ROOT_PASSWORD": "b"}
    with pytest.raises(StackError, match="differ"):
        settings(tmp_path, env)


def test_commands_that_only_look_never_write_credentials(tmp_path: Path) -> None:
    creds = settings(tmp_path, generate_credentials=False).credentials
    assert creds.password == creds.root_password == ""
    assert not (tmp_path / ".apl").exists()


def test_an_empty_stored_password_is_generated_anew(tmp_path: Path) -> None:
    stored = tmp_path / ".apl" / "apl.env"
    stored.parent.mkdir()
    stored.write_text("MYSQL_ROOT_PASSWORD=\nMYSQL_PASSWORD=kept\n")
    creds = settings(tmp_path).credentials
    assert len(creds.root_password) >= 20 and creds.password == "kept"
    assert f"MYSQL_ROOT_PASSWORD={creds.root_password}\n" in stored.read_text()
    assert settings(tmp_path).credentials == creds  # and reused from then on


def test_allowed_hosts_the_app_takes_are_passed_on(tmp_path: Path) -> None:
    chosen = settings(tmp_path, {"APL_ALLOWED_HOSTS": " Board.LAN, 192.168.1.20 [::2] "})
    assert chosen.allowed_hosts == "Board.LAN, 192.168.1.20 [::2]"
