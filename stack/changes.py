"""What changed in the app's build context, and what each change means for the running stack.

`watch` polls the files the build sends (``.dockerignore`` applies, as for the build itself) by
their modification time and size: the standard library only, a scan of this repository costs
about 6 ms, and it behaves the same on every host and file system (inotify misses edits made
through some bind mounts and network shares).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .engine import context_paths
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

Stamp = tuple[int, int]  # (modification time in ns, size)


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
    """The stamp of every file in the build context."""
    stamps = {}
    for relative in context_paths(build):
        try:
            found = os.stat(build.context / relative)
        except FileNotFoundError:  # removed while the scan ran: the next scan sees it gone
            continue
        if not os.path.isdir(build.context / relative):
            stamps[relative] = (found.st_mtime_ns, found.st_size)
    return stamps


def compare(before: Mapping[str, Stamp], after: Mapping[str, Stamp]) -> Changes:
    """Sort the files that differ between two scans by what each needs."""
    changed = sorted(path for path in after if before.get(path) != after[path])
    removed = sorted(path for path in before if path not in after)
    return classify(changed, removed)


def classify(changed: Iterable[str], removed: Iterable[str] = ()) -> Changes:
    """What each changed or removed path (relative to the context, with ``/``) needs."""
    sync, gone, rebuild, db = [], [], [], []
    for path, was_removed in [*((p, False) for p in changed), *((p, True) for p in removed)]:
        if path.startswith(DB_DIR):
            db.append(path)
        elif path.startswith(APP_DIR) and path != APP_REQUIREMENTS and path not in MASTER_LOADED:
            (gone if was_removed else sync).append(path)
        else:  # the Dockerfile, gunicorn.conf.py, .dockerignore, the app's requirements
            rebuild.append(path)
    return Changes(tuple(sync), tuple(gone), tuple(rebuild), tuple(db))


def read_files(root: Path, paths: Iterable[str]) -> dict[str, bytes | None]:
    """The content of each path under ``root``; None for one that no longer exists."""
    contents: dict[str, bytes | None] = {}
    for path in paths:
        try:
            contents[path] = (root / path).read_bytes()
        except FileNotFoundError:
            contents[path] = None
    return contents
