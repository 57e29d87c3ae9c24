"""The stacks the benchmarks run, and removing all of them afterwards.

Everything runs from a snapshot of the working tree taken at the start, so an edit made
while the benchmarks run changes nothing they measure. Projects are named ``aplbench-<run id>-*``;
every container, network, volume and image tag they or the PHP page create is removed at
the end, also after a failure or Ctrl-C, with the layers under those tags: a run leaves no
dangling images behind.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

import docker
import requests
from docker.errors import APIError, ImageNotFound
from docker.models.containers import Container

from stack.cleanup import remove_labelled, sigint_ignored
from stack.invoke import copy_tree, orchestrate_command, run_orchestrate
from stack.ports import free_port
from stack.resources import ProjectResources
from stack.settings import REPO_ROOT, Settings, read_settings
from stack.spec import LABEL_PROJECT, LABEL_ROLE, build_spec
from stack.waiting import wait_for

log = logging.getLogger("bench")

REPO = REPO_ROOT
PHP_CONTEXT = REPO / "bench" / "php"
PHP_REPOSITORY = "aplbench/php"  # tagged with the run id: runs side by side never share it
PHP_OK = "接続に成功しました。"  # the lesson's "connection succeeded" line
COMPOSE_LABEL = "com.docker.compose.project"


class BenchError(Exception):
    """The benchmarks cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Project:
    """An orchestrate.py project, run from a snapshot as a user runs it: a new process per command."""

    name: str
    port: int
    root: Path
    images: str

    @property
    def url(self) -> str:
        """The app's address on this machine."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def selection(self) -> list[str]:
        """The orchestrate.py options that select this project."""
        return ["--project", self.name, "--port", str(self.port), "--images", self.images]

    @property
    def options(self) -> list[str]:
        """The options for commands run to the end: the project, and no progress lines."""
        return [*self.selection, "-q"]

    def command(self, *args: str) -> list[str]:
        """The orchestrate.py command line for ``args``."""
        return orchestrate_command(*self.options, *args, root=self.root)

    def orchestrate(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run orchestrate.py; raise BenchError with its output if it fails."""
        done = run_orchestrate(*self.options, *args, root=self.root, timeout=timeout)
        if done.returncode != 0:
            raise BenchError(
                f"`orchestrate.py {' '.join(args)}` for project {self.name} failed "
                f"(exit {done.returncode}):\n{done.stderr.strip()}"
            )
        return done

    def settings(self) -> Settings:
        """The project's settings, credentials included, as orchestrate.py reads them."""
        env = os.environ
        return read_settings(env, project=self.name, images=self.images, port=self.port, root=self.root)

    def container(self, client: docker.DockerClient, role: str) -> Container:
        """The project's container for ``role`` ("db" or "app")."""
        found = ProjectResources(client, self.name).container(role)
        if found is None:
            raise BenchError(f"project {self.name} has no {role} container")
        return found


def first_ok(url: str, timeout: float, contains: str | None = None) -> float:
    """Poll ``url`` until it answers 200 (with ``contains`` in the body, if given); return when, monotonic."""

    def answered() -> float | None:
        try:
            response = requests.get(url, timeout=1)
        except requests.RequestException:
            return None
        ok = response.status_code == 200 and (contains is None or contains in response.text)
        return time.monotonic() if ok else None

    return wait_for(answered, timeout=timeout, interval=0.02)


class Workspace:
    """Snapshots, projects and the PHP page, all removed again on the way out."""

    def __init__(self, client: docker.DockerClient, images: str) -> None:
        self.client = client
        self.images = images
        # Every name this run gives starts with this, so runs side by side (and their checks) never meet.
        self.prefix = f"aplbench-{secrets.token_hex(2)}"
        self.php_image = f"{PHP_REPOSITORY}:{self.prefix.removeprefix('aplbench-')}"
        self._scratch: Path | None = None
        self._projects: list[str] = []  # orchestrate.py and Compose projects, by name
        self._tags: list[str] = []
        self._previous_sigterm: object = None

    def __enter__(self) -> Workspace:
        self._scratch = Path(tempfile.mkdtemp(prefix="aplbench-"))
        # `kill` (SIGTERM) should clean up like Ctrl-C does, not leave the stacks running.
        self._previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with sigint_ignored():
            log.info("cleaning up: projects %s, tags %s", ", ".join(self._projects), ", ".join(self._tags))
            for name in reversed(self._projects):
                self.remove_project(name)
            for tag in self._tags:
                with suppress(ImageNotFound, APIError):
                    # Its untagged parent layers go too: a run leaves no dangling images behind.
                    self.client.images.remove(tag, force=True)
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
            signal.signal(signal.SIGTERM, self._previous_sigterm)  # type: ignore[arg-type]

    def snapshot(self, name: str) -> Path:
        """A fresh copy of the working tree's stack files, removed at the end."""
        assert self._scratch is not None, "use Workspace as a context manager"
        return copy_tree(self._scratch / name)

    def project(self, role: str, root: Path) -> Project:
        """Project ``<prefix>-<role>`` on a free port, removed at the end; leftovers of it are removed now."""
        name = f"{self.prefix}-{role}"
        self.remove_project(name)
        self._projects.append(name)
        return Project(name, free_port(), root, self.images)

    def remove_project(self, name: str) -> None:
        """Remove every container, network, volume and image labelled with project ``name``."""
        for label in (LABEL_PROJECT, COMPOSE_LABEL):
            remove_labelled(self.client, label, name)

    # -- the lesson's PHP page ----------------------------------------------------------

    def build_php(self, base_image: str) -> str:
        """Build the PHP page's image (about half a minute: Debian's packages); return its tag."""
        log.info("building %s on %s", self.php_image, base_image)
        self._tags.append(self.php_image)
        try:
            self.client.images.build(
                path=str(PHP_CONTEXT),
                tag=self.php_image,
                buildargs={"BASE_IMAGE": base_image},
                rm=True,
                forcerm=True,
            )
        except docker.errors.BuildError as error:
            lines = "\n".join(str(step.get("stream", "")).rstrip() for step in error.build_log)
            raise BenchError(f"building {self.php_image} failed: {error.msg}\n{lines[-2000:]}") from None
        return self.php_image

    def start_php(self, project: Project) -> tuple[Container, str]:
        """Run the PHP page on the project's network against its DB, connecting as root as the lesson did."""
        settings = project.settings()
        network = build_spec(settings).network.name
        root_password = settings.credentials.root_password
        port = free_port()
        container = self.client.containers.run(
            self.php_image,
            name=f"{project.name}-php",
            detach=True,
            network=network,
            environment={"MYSQL_USER": "root", "MYSQL_PASSWORD": root_password},
            ports={"80/tcp": ("127.0.0.1", port)},  # Apache in the PHP image
            labels={LABEL_PROJECT: project.name, LABEL_ROLE: "bench-php"},
        )
        url = f"http://127.0.0.1:{port}/"
        first_ok(url, timeout=60, contains=PHP_OK)
        return container, url


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
