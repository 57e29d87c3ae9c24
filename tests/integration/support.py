"""Helpers for tests that drive the real stack through orchestrate.py and its published port.

Every project these tests create is named ``apltest-<run id>...`` and is removed by label
afterwards, even when a test fails, so a stack the user runs is never touched.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import requests

from stack.cleanup import remove_labelled
from stack.images import images_from_env
from stack.invoke import run_orchestrate as _run
from stack.ports import free_port
from stack.readiness import READINESS_PATH
from stack.resources import ProjectResources
from stack.settings import REPO_ROOT, credentials_file
from stack.spec import LABEL_PROJECT, resource_name
from stack.waiting import wait_for

REPO = REPO_ROOT
# One id per test run: runs side by side (a developer's and CI's) never share a resource name.
RUN_ID = secrets.token_hex(2)
SESSION_PROJECT = f"apltest-{RUN_ID}"

Orchestrate = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class Stack:
    """A running test stack."""

    project: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def name(self, base: str) -> str:
        """A resource's name in this project, as the stack names it."""
        return resource_name(self.project, base)


def python_image() -> str:
    """The Python image the settings select (stand-in or official), for probe containers."""
    return images_from_env(os.environ).python


def run_orchestrate(
    *args: str, env: dict[str, str] | None = None, root: Path = REPO, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run the real command line, as a user would (from a copy of the repository at ``root``, if given)."""
    return _run(*args, env=env, root=root, timeout=timeout)


def owned(client: docker.DockerClient, project: str) -> dict[str, list[str]]:
    """Names of everything carrying the project's label, by kind."""
    return ProjectResources(client, project).owned()


def remove_project(client: docker.DockerClient, project: str, root: Path = REPO) -> None:
    """Remove every resource of ``project`` and its credentials file, ignoring what is already gone."""
    remove_labelled(client, LABEL_PROJECT, project)
    credentials_file(root, project).unlink(missing_ok=True)


def wait_until_connected(base_url: str, timeout: float = 180) -> str:
    """Poll the readiness path until the app reaches its DB, then return the page's text."""

    def ready() -> bool:
        return requests.get(f"{base_url}{READINESS_PATH}", timeout=2).status_code == 200

    wait_for(ready, timeout=timeout, interval=0.5, transient=(requests.RequestException,))
    page = requests.get(f"{base_url}/", timeout=10)
    assert page.status_code == 200
    return page.text


NOTHING = {"containers": [], "networks": [], "volumes": []}


def debris(client: docker.DockerClient, project: str) -> dict[str, list[str]]:
    """What the project still owns, but for images: a fully built image is reusable cache, not debris."""
    left = owned(client, project)
    del left["images"]
    return left


def failure(result: subprocess.CompletedProcess) -> list[str]:
    """Check the command failed with exit code 1; return its 'error:' line and the 'fix:' line after it."""
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("error: "))
    return lines[start : start + 2]


def never_ready_up(project: str, db_image: str, timeout: float) -> list[str]:
    """Arguments for `up` of ``project`` on a free port with a DB image that never gets ready."""
    return [
        "--project",
        project,
        "--port",
        str(free_port()),
        "--db-image",
        db_image,
        "--timeout",
        f"{timeout:g}",
        "up",
    ]
