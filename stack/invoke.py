"""Running ``orchestrate.py`` as its own process, as a user does: the one way the tests and bench do it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from .settings import REPO_ROOT

# What orchestrate.py needs to build and run the stack; nothing else of the working tree is copied.
TREE_PATHS = ("orchestrate.py", "stack", "app", "db", "Dockerfile", ".dockerignore", "gunicorn.conf.py")


def copy_tree(into: Path, root: Path = REPO_ROOT) -> Path:
    """Copy what the stack is built and run from (TREE_PATHS) from ``root`` into ``into``, a new
    folder: a stack of its own to edit and run ``orchestrate.py`` from, leaving ``root`` alone."""
    into.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in TREE_PATHS:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=skip)
        elif source.exists():
            shutil.copy2(source, into / name)
    return into


def orchestrate_command(*args: str, root: Path = REPO_ROOT) -> list[str]:
    """The command line that runs ``orchestrate.py`` from ``root`` with ``args``."""
    return [sys.executable, str(root / "orchestrate.py"), *args]


def run_orchestrate(
    *args: str, env: Mapping[str, str] | None = None, root: Path = REPO_ROOT, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``orchestrate.py`` to the end; ``env`` adds to (or, with "", blanks) this process's environment."""
    return subprocess.run(
        orchestrate_command(*args, root=root),
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Background:
    """A command that runs until interrupted (`watch`), its output lines collected as they come."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            list(command),
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def said(self, text: str, after: int = 0) -> str | None:
        """The first line from index ``after`` on that contains ``text``, if one has come."""
        return next((line for line in self.lines[after:] if text in line), None)

    def interrupt(self, timeout: float = 60) -> int:
        """Press Ctrl-C (SIGINT) and wait for the exit; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None and not self._reader.is_alive():
            self.process.stdout.close()
        return code
