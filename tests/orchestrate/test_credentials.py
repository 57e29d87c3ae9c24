"""write_private: secrets reach only regular files, and only once those are private."""

from __future__ import annotations

import os
import stat
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
