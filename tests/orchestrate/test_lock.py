"""The lock folder lives in the shared temporary folder: only a private one of this user is used."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from stack import lock
from stack.errors import StackError

pytestmark = pytest.mark.unit


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder of its own, standing in for /tmp."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_the_lock_folder_is_made_private(tmp_root: Path) -> None:
    path = lock.lock_path("engine", "demo")
    assert path.parent == tmp_root / f"apl-locks-{os.getuid()}"
    assert path.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("kind", ["open to others", "symlink"])
def test_a_lock_folder_others_could_use_is_refused(tmp_root: Path, kind: str) -> None:
    folder = tmp_root / f"apl-locks-{os.getuid()}"
    if kind == "symlink":
        (tmp_root / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(tmp_root / "elsewhere")
    else:
        folder.mkdir()
        folder.chmod(0o777)  # as another user's folder of this name would let them in
    with pytest.raises(StackError) as raised:
        lock.lock_path("engine", "demo")
    assert (
        raised.value.problem
        == f"{folder} is not a private folder of this user, so its locks cannot be trusted"
    )
    assert f"rm -r {folder}" in raised.value.fix
