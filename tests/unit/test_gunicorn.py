"""What gunicorn itself does with our settings: one line for a bad environment, sane numbers."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from stack.spec import APP_PORT

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "gunicorn.conf.py"
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", str(CONF), "app:create_app()"]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "GUNICORN_"))}
    env.update(GUNICORN_BIND="127.0.0.1:0", **extra)
    return env


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({}, "apl: configuration error: MYSQL_USER is not set"),
        (
            {"MYSQL_USER": "root", "MYSQL_PASSWORD": "Sw0rdfish", "MYSQL_PORT": "http"},
            "apl: configuration error: MYSQL_PORT must be a port number from 1 to 65535",
        ),
        (
            {"MYSQL_USER": "root", "MYSQL_PASSWORD": "Sw0rdfish", "GUNICORN_WORKERS": "many"},
            "apl: configuration error: GUNICORN_WORKERS must be a whole number of at least 1",
        ),
    ],
)
def test_bad_environment_stops_gunicorn_with_one_line(env: dict[str, str], line: str) -> None:
    result = subprocess.run(
        GUNICORN, cwd=REPO, env=_clean_env(**env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [line]
    assert result.stdout == ""
    assert "Sw0rdfish" not in result.stderr


def test_settings_fit_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYSQL_USER", "root")
    monkeypatch.setenv("MYSQL_PASSWORD", "qwerty")
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "5")
    conf = runpy.run_path(str(CONF))
    assert conf["bind"] == f"0.0.0.0:{APP_PORT}"
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (3, 5, "gthread")
    assert conf["graceful_timeout"] < 10  # Docker's stop timeout
    assert conf["accesslog"] == "-"
