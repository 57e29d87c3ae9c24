"""Settings, read once at the edge: command-line flags first, then the environment, then defaults."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .credentials import Credentials, load_credentials
from .errors import StackError
from .images import IMAGE_SETS, ImageSet, resolve_images

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PRIVATE_DIR = ".apl"  # generated credentials and other secrets; git-ignored


@dataclass(frozen=True)
class Settings:
    """Everything that varies between one stack and another."""

    project: str
    port: int
    images: ImageSet
    credentials: Credentials
    root: Path = REPO_ROOT
    wait_timeout: float = 120.0
    # Host names the app answers for beyond this machine's (the app checks them: app/config.py).
    allowed_hosts: str = ""

    @property
    def private_dir(self) -> Path:
        """Where generated credentials live (git-ignored, mode 0700)."""
        return self.root / PRIVATE_DIR


def read_settings(
    env: Mapping[str, str],
    *,
    project: str | None = None,
    port: int | None = None,
    images: str | None = None,
    db_image: str | None = None,
    python_image: str | None = None,
    wait_timeout: float | None = None,
    root: Path = REPO_ROOT,
    generate_credentials: bool = True,
) -> Settings:
    """Combine flags (the keyword arguments) with ``env`` and validate the result."""
    project = project or env.get("APL_PROJECT") or "apl"
    if not PROJECT_NAME.match(project):
        raise StackError(
            f"invalid project name {project!r}",
            "use 1-40 lowercase letters, digits, '-' or '_', starting with a letter or digit",
        )
    port = port if port is not None else _from_env(env, "APL_PORT", 8080, int, "a whole number", "a number")
    if not 1 <= port <= 65535:
        raise StackError(f"invalid port {port}", "choose a host port between 1 and 65535")
    choice = images or env.get("APL_IMAGES") or "official"
    if choice not in IMAGE_SETS:
        raise StackError(f"unknown image set {choice!r}", f"use one of: {', '.join(IMAGE_SETS)}")
    image_set = resolve_images(
        choice, db=db_image or env.get("APL_DB_IMAGE"), python=python_image or env.get("APL_PYTHON_IMAGE")
    )
    timeout = (
        wait_timeout
        if wait_timeout is not None
        else _from_env(env, "APL_WAIT_TIMEOUT", 120.0, float, "a number", "a number of seconds, such as 2.5,")
    )
    if not timeout > 0:  # written so that NaN is refused too
        raise StackError(
            f"invalid readiness timeout of {timeout:g} seconds",
            "give --timeout or APL_WAIT_TIMEOUT a number of seconds greater than 0, such as 120 or 2.5",
        )
    credentials = load_credentials(env, root / PRIVATE_DIR / f"{project}.env", generate_credentials)
    allowed_hosts = env.get("APL_ALLOWED_HOSTS", "").strip()
    return Settings(project, port, image_set, credentials, root, timeout, allowed_hosts)


def _from_env(
    env: Mapping[str, str], name: str, default: T, parse: Callable[[str], T], kind: str, hint: str
) -> T:
    """``name`` read from ``env`` with ``parse``; ``default`` when unset; a refused value is a StackError."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise StackError(f"{name}={raw!r} is not {kind}", f"set {name} to {hint} or unset it") from None
