"""The one error type the command line turns into a short message and a non-zero exit."""

from __future__ import annotations

INTERRUPTED = 130  # the exit code for Ctrl-C (128 + SIGINT), as a shell gives it


class StackError(Exception):
    """A failure a user can act on: what went wrong, and how to fix it."""

    def __init__(self, problem: str, fix: str = "", details: str = "", exit_code: int = 1) -> None:
        super().__init__(problem)
        self.exit_code = exit_code
        self.problem = problem
        self.fix = fix
        # Extra context (a container's last log lines, a failing build step), shown after the fix.
        self.details = details

    def __str__(self) -> str:
        lines = [self.problem]
        if self.fix:
            lines.append(f"fix: {self.fix}")
        if self.details:
            lines.append(self.details)
        return "\n".join(lines)


def command_line(project: str, *args: str) -> str:
    """The orchestrate.py command a fix tells the user to run, for ``project`` (named even when it
    is the default, so the line is right whatever the user's environment says)."""
    return " ".join(("python orchestrate.py --project", project, *args))
