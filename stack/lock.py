"""One changing command at a time per project and engine, on one host or several.

Two locks, taken in this order, each making a later command wait with a one-line notice:

- a lock file per (engine, project) on this host, which the kernel drops when its holder
  exits, however it exits;
- a lock on the engine itself, for commands from other hosts (or users) sharing it: a
  container that is created but never started, named after the project. Container names are
  unique on every engine, atomically, so only one command can create it. Its holder removes
  it when done; one left by a holder that died on this host is found stale and removed.

Should both be bypassed (an engine-side lock removed by hand), the engine still refuses a
second network or container of one name, and the later command stops with a clear error.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound
from docker.models.containers import Container

from . import engine
from .errors import StackError
from .resources import existing, gone
from .spec import LABEL_PROJECT, LABEL_ROLE, StackSpec, resource_name
from .waiting import WaitTimeout, wait_for

LABEL_HOLDER = "com.apl.lock-holder"  # "HOST PID COMMAND" of the engine-side lock's holder

LOCK_DEADLINE = 600.0  # seconds a command waits for another one on the same project
LOCK_POLL = 0.1
LOOKUP_DEADLINE = 2.0  # seconds to find who holds a lock whose name was just taken


def engine_id(client: docker.DockerClient) -> str:
    """A short, stable name for the engine ``client`` talks to, whichever address reaches it."""
    info = engine.info(client)
    # Not info's "ID": Podman makes up a new one for every request. Host name and data root
    # name one engine on every engine, whichever address (socket, TCP) reaches it.
    identity = (
        f"{info.get('Name', '')}:{info.get('DockerRootDir', '')}" if info.get("Name") else client.api.base_url
    )
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
def project_locks(
    client: docker.DockerClient, spec: StackSpec, command: str, notice: Callable[[str], None]
) -> Iterator[None]:
    """Hold this host's lock, then the engine's, for ``spec``'s project while the block runs."""
    path = lock_path(engine_id(client), spec.project)
    with project_lock(path, spec.project, command, notice), engine_lock(client, spec, command, notice):
        yield


@contextmanager
def project_lock(path: Path, project: str, command: str, notice: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock at ``path`` while the block runs; wait (saying so once) while another holds it.

    The kernel drops the lock when its holder exits, however it exits: no stale lock is left.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        holder = _locked_or_holder(fd, "another orchestrate.py")
        if holder is not None:
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


@contextmanager
def sole_watch(client: docker.DockerClient, project: str) -> Iterator[None]:
    """Be the one `watch` of ``project`` on this host and engine while the block runs, or a StackError.

    Two would each copy and reload every change, and from two checkouts copy each its own files
    over the other's. Unlike the project lock, this one is never waited for: it is held for hours.
    """
    path = lock_path(engine_id(client), project)
    fd = os.open(path.with_name(f"{path.stem}.watch"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        holder = _locked_or_holder(fd, "another orchestrate.py watch")
        if holder is not None:
            raise StackError(
                f"{holder} already watches project {project}",
                "use that one, or stop it (Ctrl-C) before starting another",
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"orchestrate.py watch (pid {os.getpid()})\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _locked_or_holder(fd: int, unnamed: str) -> str | None:
    """None once the lock on ``fd`` is ours; else who holds it, in its own words (``unnamed`` if it
    never wrote them). A holder that has only just taken the lock has not written yet: read again."""

    def ours_or_named() -> bool | str | None:
        if _try_lock(fd):
            return True
        return os.pread(fd, 200, 0).decode(errors="replace").strip() or None

    try:
        found = wait_for(ours_or_named, timeout=LOOKUP_DEADLINE, interval=0.01)
    except WaitTimeout:
        return unnamed
    return None if found is True else str(found)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def engine_lock(
    client: docker.DockerClient, spec: StackSpec, command: str, notice: Callable[[str], None]
) -> Iterator[None]:
    """Hold the engine-side lock of ``spec``'s project while the block runs.

    The lock is a container, so it needs a local image: the DB's or the app's. With neither
    (a project never started here, before its first pull) there is nothing on the engine to
    guard yet, and the engine's own refusals stand in.
    """
    image = next((name for name in (spec.db.image, spec.app.image) if _present(client, name)), None)
    if image is None:
        yield
        return
    name = resource_name(spec.project, "apl-lock")
    holder = f"{socket.gethostname()} {os.getpid()} {command}"
    labels = {LABEL_PROJECT: spec.project, LABEL_ROLE: "lock", LABEL_HOLDER: holder}

    def take() -> bool:
        try:
            client.containers.create(image, name=name, labels=labels, network_disabled=True)
        except APIError as error:
            if not engine.name_in_use(error):  # the name is taken: the lock is held
                raise
            _remove_if_stale(client, name)
            return False
        return True

    def holder_or_taken() -> str | bool:
        # The engine reserves the name before the container can be looked up: retry briefly.
        return _holder(client, name) or take()

    try:
        taken = take()
    except APIError:
        # An engine that cannot make the lock container at all (an API it lacks, say): go on
        # without it; its refusals of a second network or container of one name still guard.
        yield
        return
    if not taken:
        try:
            found = wait_for(holder_or_taken, timeout=LOOKUP_DEADLINE, interval=0.02)
        except WaitTimeout:
            found = "another orchestrate.py"
        if found is True:
            yield from _held(client, name)
            return
        other = found
        notice(f"waiting: {other} is working on project {spec.project}")
        try:
            wait_for(take, timeout=LOCK_DEADLINE, interval=LOCK_POLL)
        except WaitTimeout:
            raise StackError(
                f"{other} has been working on project {spec.project} for over {LOCK_DEADLINE:g}s",
                f"wait until it finishes; if it no longer runs, remove its lock: docker rm {name}",
            ) from None
    yield from _held(client, name)


def _held(client: docker.DockerClient, name: str) -> Iterator[None]:
    """Yield once with the engine-side lock ``name`` held; remove it afterwards, however the block ends."""
    try:
        yield
    except BaseException:
        # The block's own error is the one to report (an engine gone mid-`up` comes with the list of
        # what is left): failing to remove the lock must not replace it. A lock left so is found
        # stale and taken over by the next command on this host.
        with contextlib.suppress(DockerException, requests.RequestException):
            _release(client, name)
        raise
    _release(client, name)


def _release(client: docker.DockerClient, name: str) -> None:
    lock = existing(client, name)
    if lock is not None:
        _remove(lock)


def _remove(lock: Container) -> None:
    try:
        lock.remove(force=True, v=True)
    except APIError as error:
        if not gone(error):
            raise


def _present(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
    except (ImageNotFound, APIError):
        return False
    return True


def _holder(client: docker.DockerClient, name: str) -> str | None:
    """Who holds the engine-side lock, as the notice names them; None if it is not there (yet)."""
    lock = existing(client, name)
    if lock is None:
        return None
    host, pid, command = (lock.labels.get(LABEL_HOLDER) or "? ? another command").split(" ", 2)
    return f"orchestrate.py {command} (pid {pid} on {host})"


def _remove_if_stale(client: docker.DockerClient, name: str) -> None:
    """Remove a lock whose holder died on this host: no process of its pid runs here any more."""
    lock = existing(client, name)
    if lock is None:
        return
    try:
        host, pid, _ = lock.labels[LABEL_HOLDER].split(" ", 2)
        stale = host == socket.gethostname() and not _alive(int(pid))
    except (KeyError, ValueError):
        return
    if stale:
        _remove(lock)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
