"""One changing command at a time per project and engine.

On one host, a lock file per (engine, project) makes a second ``up`` or ``down`` wait for the
first, with a one-line notice. Commands from two hosts sharing a remote engine cannot see each
other's lock files; there the engine itself is the guard (``runner`` and ``containers``): a
network or container name taken at the same moment ends the later command with a clear error.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import docker

from .errors import StackError
from .waiting import WaitTimeout, wait_for

LOCK_DEADLINE = 600.0  # seconds a command waits for another one on the same project
LOCK_POLL = 0.1


def engine_id(client: docker.DockerClient) -> str:
    """A short, stable name for the engine ``client`` talks to, whichever address reaches it."""
    identity = client.info().get("ID") or client.api.base_url
    return hashlib.sha256(identity.encode()).hexdigest()[:12]


def lock_path(engine: str, project: str) -> Path:
    """The lock file for ``project`` on engine ``engine``: shared by every checkout of this user."""
    folder = Path(tempfile.gettempdir()) / f"apl-locks-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    # The temporary folder is everyone's: a folder of this name made by another user (or a symlink)
    # would let them hold every lock, and so stop every `up` and `down` of this user.
    found = folder.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise StackError(
            f"{folder} is not a private folder of this user, so its locks cannot be trusted",
            f"remove it (rm -r {folder}); the next command makes it again, mode 0700",
        )
    return folder / f"{engine}-{project}.lock"


@contextmanager
def project_lock(path: Path, project: str, command: str, notice: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock at ``path`` while the block runs; wait (saying so once) while another holds it.

    The kernel drops the lock when its holder exits, however it exits: no stale lock is left.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        if not _try_lock(fd):
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another orchestrate.py"
            notice(f"waiting: {holder} is working on project {project}")
            try:
                wait_for(lambda: _try_lock(fd), timeout=LOCK_DEADLINE, interval=LOCK_POLL)
            except WaitTimeout:
                raise StackError(
                    f"{holder} has been working on project {project} for over {LOCK_DEADLINE:g}s",
                    "wait until it finishes, or stop it (Ctrl-C), then run the command again",
                ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"orchestrate.py {command} (pid {os.getpid()})\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
