"""Running ``orchestrate.py`` as its own process, as a user does: the one way the tests and bench do it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from .settings import REPO_ROOT


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
