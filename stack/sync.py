"""Changed app files into the running app container, checked, then new gunicorn workers for them.

gunicorn's master keeps the listening socket; new workers (which import the app anew from disk)
start before the old ones stop, and the old ones finish their requests, so no request fails.
New code is checked first (``load_check``): files that do not load are taken back out.
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from collections.abc import Mapping

from docker.errors import APIError
from docker.models.containers import Container

from .changes import File, shown
from .errors import StackError, command_line
from .spec import APP_USER, LABEL_PROJECT
from .waiting import WaitTimeout, wait_for

# The line app/__init__.py logs once a worker has built the app. Written out, not imported: the
# host must not load the app (and Flask) to run a command; a unit test checks the two agree.
LOADED = "apl: app loaded"
# The image's WORKDIR (the Dockerfile), where `COPY app/ ./app/` put the code.
WORKDIR = "/srv/apl"


def put_files(container: Container, files: Mapping[str, File | None]) -> None:
    """Write ``files`` (path relative to the context: content and mode, or None to delete) into the container.

    The app runs as an unprivileged user and its files belong to root, read-only to it, as the
    image's COPY left them; that user could not rewrite them, and should not be able to. The
    engine's archive API writes as root whatever user the container runs, so the files keep the
    owner and modes the image gives them. Deleting needs a process: it runs as root too.
    """
    present = {path: content for path, content in files.items() if content is not None}
    if present:
        container.put_archive(WORKDIR, _tar(present))
    gone = [path for path, content in files.items() if content is None]
    if gone:
        names = [os.fsencode(path).hex() for path in gone]
        result = container.exec_run(["python", "-c", _DELETE, *names], user="0", workdir=WORKDIR)
        if result.exit_code != 0:
            said = result.output.decode(errors="replace").strip().splitlines()
            raise StackError(
                f"could not delete {', '.join(map(shown, gone))} in container {container.name}: "
                f"{said[-1] if said else f'exit code {result.exit_code}'}",
                f"run `{command_line(container.labels.get(LABEL_PROJECT, ''), 'up')}` to rebuild the app "
                "from the files as they are",
            )


def reload(container: Container, deadline: float) -> float:
    """New gunicorn workers with the code now on disk, then the old ones stop: no request waits or fails.

    gunicorn's own SIGHUP stops the old workers at once, while the new ones are still importing
    the app, so for that long (a second and more on a busy machine) nobody accepts connections.
    Instead, each SIGTTIN to the master (PID 1) adds a worker, forked from it, which imports the
    app from disk; once every new one has said it loaded the app (app/__init__.py), each SIGTTOU
    stops the oldest worker, which finishes its requests first. Signals are sent one at a time,
    each seen to take effect: two of one kind sent at once can arrive as one. Returns when
    (``time.monotonic()``) the new workers had all loaded the app: from then on they serve.
    """
    old = worker_pids(container)
    since, added = time.time(), 0
    try:
        for _ in old:
            container.kill(signal="SIGTTIN")
            added += 1
            wanted = len(old) + added
            wait_for(lambda n=wanted: len(worker_pids(container)) >= n, timeout=deadline, interval=0.02)
        wait_for(lambda: _loaded_since(container, since) >= len(old), timeout=deadline, interval=0.02)
        loaded = time.monotonic()
    except WaitTimeout:
        raise StackError(
            f"gunicorn's new workers did not report the app loaded within {deadline:g}s",
            "read `python orchestrate.py logs app`; `up` rebuilds the app from the files as they are",
        ) from None
    finally:
        # As many old workers go as new ones came, the oldest first, each finishing its requests.
        for stopped in range(1, added + 1):
            container.kill(signal="SIGTTOU")
            wait_for(
                lambda n=stopped: len(old & worker_pids(container)) <= len(old) - n,
                timeout=deadline,
                interval=0.02,
            )
    return loaded


def worker_pids(container: Container) -> set[str]:
    """The process ids of gunicorn's workers in ``container``: the master's children."""
    gunicorn = _gunicorn_processes(container)  # (pid, parent's pid)
    pids = {pid for pid, _ in gunicorn}
    masters = {pid for pid, ppid in gunicorn if ppid not in pids}
    return {pid for pid, ppid in gunicorn if ppid in masters}


def _gunicorn_processes(container: Container) -> list[tuple[str, str]]:
    """(pid, ppid) of every gunicorn process, as the engine's `top` lists them.

    Podman 4.3's Docker API answers `top` with an empty body; there the container's own /proc
    is read instead, through an exec (slower: about 0.1 s against Docker's `top` of 0.02 s).
    """
    try:
        listing = container.top()
    except (APIError, ValueError):  # ValueError: the empty body is no JSON
        listed = container.exec_run(["python", "-c", _LIST_GUNICORN], user=APP_USER).output.decode()
        return [tuple(line.split()) for line in listed.splitlines() if len(line.split()) == 2]  # type: ignore[misc]
    titles = listing["Titles"]
    pid, ppid, command = titles.index("PID"), titles.index("PPID"), len(titles) - 1  # CMD or COMMAND
    return [(row[pid], row[ppid]) for row in listing["Processes"] or [] if "gunicorn" in row[command]]


# Deletes the files named, each given as the hex of its bytes: the engine's API carries a command
# as text, and a file name need not be UTF-8 (`rm` would be handed another name, and -f hide it).
_DELETE = """
import os, sys
for name in sys.argv[1:]:
    try:
        os.unlink(bytes.fromhex(name))
    except FileNotFoundError:
        pass
"""

# Prints "PID PPID" for each gunicorn process in the container (itself excepted: its own
# command line names gunicorn too).
_LIST_GUNICORN = """
import os
for pid in os.listdir("/proc"):
    if pid.isdigit() and pid != str(os.getpid()):
        try:
            stat, command = open(f"/proc/{pid}/stat").read(), open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"gunicorn" in command:
            print(pid, stat.rsplit(")", 1)[1].split()[1])
"""


def _loaded_since(container: Container, since: float) -> int:
    return container.logs(since=since).decode(errors="replace").count(LOADED)


def synced_files(container: Container) -> list[str]:
    """The app's files in the container that differ from its image (written by `watch`)."""
    changes = container.diff() or []
    paths = sorted(c["Path"] for c in changes if c["Path"].startswith(f"{WORKDIR}/app/"))
    # Folders show up as changed when a file in them is: count only the files.
    return [p for p in paths if not any(other.startswith(p + "/") for other in paths)]


def _tar(files: Mapping[str, File]) -> bytes:
    """The files as a tar archive; each keeps the permission bits it has in the context, as a build does."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, content in files.items():
            member = tarfile.TarInfo(path)
            member.size, member.mode, member.mtime = len(content.body), content.mode, int(time.time())
            member.uid = member.gid = 0
            archive.addfile(member, io.BytesIO(content.body))
    return buffer.getvalue()
