"""The image's own files state the app's port and liveness probe; the stack's constants must match them.

The Dockerfile and gunicorn.conf.py cannot import Python constants, so these checks keep the
facts defined once: ``APP_PORT`` in stack/spec.py, the probes in stack/readiness.py.
"""

from __future__ import annotations

import re

import pytest

from stack.readiness import APP_PROBES, LIVENESS_PATH
from stack.settings import REPO_ROOT
from stack.spec import APP_PORT

pytestmark = pytest.mark.unit

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def test_the_image_exposes_and_gunicorn_binds_the_app_port() -> None:
    assert re.findall(r"^EXPOSE (\d+)$", DOCKERFILE, re.MULTILINE) == [str(APP_PORT)]
    binds = re.findall(r'"GUNICORN_BIND", "0\.0\.0\.0:(\d+)"', (REPO_ROOT / "gunicorn.conf.py").read_text())
    assert binds == [str(APP_PORT)]


def test_the_image_healthcheck_is_the_liveness_probe_with_its_timing() -> None:
    options = re.search(r"^HEALTHCHECK (.*?) \\$", DOCKERFILE, re.MULTILINE)
    assert options is not None
    timing = dict(option.removeprefix("--").split("=") for option in options.group(1).split())
    assert timing["interval"] == f"{APP_PROBES.interval:g}s"
    assert timing["timeout"] == f"{APP_PROBES.timeout:g}s"
    assert timing["retries"] == str(APP_PROBES.retries)
    assert f"'http://127.0.0.1:{APP_PORT}{LIVENESS_PATH}'" in DOCKERFILE
