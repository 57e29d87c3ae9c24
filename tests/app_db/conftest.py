"""A real MySQL-compatible server in a container, and the app in-process pointed at it.

The image comes from the project's image settings: APL_IMAGES=official (mysql:5.7) or
standin (apl/mysql-compat), APL_DB_IMAGE overriding either. One server serves the whole
session; each test gets its own database in it, dropped afterwards. Everything created is
named apl-test-appdb-*, labelled com.apl.test=appdb, and removed even when a test fails.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pymysql
import pytest
from docker.models.containers import Container
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from stack.images import images_from_env
from stack.ports import free_port
from stack.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
LABELS = {"com.apl.test": "appdb"}
INIT_DATABASE = "apl_test"  # created by the image from MYSQL_DATABASE, schema from db/
APP_USER = "apl"


@dataclass
class DBServer:
    """The running DB container and how to reach it from the host."""

    container: Container
    port: int
    root_password: str
    app_password: str

    def environ(self, database: str = INIT_DATABASE) -> dict[str, str]:
        """The app's MYSQL_* environment for one database, as the app user."""
        return {
            "MYSQL_HOST": "127.0.0.1",
            "MYSQL_PORT": str(self.port),
            "MYSQL_USER": APP_USER,
            "MYSQL_PASSWORD": self.app_password,
            "MYSQL_DATABASE": database,
        }

    def root(self, database: str | None = None) -> pymysql.Connection:
        """A root connection for setting up and checking behind the app's back."""
        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user="root",
            password=self.root_password,
            database=database,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=3,
            read_timeout=10,
        )

    def sql(self, statement: str, args: tuple[object, ...] = (), database: str | None = None) -> list[tuple]:
        """Run one statement as root and return its rows."""
        conn = self.root(database)
        with conn, conn.cursor() as cursor:
            cursor.execute(statement, args or None)
            return list(cursor.fetchall())

    def ready(self) -> bool | None:
        """Return True once the server takes TCP clients and the init scripts have run."""
        self.container.reload()
        if self.container.status == "exited":
            logs = self.container.logs(tail=40).decode(errors="replace")
            raise RuntimeError(f"the DB container exited:\n{logs}")
        try:
            rows = self.sql(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                (INIT_DATABASE, "messages"),
            )
        except pymysql.err.Error:
            return None  # still starting: refused, reset during handshake, or not yet initialised
        return True if rows[0][0] == 1 else None

    def wait_ready(self, timeout: float = 180) -> None:
        """Wait until ready(), attaching the container's logs on failure."""
        try:
            wait_for(self.ready, timeout=timeout, what="the DB container to accept clients")
        except TimeoutError as exc:
            logs = self.container.logs(tail=40).decode(errors="replace")
            raise TimeoutError(f"{exc}\n{logs}") from None


def _schema_archive() -> bytes:
    """Pack db/*.sql as a tar for /docker-entrypoint-initdb.d (works with a remote engine too)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted((REPO / "db").glob("*.sql")):
            info = tar.gettarinfo(str(path), arcname=path.name)
            info.uid = info.gid = 0
            info.mode = 0o644
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    return buffer.getvalue()


def image_from_settings(client: docker.DockerClient, role: str) -> str:
    """The "db" or "python" image the settings name, pulled if absent; fail with the fix if it can't be."""
    chosen = images_from_env(os.environ)
    image: str = getattr(chosen, role)
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        try:
            client.images.pull(image)
        except docker.errors.APIError as exc:
            pytest.fail(
                f"image {image} is not here and cannot be pulled ({exc.explanation}); "
                "build the stand-ins (scripts/standin-images.sh) and set APL_IMAGES=standin",
                pytrace=False,
            )
    return image


@pytest.fixture(scope="session")
def db_server(docker_client: docker.DockerClient) -> Iterator[DBServer]:
    """Start the DB container once per session; remove it and its volume afterwards."""
    image = image_from_settings(docker_client, "db")
    port = free_port()
    root_password, app_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    container = docker_client.containers.create(
        image,
        name=f"apl-test-appdb-{secrets.token_hex(4)}",
        labels=LABELS,
        environment={
            "MYSQL_ROOT_PASSWORD": root_password,
            "MYSQL_DATABASE": INIT_DATABASE,
            "MYSQL_USER": APP_USER,
            "MYSQL_PASSWORD": app_password,
        },
        ports={"3306/tcp": ("127.0.0.1", port)},
    )
    try:
        container.put_archive("/docker-entrypoint-initdb.d", _schema_archive())
        container.start()
        server = DBServer(container, port, root_password, app_password)
        server.wait_ready()
        # Per-test databases are named apltest_*; the app user may use them as it uses its own.
        server.sql(f"GRANT ALL PRIVILEGES ON `apltest\\_%`.* TO '{APP_USER}'@'%'")
        yield server
    finally:
        with contextlib.suppress(docker.errors.APIError):  # already gone
            container.remove(force=True, v=True)


@pytest.fixture
def database(db_server: DBServer) -> Iterator[str]:
    """A fresh, empty utf8mb4 database for one test, dropped afterwards."""
    name = f"apltest_{secrets.token_hex(6)}"
    db_server.sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    yield name
    db_server.sql(f"DROP DATABASE IF EXISTS `{name}`")


def make_app(environ: dict[str, str]) -> Flask:
    """Build the app as tests use it."""
    return create_app({"TESTING": True, "ENVIRON": environ})


@pytest.fixture
def app(db_server: DBServer, database: str) -> Iterator[Flask]:
    """The app on its own empty database (it creates the table on first use)."""
    app = make_app(db_server.environ(database))
    yield app
    app.extensions["apl.db"].close()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    """A test client; requests run in this thread, so they share one DB connection."""
    with app.test_client() as client:
        yield client
