"""The project lock: a second holder waits, saying so once, and gets the lock when the first lets go."""

from __future__ import annotations

import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from stack import lock
from stack.errors import StackError
from stack.waiting import wait_for

pytestmark = pytest.mark.unit


def test_a_second_command_waits_for_the_first_and_says_who_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "engine-demo.lock"
    said: list[str] = []
    order: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with lock.project_lock(path, "demo", "up", said.append):
            first_in.set()
            wait_for(lambda: said, timeout=30)  # holds the lock until the second says it waits
            order.append("first done")

    holder = threading.Thread(target=first)
    holder.start()
    assert first_in.wait(timeout=30)
    # The flock is per open file: a second open in this process contends exactly as another process would.
    with lock.project_lock(path, "demo", "down", said.append):
        order.append("second in")
    holder.join(timeout=30)
    assert order == ["first done", "second in"]
    assert len(said) == 1 and said[0].startswith("waiting: orchestrate.py up (pid ")
    assert said[0].endswith("is working on project demo")


def test_a_holder_that_has_not_written_its_name_yet_is_still_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The holder takes the lock, then writes who it is: a second command may read in between.
    path = tmp_path / "engine-demo.lock"
    holder = os.open(path, os.O_RDWR | os.O_CREAT)
    assert lock._try_lock(holder)
    real_pread, reads = os.pread, []

    def read_in_between(fd: int, size: int, offset: int) -> bytes:
        reads.append(fd)
        if len(reads) == 1:
            os.pwrite(holder, b"orchestrate.py up (pid 42)\n", 0)
            return b""  # what was there a moment before the holder wrote
        return real_pread(fd, size, offset)

    monkeypatch.setattr(lock.os, "pread", read_in_between)
    said: list[str] = []

    def waiting(notice: str) -> None:
        said.append(notice)
        os.close(holder)  # the first command ends: the lock is free

    with lock.project_lock(path, "demo", "down", waiting):
        pass
    assert said == ["waiting: orchestrate.py up (pid 42) is working on project demo"]
    assert len(reads) >= 2


def test_a_lock_held_too_long_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "engine-demo.lock"
    monkeypatch.setattr(lock, "LOCK_DEADLINE", 0.2)

    def second() -> None:
        with lock.project_lock(path, "demo", "down", lambda _: None):
            pass  # never reached

    with lock.project_lock(path, "demo", "up", lambda _: None), pytest.raises(StackError) as raised:
        second()
    assert "has been working on project demo for over 0.2s" in raised.value.problem
    assert raised.value.fix


def test_lock_files_are_per_engine_and_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    one, two = lock.lock_path("aaa", "demo"), lock.lock_path("bbb", "demo")
    assert one != two and one.parent == two.parent and one.parent.parent == tmp_path
    assert one.parent.stat().st_mode & 0o777 == 0o700


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder of its own, standing in for /tmp."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


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


class GoneEngine:
    """An engine that went away mid-command: every request fails to connect (as docker-py lets through).

    The shared engine cannot be stopped for a test; this stands for it where only the error matters.
    """

    class containers:  # noqa: N801 - the attribute docker-py's client has
        @staticmethod
        def get(_name: str) -> None:
            raise requests.ConnectionError("('Connection aborted.', ConnectionRefusedError(111))")


def test_an_engine_gone_while_the_lock_is_held_leaves_the_commands_own_error() -> None:
    # `up` reports what it could not undo; removing the lock on the way out must not replace that.
    own = StackError("the Docker engine could not be reached", details="  container p-mysql: docker rm -f 1")
    with pytest.raises(StackError) as raised, contextmanager(lock._held)(GoneEngine(), "p-apl-lock"):
        raise own
    assert raised.value is own


def test_an_engine_gone_after_a_good_command_is_still_said() -> None:
    with pytest.raises(requests.ConnectionError), contextmanager(lock._held)(GoneEngine(), "p-apl-lock"):
        pass


class LockContainer:
    """The engine-side lock's container, recording how it is removed."""

    def __init__(self) -> None:
        self.removed_with: dict[str, bool] | None = None
        self.containers = self

    def get(self, _name: str) -> LockContainer:
        return self

    def remove(self, **options: bool) -> None:
        self.removed_with = options


def test_releasing_the_engine_side_lock_removes_its_anonymous_volume() -> None:
    # The lock is a container of the DB image, whose VOLUME gives it an anonymous volume that the
    # engine keeps unless asked: one per command would pile up on the engine.
    engine = LockContainer()
    with contextmanager(lock._held)(engine, "p-apl-lock"):
        pass
    assert engine.removed_with == {"force": True, "v": True}
