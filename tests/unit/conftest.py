"""Fixtures for unit tests: the app pointed at a real closed port, so no database is there."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app

PASSWORD = "Sw0rdfish-never-shown"


def closed_port() -> int:
    """Return a local TCP port that nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def environ() -> dict[str, str]:
    """A complete, valid MYSQL_* environment whose server is absent."""
    return {
        "MYSQL_HOST": "127.0.0.1",
        "MYSQL_PORT": str(closed_port()),
        "MYSQL_USER": "apl",
        "MYSQL_PASSWORD": PASSWORD,
        "MYSQL_DATABASE": "apl",
    }


@pytest.fixture
def app(environ: dict[str, str]) -> Flask:
    """The app with its database down."""
    return create_app({"TESTING": True, "ENVIRON": environ})


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    """A test client for the app with its database down."""
    with app.test_client() as client:
        yield client
