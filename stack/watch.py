"""`watch`: follow the build context and bring each change into the running stack.

An app file is copied into the running container and gunicorn reloaded (``sync``): no request
fails. What the image installs is rebuilt and the app replaced, as `up` does. A DB init script
is explained, not run. One progress line per event; Ctrl-C stops watching, the stack runs on.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from docker.errors import DockerException
from docker.models.containers import Container

from . import changes, readiness, sync
from .changes import Changes
from .cleanup import sigint_deferred
from .errors import INTERRUPTED, StackError, command_line
from .load_check import LoadChecker
from .runner import Runner
from .waiting import WaitTimeout, wait_for

POLL_INTERVAL = 0.05  # seconds between scans of the build context (a scan costs a few ms)
# An editor or `git checkout` writes several files in a burst: act once the scans agree again.
SETTLE_INTERVAL = 0.03
SETTLE_DEADLINE = 2.0
RELOAD_DEADLINE = 30.0  # seconds for the reloaded app to answer again
# How often, between changes, `watch` asks whether the stack still exists: a `down` elsewhere
# ends watching, rather than the next save bringing back a stack the user has just removed.
STACK_CHECK_INTERVAL = 1.0
TAKEN_DOWN = "the stack was taken down (`down` or its containers removed): stopped watching"
NOT_RUNNING = "the app container is not running"
REPLACE_NOTE = "requests fail for a moment, 0.4 s or more, while the new container takes over the port"
REPLACED = "the app is up again, replaced"
FINISHING = "Ctrl-C: finishing this change first, so the app keeps a whole set of files and workers"
# A change that fails while its files are saved anew (an editor or a slow disk may write a file in
# steps, and a scan can fall between them) is not reported: the newer save comes next.
SAVED_AGAIN = "saved again while it was brought in: the newer files come next"
DB_NOTE = (
    "the DB runs its init scripts only when its data volume is new, so the running database is "
    "unchanged; apply the change with `python orchestrate.py exec db` (SQL), or start afresh with "
    "`down --volumes` then `up` (which deletes every message)"
)


class _StackGone(Exception):
    """None of the stack's containers exists any more: a `down` elsewhere, so watching ends."""


class Watcher:
    """Follows one stack's build context for as long as ``watch`` runs."""

    def __init__(
        self,
        runner: Runner,
        locked: Callable[[], AbstractContextManager[object]],
        sync_locked: Callable[[], AbstractContextManager[object]],
        timeout: float,
    ):
        self.runner = runner
        self.progress = runner.progress
        # The project's locks, taken for each change, not while waiting: for a rebuild all of
        # them, as `up` takes them; for a sync the one that keeps `up` away meanwhile.
        self.locked, self.sync_locked = locked, sync_locked
        self.timeout = timeout
        build = runner.spec.app.build
        assert build is not None
        self.build = build
        self.stamps = changes.scan(build)
        self.good = self._current_app_files()  # the code the app serves, to put back if a change fails
        self.checker = LoadChecker(runner.client)
        self._app: Container | None = None
        self._next_stack_check = time.monotonic() + STACK_CHECK_INTERVAL

    def watch(self) -> None:
        """Act on every change until interrupted (Ctrl-C), which leaves the stack running."""
        app = self._running_app()
        if app is not None:
            # The checker's libraries load now, not at the first change; and the code in use loads.
            with contextlib.suppress(StackError):
                self.checker.check(app)
        self.progress.echo(f"watching {self.build.context} (Ctrl-C stops watching; the stack keeps running)")
        try:
            while True:
                found = wait_for(self._changes_while_up, timeout=math.inf, interval=POLL_INTERVAL)
                self.handle(found)
        except _StackGone:
            self.progress.echo(TAKEN_DOWN)
        except KeyboardInterrupt:
            self.progress.echo(
                "stopped watching; the stack is still running (`python orchestrate.py down` removes it)"
            )
        finally:
            self.checker.close()

    def _changes_while_up(self) -> Changes | None:
        """The next changes; _StackGone once none of the stack's containers exists any more."""
        if time.monotonic() >= self._next_stack_check:
            self._next_stack_check = time.monotonic() + STACK_CHECK_INTERVAL
            self._check_stack()
        return self._changes()

    def _check_stack(self) -> None:
        if not self.runner.resources.has_services():
            raise _StackGone

    def _changes(self) -> Changes | None:
        """The changes since the last scan, once the files have settled; None while there are none."""
        after = changes.scan(self.build)
        if after == self.stamps:
            return None
        deadline = time.monotonic() + SETTLE_DEADLINE
        while time.monotonic() < deadline:
            time.sleep(SETTLE_INTERVAL)
            again = changes.scan(self.build)
            if again == after:
                break
            after = again
        found, self.stamps = changes.compare(self.stamps, after), after
        return found or None

    def handle(self, found: Changes) -> None:
        """Bring one settled set of changes into the stack; a failure is reported and watching goes on."""
        self._check_stack()  # a `down` since the last check: a save must not bring the stack back
        try:
            if found.db:
                self.progress.update("Change", _label(found.db), "Not applied")
                self.progress.echo(f"   {DB_NOTE}")
            app = self._running_app()
            if found.rebuild or (found.app and app is None):
                self._replace(_label(found.rebuild) if found.rebuild else NOT_RUNNING)
            elif found.app and app is not None:
                try:
                    self._sync(app, found)
                except DockerException:
                    self._app = None  # replaced (an `up` elsewhere) or stopped behind our back? Look again.
                    now = self._running_app()
                    if now is None:
                        self._replace(NOT_RUNNING)
                    elif now.id != app.id:
                        self._sync(now, found)
                    else:
                        raise
        except (StackError, DockerException) as error:
            if isinstance(error, StackError) and error.exit_code == INTERRUPTED:
                print(f"error: {_first_lines(error)}", file=sys.stderr)
                raise KeyboardInterrupt from None  # Ctrl-C during a rebuild: `up` undid it; stop watching
            if self._saved_again(found):
                self.progress.echo(f"   {SAVED_AGAIN}")
            else:  # said even with -q: the app keeps its last good code, and the user must know why
                print(f"error: {_first_lines(error)}", file=sys.stderr)
        self.progress.settle()

    def _saved_again(self, found: Changes) -> bool:
        """Whether a file of ``found`` differs from what the scan saw: the save was still being written."""
        now = changes.scan(self.build)
        return any(now.get(path) != self.stamps.get(path) for path in (*found.rebuild, *found.app))

    def _sync(self, app: Container, found: Changes) -> None:
        began = time.monotonic()
        label = _label(found.app)
        wanted = changes.read_files(self.build.context, found.app)
        # Cut short, a sync would leave files in the container that no worker loaded (and a
        # restart would load unchecked), or gunicorn with extra workers for good: Ctrl-C waits.
        with self.sync_locked(), sigint_deferred(FINISHING):
            sync.put_files(app, wanted)
            try:
                self.checker.check(app)
            except (StackError, DockerException):
                with contextlib.suppress(DockerException):
                    sync.put_files(app, {path: self.good.get(path) for path in wanted})
                self.progress.update("Change", label, "Saved again" if self._saved_again(found) else "Failed")
                raise
            serving = sync.reload(app, RELOAD_DEADLINE)
            self._wait_until_serving(app)
        self.good.update({path: body for path, body in wanted.items() if body is not None})
        for path in (p for p, body in wanted.items() if body is None):
            self.good.pop(path, None)
        # The time until the new code served; stopping the old workers after that is not counted.
        self.progress.update("Change", label, f"Reloaded ({serving - began:.2f} s)")

    def _wait_until_serving(self, app: Container) -> None:
        """Wait until the reloaded app answers; a master that gave up is an error with its last log lines."""

        def serving() -> bool:
            app.reload()
            if app.status != "running" or app.attrs.get("RestartCount", 0) > restarts:
                raise StackError(
                    f"gunicorn in container {app.name} stopped on the reload",
                    "read its last log lines below; fix the change, then run "
                    f"`{command_line(self.runner.spec.project, 'up')}`",
                    details=readiness.tail(app),
                )
            return readiness.app_answers(self.runner.readiness_url)

        app.reload()
        restarts = app.attrs.get("RestartCount", 0)
        try:
            wait_for(serving, timeout=RELOAD_DEADLINE, interval=readiness.POLL_INTERVAL)
        except WaitTimeout:
            raise StackError(
                f"the app did not answer within {RELOAD_DEADLINE:g}s of the reload",
                "read its log lines below",
                details=readiness.tail(app),
            ) from None

    def _replace(self, why: str) -> None:
        self._app = None
        with self.locked():
            self._check_stack()  # a `down` that held the locks until now
            self.progress.echo(f"{why}: rebuilding the image and replacing the app, as `up` does")
            self.progress.echo(f"   ({REPLACE_NOTE})")
            self.runner.up(build=True, timeout=self.timeout)
        self.good = self._current_app_files()
        self.progress.echo(f"{REPLACED}: {self.runner.url}")

    def _running_app(self) -> Container | None:
        """The running app container; looked up once, not on every change (an engine call costs time)."""
        if self._app is None:
            found = self.runner.resources.container("app", self.runner.spec.app.container_name)
            self._app = found if found is not None and found.status == "running" else None
        return self._app

    def _current_app_files(self) -> dict[str, changes.File | None]:
        synced = changes.compare({}, self.stamps).sync  # every regular app file a sync would copy
        return changes.read_files(self.build.context, synced)


def _label(paths: tuple[str, ...]) -> str:
    """One name for a set of files: the first, and how many more."""
    return changes.shown(paths[0]) + (f" +{len(paths) - 1}" if len(paths) > 1 else "")


def _first_lines(error: BaseException) -> str:
    if isinstance(error, StackError):
        return str(error)
    return str(getattr(error, "explanation", None) or error).strip() or type(error).__name__
