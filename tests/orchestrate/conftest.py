"""Fixtures for the renderings: specs built as the command line builds them, in a scratch root."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from stack.settings import read_settings
from stack.spec import StackSpec, build_spec

REPO = Path(__file__).resolve().parents[2]
# Characters a shell, YAML or Compose would otherwise interpret: each rendering must keep them as they are.
ROOT_PASSWORD = 'r00t $HOME "x" #1 \\n'
USER_PASSWORD = "us3r-$(id)-`id`-${X}"
PASSWORDS = {"MYSQL_ROOT_PASSWORD": ROOT_PASSWORD, "MYSQL_PASSWORD": USER_PASSWORD}

MakeSpec = Callable[..., StackSpec]


@pytest.fixture
def make_spec(tmp_path: Path) -> MakeSpec:
    """Build a spec from an environment and flags, rooted in ``tmp_path`` with a copy of ``db/``."""
    shutil.copytree(REPO / "db", tmp_path / "db")

    def make(env: dict[str, str] | None = None, **flags: object) -> StackSpec:
        return build_spec(read_settings({**PASSWORDS, **(env or {})}, root=tmp_path, **flags))

    return make
