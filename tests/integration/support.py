"""Helpers for tests that drive the real stack through orchestrate.py and its published port.

Every project these tests create is named ``apltest-<run id>...`` and is removed by label
afterwards, even when a test fails, so a stack the user runs is never touched.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import requests

from stack.cleanup import remove_labelled
from stack.images import resolve_images
from stack.spec import LABEL_PROJECT, resource_name
from stack.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
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
    return resolve_images(
        os.environ.get("APL_IMAGES", "official"), python=os.environ.get("APL_PYTHON_IMAGE")
    ).python


def run_orchestrate(
    *args: str,
    env: dict[str, str] | None = None,
    script: Path = REPO / "orchestrate.py",
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """Run the real command line, as a user would."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def owned(client: docker.DockerClient, project: str) -> dict[str, list[str]]:
    """Names of everything carrying the project's label, by kind."""
    filters = {"label": f"{LABEL_PROJECT}={project}"}
    return {
        "containers": [c.name for c in client.containers.list(all=True, filters=filters)],
        "networks": [n.name for n in client.networks.list(filters=filters)],
        "volumes": [v.name for v in client.volumes.list(filters=filters)],
        "images": [i.short_id for i in client.images.list(filters=filters)],
    }


def remove_project(client: docker.DockerClient, project: str, root: Path = REPO) -> None:
    """Remove every resource of ``project`` and its credentials file, ignoring what is already gone."""
    remove_labelled(client, LABEL_PROJECT, project)
    (root / ".apl" / f"{project}.env").unlink(missing_ok=True)


def wait_until_connected(base_url: str, timeout: float = 180) -> str:
    """Poll /readyz until the app reaches its DB, then return the page's text."""

    def ready() -> bool:
        return requests.get(f"{base_url}/readyz", timeout=2).status_code == 200

    wait_for(ready, timeout=timeout, interval=0.5, transient=(requests.RequestException,))
    page = requests.get(f"{base_url}/", timeout=10)
    assert page.status_code == 200
    return page.text
