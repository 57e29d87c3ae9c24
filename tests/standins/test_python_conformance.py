"""The Python stand-in is a drop-in for python:3.11-slim: it passes what the official images' own
tests check, and keeps the layout a Dockerfile written for the official image relies on.

The official python images are tested by docker-library/official-images (test/tests/python-*):
an interpreter in /usr/local/bin, the dbm, curses, readline and compression modules working,
setuptools and wheel present before 3.12, sqlite3, deep recursion in a thread, no bytecode files,
and pip installing from PyPI over TLS. These are our own tests of the same facts, and of more.
The scripts in probes/ run inside a container of the image, never on the host; each prints
``FAIL <what>`` for every broken fact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker
import pytest

from .support import output_of

pytestmark = pytest.mark.standins

PROBES = Path(__file__).parent / "probes"
PYTHON = "/usr/local/bin/python3"
SITE_PACKAGES = "/usr/local/lib/python3.11/site-packages"
# Every command the official 3.11 slim image has in /usr/local/bin, except idle: it needs tkinter,
# which neither image can import (the official one drops the Tk libraries its _tkinter needs).
COMMANDS = [
    *("python", "python3", "python3.11", "pip", "pip3", "pip3.11", "pydoc", "pydoc3", "pydoc3.11"),
    *("wheel", "2to3", "2to3-3.11", "python-config", "python3-config", "python3.11-config"),
]
COMMANDS_PROBE = """
for c in "$@"; do
  [ -x "/usr/local/bin/$c" ] || echo "FAIL missing /usr/local/bin/$c"
  [ "$(command -v "$c")" = "/usr/local/bin/$c" ] || echo "FAIL $c is not first found in /usr/local/bin"
done
for c in python python3 python3.11 pip pip3 pip3.11; do $c --version; done
for c in pydoc3 2to3 wheel; do $c --help >/dev/null 2>&1 || echo "FAIL $c --help"; done
for d in $(python3-config --includes); do [ -f "${d#-I}/Python.h" ] || echo "FAIL no Python.h in $d"; done
"""


def run_in(docker_client: docker.DockerClient, image: str, command: list[str], **kwargs: Any) -> str:
    """Run ``command`` in a new container of ``image``; fail on a non-zero exit or a FAIL line."""
    out = output_of(docker_client, image, "py", command=command, **kwargs)
    assert [line for line in out.splitlines() if line.startswith("FAIL")] == [], out
    return out


def run_probe(docker_client: docker.DockerClient, image: str, probe: str, **kwargs: Any) -> str:
    """Run probes/<probe>.py with /usr/local/bin/python3 in a new container of ``image``."""
    script = (PROBES / f"{probe}.py").read_text()
    return run_in(docker_client, image, [PYTHON, "-c", script], **kwargs)


def test_commands_are_in_usr_local_bin_and_first_on_path(
    docker_client: docker.DockerClient, python_image: str
) -> None:
    """Shebangs, CMDs and scripts name /usr/local/bin/python3, pip and friends, as on the official image."""
    out = run_in(docker_client, python_image, ["sh", "-c", COMMANDS_PROBE, "sh", *COMMANDS])
    assert out.count("Python 3.11.") == 3, out
    assert out.count(f"from {SITE_PACKAGES}/pip (python 3.11)") == 3, out


def test_packages_and_headers_live_where_the_official_image_keeps_them(
    docker_client: docker.DockerClient, python_image: str
) -> None:
    """site-packages, scripts and headers under /usr/local; $PYTHON_VERSION is the interpreter's own."""
    assert "checked 8" in run_probe(docker_client, python_image, "layout")


def test_image_config_matches_the_official_one(docker_client: docker.DockerClient, python_image: str) -> None:
    """PATH with /usr/local/bin first, LANG=C.UTF-8, CMD python3 and no ENTRYPOINT."""
    config = docker_client.images.get(python_image).attrs["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PATH"].split(":")[0] == "/usr/local/bin"
    assert env["LANG"] == "C.UTF-8"
    assert config["Cmd"] == ["python3"]
    assert not config["Entrypoint"]


def test_standard_library_modules_import_and_work(
    docker_client: docker.DockerClient, python_image: str
) -> None:
    """dbm.gnu and dbm.ndbm, curses, GNU readline, bz2/zlib/lzma round trips, ctypes, ssl, uuid, ..."""
    assert "probed 19" in run_probe(docker_client, python_image, "stdlib_modules")


def test_setuptools_and_wheel_are_installed_as_on_official_3_11(
    docker_client: docker.DockerClient, python_image: str
) -> None:
    """The official images install both up to 3.11 (neither from 3.12 on)."""
    script = "import importlib.util as u; print([n for n in ('setuptools', 'wheel') if not u.find_spec(n)])"
    assert run_in(docker_client, python_image, [PYTHON, "-c", script]).strip() == "[]"


def test_sqlite3_runs_parameterised_statements(docker_client: docker.DockerClient, python_image: str) -> None:
    """An in-memory database: create, insert with parameters, select."""
    assert run_probe(docker_client, python_image, "sqlite").startswith("[('two',)] 3.")


def test_deep_recursion_in_a_thread_raises_instead_of_crashing(
    docker_client: docker.DockerClient, python_image: str
) -> None:
    """A thread's stack holds Python's full recursion limit: RecursionError, not a segfault."""
    assert "recursion stopped at" in run_probe(docker_client, python_image, "thread_recursion")


def test_no_bytecode_files_are_shipped(docker_client: docker.DockerClient, python_image: str) -> None:
    """No .pyc or .pyo anywhere in a fresh container (looked for before any Python runs)."""
    find = r"find / -xdev \( -name '*.pyc' -o -name '*.pyo' \) -print | head -20"
    assert run_in(docker_client, python_image, ["sh", "-c", find]) == ""


def test_pip_installs_from_pypi_and_the_package_verifies_tls(
    docker_client: docker.DockerClient, python_image: str
) -> None:
    """At run time, as root: pip reaches PyPI over TLS, and requests then fetches a page, verified."""
    env = {"PIP_ROOT_USER_ACTION": "ignore", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    out = run_probe(docker_client, python_image, "pip_tls", environment=env, timeout=180)
    assert "got 200" in out, out


def test_unprivileged_pip_falls_back_to_the_user_site_and_venvs_work(
    docker_client: docker.DockerClient, python_image: str
) -> None:
    """As an arbitrary uid: pip installs into ~/.local, as on the official image; python -m venv has pip."""
    env = {"HOME": "/tmp", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    out = run_probe(docker_client, python_image, "user_install", user="10001:10001", environment=env)
    assert "Defaulting to user installation because normal site-packages is not writeable" in out
    assert "42 /tmp/.local/lib/python3.11/site-packages/demo/__init__.py" in out
    assert "from /tmp/venv/lib/python3.11/site-packages/pip (python 3.11)" in out
