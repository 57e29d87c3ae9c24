"""What changed in the app's build context, and what each change means for the running stack.

`watch` polls the files the build sends (``.dockerignore`` applies, as for the build itself) by
their modification time and size: the standard library only, a scan of this repository costs
about 6 ms, and it behaves the same on every host and file system (inotify misses edits made
through some bind mounts and network shares).

Only regular files are copied by content. A symbolic link (to a file outside the tree, to
/etc/passwd, to /dev/zero), a FIFO or a device is sent to the build as what it is, never its
target's bytes, so a change to one rebuilds the image as `up` would; nothing is read through it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .engine import context_paths
from .errors import StackError
from .spec import BuildSpec

# Where the app's code lives in the build context, and what of it the image installs.
APP_DIR = "app/"
DB_DIR = "db/"
APP_REQUIREMENTS = "app/requirements.txt"
# What the image installs besides the app's code (and the Dockerfile): a change rebuilds it.
IMAGE_INPUTS = (APP_REQUIREMENTS, "gunicorn.conf.py", ".dockerignore")
# Loaded by gunicorn's master (gunicorn.conf.py imports app.config, and with it the package's
# __init__): a reload forks new workers from that master, so these keep their old code until
# the container is replaced. Every other module is imported by the workers (app/__init__.py).
MASTER_LOADED = frozenset({"app/__init__.py", "app/config.py"})

# (modification time in ns, size, inode, file type: stat.S_IFMT) of the path itself. The inode tells
# apart two saves by rename (a new file each) that land in one clock tick with the same size.
Stamp = tuple[int, int, int, int]


@dataclass(frozen=True)
class File:
    """A regular file's content and permission bits, read together (the build gives it both)."""

    body: bytes
    mode: int


@dataclass(frozen=True)
class Changes:
    """Files changed between two scans, by what they need: a sync, a rebuild, or a word about the DB."""

    sync: tuple[str, ...] = ()  # app files copied into the running container, then a reload
    removed: tuple[str, ...] = ()  # app files deleted since the last scan
    rebuild: tuple[str, ...] = ()  # what the image installs: the image is rebuilt and the app replaced
    db: tuple[str, ...] = ()  # init scripts: run only on a fresh data volume

    def __bool__(self) -> bool:
        return bool(self.sync or self.removed or self.rebuild or self.db)

    @property
    def app(self) -> tuple[str, ...]:
        """The app files a sync handles, changed or removed."""
        return (*self.sync, *self.removed)


def scan(build: BuildSpec) -> dict[str, Stamp]:
    """The stamp of every file in the build context; a link's own, not its target's."""
    stamps = {}
    for relative in context_paths(build):
        try:
            found = os.lstat(build.context / relative)
        except FileNotFoundError:  # removed while the scan ran: the next scan sees it gone
            continue
        if not stat.S_ISDIR(found.st_mode):
            stamps[relative] = (found.st_mtime_ns, found.st_size, found.st_ino, stat.S_IFMT(found.st_mode))
    return stamps


def compare(before: Mapping[str, Stamp], after: Mapping[str, Stamp]) -> Changes:
    """Sort the files that differ between two scans by what each needs."""
    changed = sorted(path for path in after if before.get(path) != after[path])
    removed = sorted(path for path in before if path not in after)
    special = {path for path in changed if not stat.S_ISREG(after[path][3])}
    return classify(changed, removed, special)


def classify(changed: Iterable[str], removed: Iterable[str] = (), special: Iterable[str] = ()) -> Changes:
    """What each changed or removed path (relative to the context, with ``/``) needs.

    ``special`` paths are no regular files (links, FIFOs, devices): only a build copies those.
    """
    sync, gone, rebuild, db = [], [], [], []
    not_copied = set(special)
    for path, was_removed in [*((p, False) for p in changed), *((p, True) for p in removed)]:
        if path.startswith(DB_DIR):
            db.append(path)
        elif (
            path.startswith(APP_DIR)
            and path != APP_REQUIREMENTS
            and path not in MASTER_LOADED
            and path not in not_copied
        ):
            (gone if was_removed else sync).append(path)
        else:  # the Dockerfile, gunicorn.conf.py, .dockerignore, the app's requirements, a link
            rebuild.append(path)
    return Changes(tuple(sync), tuple(gone), tuple(rebuild), tuple(db))


def read_files(root: Path, paths: Iterable[str]) -> dict[str, File | None]:
    """The content and mode of each path under ``root``; None for one that no longer exists.

    A path that is not (or no longer) a regular file, or cannot be read, is a StackError: it is
    never followed (a link) nor waited on (a FIFO). Content and mode come from one open file, so
    a file deleted or replaced meanwhile is never half read.
    """
    contents: dict[str, File | None] = {}
    for path in paths:
        try:
            contents[path] = _read_regular(root / path)
        except FileNotFoundError:
            contents[path] = None
        except OSError as error:
            raise StackError(
                f"cannot copy {shown(path)} into the app: {error.strerror or error}",
                "make it a readable regular file, or remove it; `watch` tries again at the next save",
            ) from None
    return contents


def shown(path: str) -> str:
    """``path`` as one printable line: bytes that are not UTF-8 as ``\\xff``, a newline as ``\\n``."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _read_regular(path: Path) -> File:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW met a link
            raise OSError(errno.EINVAL, "a symbolic link, copied only by a build") from None
        raise
    with os.fdopen(descriptor, "rb") as opened:
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO or a device), copied only by a build")
        return File(opened.read(), found.st_mode & 0o777)
