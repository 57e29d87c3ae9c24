"""Changed app files into the running app container, checked, then a graceful reload of gunicorn.

gunicorn reloads on SIGHUP: its master keeps the listening socket, starts new workers (which
import the app anew from disk) and lets the old ones finish their requests, so no request
fails. New code is checked first (``load_check``): files that do not load are taken back out.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path

from docker.models.containers import Container

from .errors import StackError

# The image's WORKDIR (the Dockerfile), where `COPY app/ ./app/` put the code.
WORKDIR = "/srv/apl"


def put_files(container: Container, files: Mapping[str, bytes | None], modes: Mapping[str, int]) -> None:
    """Write ``files`` (path relative to the context: content, or None to delete) into the container.

    The app runs as an unprivileged user and its files belong to root, read-only to it, as the
    image's COPY left them; that user could not rewrite them, and should not be able to. The
    engine's archive API writes as root whatever user the container runs, so the files keep the
    owner and modes the image gives them. Deleting needs a process: it runs as root too.
    """
    present = {path: content for path, content in files.items() if content is not None}
    if present:
        container.put_archive(WORKDIR, _tar(present, modes))
    gone = [path for path, content in files.items() if content is None]
    if gone:
        result = container.exec_run(["rm", "-f", "--", *gone], user="0", workdir=WORKDIR)
        if result.exit_code != 0:
            raise StackError(
                f"could not delete {', '.join(gone)} in container {container.name}: "
                f"{result.output.decode(errors='replace').strip()}",
                "run `python orchestrate.py up` to rebuild the app from the files as they are",
            )


def reload(container: Container) -> None:
    """Ask gunicorn (PID 1) for new workers with the code now on disk; the old ones finish their requests."""
    container.kill(signal="SIGHUP")


def synced_files(container: Container) -> list[str]:
    """The app's files in the container that differ from its image (written by `watch`)."""
    changes = container.diff() or []
    paths = sorted(c["Path"] for c in changes if c["Path"].startswith(f"{WORKDIR}/app/"))
    # Folders show up as changed when a file in them is: count only the files.
    return [p for p in paths if not any(other.startswith(p + "/") for other in paths)]


def file_mode(root: Path, path: str) -> int:
    """The permission bits the build would give ``path``: those it has in the context."""
    return (root / path).stat().st_mode & 0o777


def _tar(files: Mapping[str, bytes], modes: Mapping[str, int]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, content in files.items():
            member = tarfile.TarInfo(path)
            member.size, member.mode, member.mtime = len(content), modes.get(path, 0o644), int(time.time())
            member.uid = member.gid = 0
            archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue()
