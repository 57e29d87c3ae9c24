"""Credentials: the file read strictly, secrets written to regular private files only."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from stack import credentials
from stack.credentials import write_private
from stack.errors import StackError

pytestmark = pytest.mark.unit

SECRET = "MYSQL_ROOT_PASSWORD=s3cret\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_an_existing_readable_file_is_made_private_before_the_secret_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "apl.yaml"
    target.write_text("an older, longer export\n" * 10)
    target.chmod(0o644)
    seen_at_chmod: list[str] = []
    fchmod = os.fchmod

    def recording_fchmod(fd: int, new_mode: int) -> None:
        seen_at_chmod.append(target.read_text())
        fchmod(fd, new_mode)

    monkeypatch.setattr(credentials.os, "fchmod", recording_fchmod)
    write_private(target, SECRET)
    assert mode(target) == 0o600
    assert target.read_text() == SECRET  # the longer old content is gone, not just overwritten in part
    assert seen_at_chmod and SECRET not in seen_at_chmod[0]


def test_a_new_file_is_private_and_its_folder_is_made(tmp_path: Path) -> None:
    target = tmp_path / ".apl" / "apl.env"
    write_private(target, SECRET)
    assert (mode(target), mode(target.parent), target.read_text()) == (0o600, 0o700, SECRET)


@pytest.mark.parametrize("kind", ["folder", "fifo", "symlink"])
def test_a_path_that_is_not_a_regular_file_is_refused_and_left_alone(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("untouched\n")
    elsewhere.chmod(0o644)
    if kind == "folder":
        target.mkdir(mode=0o755)
    elif kind == "fifo":
        os.mkfifo(target, 0o644)  # stands for a device such as /dev/null: its mode must not change
    else:
        target.symlink_to(elsewhere)
    before = mode(target)
    with pytest.raises(StackError) as raised:
        write_private(target, SECRET)
    assert raised.value.problem.startswith(f"{target} exists and is not a regular file")
    assert raised.value.fix
    assert mode(target) == before
    assert (elsewhere.read_text(), mode(elsewhere)) == ("untouched\n", 0o644)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"MYSQL_ROOT_PASSWORD=\xff\xfe\n", "it holds bytes that are not text"),
        (b"hello world\n", "line 1 is not one of MYSQL_ROOT_PASSWORD=..., MYSQL_PASSWORD=..."),
        (
            b"# ok\nMYSQL_PASSWORD=a\nMYSQL_HOST=x\n",
            "line 3 is not one of MYSQL_ROOT_PASSWORD=..., MYSQL_PASSWORD=...",
        ),
        (b"MYSQL_PASSWORD=a\x1bb\n", "line 1 holds control characters"),
    ],
)
def test_an_unusable_credentials_file_is_one_error_naming_it(
    tmp_path: Path, content: bytes, why: str
) -> None:
    path = tmp_path / "apl.env"
    path.write_bytes(content)
    with pytest.raises(StackError) as raised:
        credentials.load_credentials({}, path)
    assert raised.value.problem == f"{path} is not a usable credentials file: {why}"
    assert "restore it from a backup" in raised.value.fix
    assert path.read_bytes() == content  # never rewritten


def test_an_unreadable_credentials_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "apl.env"
    path.mkdir()  # root reads any file; a folder cannot be read as one by anybody
    with pytest.raises(StackError) as raised:
        credentials.load_credentials({}, path)
    assert (
        raised.value.problem == f"{path} is not a usable credentials file: it cannot be read (Is a directory)"
    )


def test_commands_that_need_no_password_get_the_problem_instead_of_an_error(tmp_path: Path) -> None:
    path = tmp_path / "apl.env"
    path.write_bytes(b"\xff")
    loaded = credentials.load_credentials({}, path, generate=False)
    assert loaded.problem is not None and loaded.problem.problem.startswith(f"{path} is not a usable")
    assert loaded.credentials.password == "" and loaded.file_text == ""


def test_generated_passwords_are_stored_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / ".apl" / "apl.env"
    loaded = credentials.load_credentials({}, path)
    assert loaded.generated == ("MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD") and not path.exists()
    credentials.store(path, loaded)
    assert credentials.read_file(path) == {
        "MYSQL_ROOT_PASSWORD": loaded.credentials.root_password,
        "MYSQL_PASSWORD": loaded.credentials.password,
    }
    assert "***" in repr(loaded.credentials) and loaded.credentials.password not in repr(loaded)


def read_within(path: Path, seconds: float = 5) -> list[object]:
    """Read ``path`` as a credentials file in a thread; what it returned or raised, if it ended in time."""
    ended: list[object] = []

    def read() -> None:
        try:
            ended.append(credentials.read_file(path))
        except StackError as error:
            ended.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(seconds)
    return ended


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_credentials_path_that_is_no_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "apl.env"
    if kind == "fifo":
        os.mkfifo(target, 0o600)  # a plain read would block every command until a writer came
    else:
        target.symlink_to("/dev/zero")  # a plain read would never end
    ended = read_within(target)
    assert ended, f"reading a {kind} did not end"
    assert isinstance(ended[0], StackError)
    assert "is not a usable credentials file: it is not a regular file" in ended[0].problem


def test_a_huge_credentials_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "apl.env"
    target.write_text("# padding\n" * 10_000)
    (ended,) = read_within(target)
    assert isinstance(ended, StackError) and "it is larger than" in ended.problem


def test_a_byte_order_mark_from_an_editor_does_not_hide_the_first_key(tmp_path: Path) -> None:
    target = tmp_path / "apl.env"
    target.write_bytes(b"\xef\xbb\xbfMYSQL_ROOT_PASSWORD=r00t\r\nMYSQL_PASSWORD=us3r\r\n")
    assert credentials.read_file(target) == {"MYSQL_ROOT_PASSWORD": "r00t", "MYSQL_PASSWORD": "us3r"}
