"""Helpers for tests that run the stand-in images: resource tracking, waiting, DB access."""

from __future__ import annotations

import io
import os
import re
import subprocess
import tarfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import docker
import pymysql
from docker.models.containers import Container
from docker.models.networks import Network
from docker.models.volumes import Volume

from stack.cleanup import quietly
from stack.images import ImageSet
from stack.waiting import WaitTimeout, wait_for

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "standin-images.sh"
# The label the build script stamps on each stand-in with the digest of its build inputs.
INPUTS_LABEL = "com.apl.standin.inputs"
NAME_PREFIX = "apl-test-standin-"
LABELS = {"com.apl.test": "standin"}
DB_PORT = "3306/tcp"

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    diagnose: Callable[[], str] | None = None,
) -> T:
    """Poll ``condition`` (stack.waiting.wait_for) and fail the test at the deadline.

    :param diagnose: called once on timeout; its text (e.g. a container's logs) joins the error.
    """
    try:
        return wait_for(condition, timeout=timeout, interval=interval, what=what)
    except WaitTimeout as timeout_error:
        details = f"\n--- diagnosis ---\n{diagnose()}" if diagnose else ""
        raise AssertionError(f"{timeout_error}{details}") from None


def tar_of(files: Mapping[str, tuple[bytes, int]]) -> bytes:
    """A tar archive of ``{path: (content, mode)}``, owned by root, for ``put_archive``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, (content, mode) in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mode = mode
            info.mtime = int(time.time())
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


class Resources:
    """Everything one test scenario creates; ``close()`` removes it all, even after a failure.

    Names carry ``NAME_PREFIX`` and a random suffix, and everything carries ``LABELS``, so
    leftovers of a killed run can be found by label and never collide with other users.
    """

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self._containers: list[Container] = []
        self._networks: list[Network] = []
        self._volumes: list[Volume] = []
        self._images: list[str] = []

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def name(role: str) -> str:
        """A unique resource name for ``role``."""
        return f"{NAME_PREFIX}{role}-{uuid.uuid4().hex[:8]}"

    def create_container(self, image: str, role: str, **kwargs: Any) -> Container:
        """Create (not start) a labelled container and track it."""
        container = self.client.containers.create(image, name=self.name(role), labels=LABELS, **kwargs)
        self._containers.append(container)
        return container

    def create_volume(self, role: str) -> Volume:
        """Create a labelled named volume and track it."""
        volume = self.client.volumes.create(name=self.name(role), labels=LABELS)
        self._volumes.append(volume)
        return volume

    def create_network(self, role: str) -> Network:
        """Create a labelled user-defined bridge network and track it."""
        network = self.client.networks.create(self.name(role), driver="bridge", labels=LABELS)
        self._networks.append(network)
        return network

    def track_image(self, tag: str) -> None:
        """Remove the image ``tag`` at close, e.g. one a test builds."""
        self._images.append(tag)

    def close(self) -> None:
        """Remove containers (with their anonymous volumes), then networks, volumes and images."""
        for container in reversed(self._containers):
            quietly(lambda c=container: c.remove(force=True, v=True))
        for network in self._networks:
            quietly(network.remove)
        for volume in self._volumes:
            quietly(lambda v=volume: v.remove(force=True))
        for tag in self._images:
            quietly(lambda t=tag: self.client.images.remove(t, force=True))
        self._containers, self._networks, self._volumes, self._images = [], [], [], []


@dataclass
class DbServer:
    """A started DB container, with its port published on 127.0.0.1 and its root password."""

    container: Container
    root_password: str
    env: dict[str, str] = field(default_factory=dict)

    def reload(self) -> DbServer:
        """Refresh the container's state from the engine."""
        self.container.reload()
        return self

    @property
    def host_port(self) -> int:
        """The random host port Docker bound for 3306 on 127.0.0.1."""
        bindings = self.reload().container.attrs["NetworkSettings"]["Ports"][DB_PORT]
        return int(bindings[0]["HostPort"])

    def health(self) -> str:
        """Docker's health status: starting, healthy or unhealthy."""
        return self.reload().container.attrs["State"]["Health"]["Status"]

    def health_log(self) -> list[dict[str, Any]]:
        """The last few healthcheck runs Docker keeps (ExitCode, Output, Start, End)."""
        return self.reload().container.attrs["State"]["Health"]["Log"] or []

    def status(self) -> str:
        """Docker's container status: created, running, exited..."""
        return self.reload().container.status

    def logs(self) -> str:
        """Everything the container wrote to stdout and stderr."""
        return self.container.logs().decode(errors="replace")

    def connect(
        self, user: str = "root", password: str | None = None, database: str | None = None
    ) -> pymysql.connections.Connection:
        """A PyMySQL connection over TCP through the published port."""
        return pymysql.connect(
            host="127.0.0.1",
            port=self.host_port,
            user=user,
            password=self.root_password if password is None else password,
            database=database,
            connect_timeout=5,
        )

    def query(
        self,
        sql: str,
        args: Iterable[Any] | None = None,
        *,
        user: str = "root",
        password: str | None = None,
        database: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """Run one statement over TCP and return its rows."""
        connection = self.connect(user, password, database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, args)
                rows = list(cursor.fetchall())
            connection.commit()
            return rows
        finally:
            connection.close()

    def exec(self, *command: str, user: str = "", env: dict[str, str] | None = None) -> tuple[int, str]:
        """Run a command inside the container; return its exit code and combined output."""
        result = self.container.exec_run(list(command), user=user, environment=env)
        return result.exit_code, result.output.decode(errors="replace")


def start_db(
    resources: Resources,
    image: str,
    env: Mapping[str, str],
    *,
    role: str = "db",
    init_files: Mapping[str, tuple[bytes, int]] | None = None,
    extra_files: Mapping[str, tuple[bytes, int]] | None = None,
    volume: str | None = None,
    network: str | None = None,
    alias: str | None = None,
    user: str | None = None,
    command: list[str] | None = None,
) -> DbServer:
    """Create a DB container, copy files into it, start it; no waiting.

    :param init_files: ``{name: (content, mode)}`` for /docker-entrypoint-initdb.d.
    :param extra_files: ``{absolute path: (content, mode)}`` anywhere, e.g. secrets.
    :param user: run as this ``uid[:gid]`` instead of the image's root-then-mysql.
    :param command: the container's arguments, e.g. server options, instead of the image's CMD.
    """
    kwargs: dict[str, Any] = {
        "environment": dict(env),
        "ports": {DB_PORT: ("127.0.0.1", None)},
    }
    if user:
        kwargs["user"] = user
    if command:
        kwargs["command"] = command
    if volume:
        kwargs["volumes"] = {volume: {"bind": "/var/lib/mysql", "mode": "rw"}}
    if network:
        kwargs["network"] = network
        if alias:
            endpoint = resources.client.api.create_endpoint_config(aliases=[alias])
            kwargs["networking_config"] = {network: endpoint}
    container = resources.create_container(image, role, **kwargs)
    if init_files:
        container.put_archive("/docker-entrypoint-initdb.d", tar_of(init_files))
    if extra_files:
        container.put_archive("/", tar_of({path.lstrip("/"): spec for path, spec in extra_files.items()}))
    container.start()
    return DbServer(container, env.get("MYSQL_ROOT_PASSWORD", ""), dict(env))


def wait_healthy(db: DbServer, timeout: float = 60) -> None:
    """Wait for Docker to report the DB healthy; fail at once if the container exits."""

    def healthy() -> bool:
        if db.status() == "exited":
            raise AssertionError(f"DB container exited before it was healthy:\n{db.logs()}")
        return db.health() == "healthy"

    wait_until(healthy, timeout=timeout, interval=0.2, what="the DB to report healthy", diagnose=db.logs)


def run_to_exit(
    resources: Resources, image: str, role: str, timeout: float = 60, **kwargs: Any
) -> tuple[int, str]:
    """Run a container until it exits; return its exit code and logs (it is removed at close)."""
    container = resources.create_container(image, role, **kwargs)
    container.start()
    status = container.wait(timeout=timeout)["StatusCode"]
    return status, container.logs().decode(errors="replace")


def mysql_client(
    resources: Resources,
    image: str,
    network: str,
    host: str,
    sql: str,
    *,
    user: str,
    password: str,
    database: str | None = None,
) -> tuple[int, str]:
    """Run ``sql`` with the image's own ``mysql`` client, in a peer container on ``network``.

    The output is bare values, one row a line, tab-separated (no column names, no table borders).
    """
    args = [f"--host={host}", f"--user={user}", "--silent", "--skip-column-names", f"--execute={sql}"]
    return run_to_exit(
        resources,
        image,
        "client",
        entrypoint=["mysql"],
        command=[*args, *([database] if database else [])],
        environment={"MYSQL_PWD": password},  # not on the command line, where ps would show it
        network=network,
    )


def run_build_script(images: ImageSet) -> str:
    """Run scripts/standin-images.sh for exactly ``images`` (built when missing or stale); its report.

    Both tags always go to the script together, so it never rebuilds a default tag a run does not use.
    """
    env = {**os.environ, "APL_DB_STANDIN": images.db, "APL_PYTHON_STANDIN": images.python}
    done = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], env=env, cwd=BUILD_SCRIPT.parents[1], capture_output=True, text=True
    )
    assert done.returncode == 0, f"{BUILD_SCRIPT.name} failed:\n{done.stderr}"
    return done.stderr


def output_of(client: docker.DockerClient, image: str, role: str, **kwargs: Any) -> str:
    """Run a container of ``image`` to its end, removed afterwards; its logs, or fail on a non-zero exit."""
    with Resources(client) as resources:
        code, out = run_to_exit(resources, image, role, **kwargs)
    assert code == 0, out
    return out


_PASSWORD_HASH = re.compile(r" IDENTIFIED BY PASSWORD '[^']*'")


def normalised_grants(rows: Iterable[tuple[Any, ...]]) -> set[str]:
    """SHOW GRANTS rows without password hashes, which change with every password."""
    return {_PASSWORD_HASH.sub("", row[0]) for row in rows}
