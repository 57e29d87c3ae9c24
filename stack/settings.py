"""Settings, read once at the edge: command-line flags first, then the environment, then defaults."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .credentials import Credentials, Loaded, load_credentials, store
from .errors import StackError
from .images import DEFAULT_IMAGE_SET, IMAGE_SETS, ImageSet, resolve_images
from .readiness import DEFAULT_DEADLINE

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
# Matched against the whole string (fullmatch): `$` would let a final newline through.
PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")
SECONDS = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?|\.[0-9]{1,6}")
PRIVATE_DIR = ".apl"  # generated credentials and other secrets; git-ignored
DEFAULT_PROJECT = "apl"  # keeps the lesson's resource names
DEFAULT_PORT = 8080  # the host port, as in the lesson's -p 8080:80


@dataclass(frozen=True)
class Settings:
    """Everything that varies between one stack and another."""

    project: str
    port: int
    images: ImageSet
    credentials: Credentials
    root: Path = REPO_ROOT
    wait_timeout: float = DEFAULT_DEADLINE
    # How the credentials were resolved: generated ones not yet stored, or why the file was unusable.
    loaded_credentials: Loaded | None = field(default=None, repr=False, compare=False)
    # Host names the app answers for beyond this machine's (the app checks them: app/config.py).
    allowed_hosts: str = ""

    @property
    def private_dir(self) -> Path:
        """Where generated credentials live (git-ignored, mode 0700)."""
        return self.root / PRIVATE_DIR

    @property
    def credentials_file(self) -> Path:
        """The project's credentials file."""
        return credentials_file(self.root, self.project)

    def store_credentials(self) -> None:
        """Write the passwords generated for this run to the credentials file, if any were."""
        if self.loaded_credentials is not None:
            store(self.credentials_file, self.loaded_credentials)


def credentials_file(root: Path, project: str) -> Path:
    """Where project ``project`` run from ``root`` keeps its generated credentials."""
    return root / PRIVATE_DIR / f"{project}.env"


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
    store_credentials: bool = True,
) -> Settings:
    """Combine flags (the keyword arguments) with ``env`` and validate the result.

    Passwords generated now are stored at once, unless ``store_credentials`` is false: then
    ``Settings.store_credentials()`` does it, once the caller has checked they may be used.
    """
    if project == "":
        # `--project "$P"` with P unset: falling back to the default would act on another stack,
        # and `down --volumes` would delete its data.
        raise StackError(
            "--project was given an empty name", "give the project's name, or leave --project out for apl"
        )
    project = project or env.get("APL_PROJECT") or DEFAULT_PROJECT
    if not PROJECT_NAME.fullmatch(project):
        raise StackError(
            f"invalid project name {project!r}",
            "use 1-40 lowercase letters, digits, '-' or '_', starting with a letter or digit",
        )
    port = (
        port
        if port is not None
        else _from_env(env, "APL_PORT", DEFAULT_PORT, whole_number, "a whole number", "a number")
    )
    if not 1 <= port <= 65535:
        raise StackError(f"invalid port {port}", "choose a host port between 1 and 65535")
    choice = images or env.get("APL_IMAGES") or DEFAULT_IMAGE_SET
    if choice not in IMAGE_SETS:
        raise StackError(f"unknown image set {choice!r}", f"use one of: {', '.join(IMAGE_SETS)}")
    image_set = resolve_images(
        choice, db=db_image or env.get("APL_DB_IMAGE"), python=python_image or env.get("APL_PYTHON_IMAGE")
    )
    timeout = (
        wait_timeout
        if wait_timeout is not None
        else _from_env(
            env,
            "APL_WAIT_TIMEOUT",
            DEFAULT_DEADLINE,
            seconds,
            "a number",
            "a number of seconds, such as 2.5,",
        )
    )
    if not timeout > 0:  # written so that NaN is refused too
        raise StackError(
            f"invalid readiness timeout of {timeout:g} seconds",
            "give --timeout or APL_WAIT_TIMEOUT a number of seconds greater than 0, such as 120 or 2.5",
        )
    loaded = load_credentials(env, credentials_file(root, project), generate_credentials)
    allowed_hosts = env.get("APL_ALLOWED_HOSTS", "").strip()
    if allowed_hosts:
        _check_allowed_hosts(allowed_hosts)
    settings = Settings(project, port, image_set, loaded.credentials, root, timeout, loaded, allowed_hosts)
    if store_credentials:
        settings.store_credentials()
    return settings


def _check_allowed_hosts(value: str) -> None:
    """Refuse an APL_ALLOWED_HOSTS the app would refuse, before anything is built or started."""
    # The app's own rule, imported only when the variable is set: it brings Flask with it.
    from app.config import ConfigError, load_allowed_hosts

    try:
        load_allowed_hosts({"APL_ALLOWED_HOSTS": value})
    except ConfigError:
        raise StackError(
            f"APL_ALLOWED_HOSTS={value!r} is not a list of host names",
            "list host names or addresses without ports or wildcards, separated by commas, such as "
            "APL_ALLOWED_HOSTS=board.lan,192.168.1.20; or unset it",
        ) from None


def whole_number(raw: str) -> int:
    """``raw`` as a whole number of up to six ASCII digits, nothing else: no sign, space or ``_``."""
    if not WHOLE_NUMBER.fullmatch(raw):
        raise ValueError(raw)
    return int(raw)


def seconds(raw: str) -> float:
    """``raw`` as a plain decimal number of seconds (``120``, ``2.5``): no sign, exponent, inf or nan."""
    if not SECONDS.fullmatch(raw):
        raise ValueError(raw)
    return float(raw)


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
