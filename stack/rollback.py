"""What one ``up`` changed, so that a failure can undo it and say honestly what it could not undo."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from . import engine
from .cleanup import sigint_deferred, sigint_ignored
from .errors import INTERRUPTED, StackError


@dataclass(frozen=True)
class Step:
    """One change to undo (or finish), what it concerns, and the command that does it by hand."""

    what: str  # e.g. "container apl-app"
    run: Callable[[], object]
    by_hand: str  # e.g. "docker rm -f apl-app"


@dataclass
class Journal:
    """Undo steps for a failed run, and finishing steps (removing what was replaced) for a good one."""

    undo: list[Step] = field(default_factory=list)
    finish: list[Step] = field(default_factory=list)

    def change(self, what: str) -> AbstractContextManager[None]:
        """Make a change and record its undo as one step: a Ctrl-C meanwhile counts once both are done."""
        return sigint_deferred(f"interrupted: finishing {what} first, then undoing this run")

    def on_failure(self, what: str, run: Callable[[], object], by_hand: str) -> None:
        """Record how to reverse a change if the run fails."""
        self.undo.append(Step(what, run, by_hand))

    def on_success(self, what: str, run: Callable[[], object], by_hand: str) -> None:
        """Record a step to take once the run has succeeded."""
        self.finish.append(Step(what, run, by_hand))

    def roll_back(self) -> list[str]:
        """Undo every change, newest first, even if Ctrl-C is pressed again; return what failed."""
        with sigint_ignored():
            return _run_all(reversed(self.undo))

    def complete(self) -> list[str]:
        """Take the finishing steps, even if Ctrl-C is pressed now: the stack is up; return what failed."""
        with sigint_ignored():
            return _run_all(self.finish)


def _run_all(steps: Iterable[Step]) -> list[str]:
    failed, gone = [], None
    for step in steps:
        if gone:
            # Each further request would wait as long, with Ctrl-C ignored: listed, not tried.
            failed.append(f"{step.what} (not tried: the engine {gone}): {step.by_hand}")
            continue
        try:
            step.run()
        except Exception as error:  # one failed step stops no other (but a gone engine); each is reported
            gone = engine.no_answer(error)
            failed.append(
                f"{step.what} ({f'the engine {gone}' if gone else _first_line(error)}): {step.by_hand}"
            )
    return failed


def failure(error: BaseException, left: list[str]) -> BaseException:
    """The error to report for a run that failed with ``error`` and was rolled back, leaving ``left``.

    With nothing left it is ``error`` itself (an interruption becomes the "as it was" message).
    """
    if isinstance(error, KeyboardInterrupt):
        code = getattr(error, "exit_code", INTERRUPTED)  # 143 for SIGTERM, as a shell would say
        if not left:
            return StackError("interrupted; the stack is as it was before this run", exit_code=code)
        return StackError(
            "interrupted; undoing this run failed, so these are left:",
            "remove them by hand as shown, or run `python orchestrate.py down`",
            details=_listing(left),
            exit_code=code,
        )
    if not isinstance(error, StackError):
        error = engine.lost(error) or error
    if not left:
        return error
    if not isinstance(error, StackError):
        error = StackError(f"{type(error).__name__}: {_first_line(error)}")
    details = "\n".join(part for part in (error.details, _undo_note(left)) if part)
    return StackError(error.problem, error.fix, details=details, exit_code=error.exit_code)


def leftovers_error(left: list[str]) -> StackError:
    """The error for a run that succeeded but could not remove what it replaced."""
    return StackError(
        "the stack is up, but removing what it replaced failed, so these are left:",
        "remove them by hand as shown",
        details=_listing(left),
    )


def _undo_note(left: list[str]) -> str:
    return "undoing this run failed, so these are left; remove them by hand:\n" + _listing(left)


def _listing(left: list[str]) -> str:
    return "\n".join(f"  {line}" for line in left)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "explanation", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
