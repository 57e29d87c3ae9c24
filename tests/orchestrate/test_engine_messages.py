"""Failure messages that cannot be provoked on this machine (or need no engine), and the build-context
fingerprint."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import docker
import pytest
import requests

from stack.engine import build_failure, context_hash, display_name, lost, pull_error
from stack.ports import free_port
from stack.spec import BuildSpec

pytestmark = pytest.mark.unit


def test_a_platform_without_the_image_gets_an_alternative() -> None:
    # What the engine says on Apple silicon for mysql:5.7, which has no arm64 image.
    error = pull_error("mysql:5.7", "no matching manifest for linux/arm64/v8 in the manifest list entries")
    assert error.problem.startswith("mysql:5.7 has no image for this machine")
    assert "--db-image" in error.fix and "--images standin" in error.fix


def test_no_registry_points_to_the_standins() -> None:
    error = pull_error(
        "mysql:5.7", 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry: no such host'
    )
    assert error.problem == "cannot pull mysql:5.7: no container registry answers"
    assert "scripts/standin-images.sh" in error.fix


def test_unknown_image_is_named() -> None:
    error = pull_error("nope:1", "pull access denied for nope, repository does not exist")
    assert error.problem.startswith("cannot pull nope:1: pull access denied")


def make_context(root: Path) -> BuildSpec:
    (root / "app").mkdir()
    (root / "app" / "main.py").write_text("print('v1')\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("")
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / ".dockerignore").write_text("tests\n")
    return BuildSpec(root, "demo:latest", args={"PYTHON_IMAGE": "python:3.11-slim"})


def test_context_fingerprint_changes_with_code_and_build_args(tmp_path: Path) -> None:
    build = make_context(tmp_path)
    before = context_hash(build)
    assert context_hash(build) == before
    (tmp_path / "app" / "main.py").write_text("print('v2')\n")
    edited = context_hash(build)
    assert edited != before
    assert context_hash(BuildSpec(tmp_path, "demo:latest", args={"PYTHON_IMAGE": "other"})) != edited


def test_context_fingerprint_ignores_what_dockerignore_excludes(tmp_path: Path) -> None:
    build = make_context(tmp_path)
    before = context_hash(build)
    (tmp_path / "tests" / "test_x.py").write_text("assert True\n")
    assert context_hash(build) == before


def test_context_fingerprint_reads_a_link_never_its_target_and_takes_any_name(tmp_path: Path) -> None:
    build = make_context(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("a secret of the host")
    (tmp_path / "app" / "leak.txt").symlink_to(outside)
    (tmp_path / "app" / os.fsdecode(b"bad\xff.txt")).write_text("a name that is not UTF-8")
    before = context_hash(build)
    outside.write_text("the target changed, and the build sends only the link")
    assert context_hash(build) == before
    (tmp_path / "app" / "leak.txt").unlink()
    (tmp_path / "app" / "leak.txt").symlink_to("/etc/passwd")
    assert context_hash(build) != before


@pytest.mark.parametrize(
    "message",
    [
        # Docker's builder, then Podman's (buildah), for the same failed RUN.
        "The command '/bin/sh -c echo broken && exit 3' returned a non-zero code: 3",
        'building at STEP "RUN echo broken && exit 3": while running runtime: exit status 3',
    ],
)
def test_a_failed_build_step_reads_the_same_on_every_engine(message: str) -> None:
    assert build_failure(message) == "its command exited with code 3"


@pytest.mark.parametrize(
    ("reported", "shown"),
    [
        ("docker.io/library/mysql:5.7", "mysql:5.7"),  # Podman's names for Docker Hub's images
        ("docker.io/apl/python:3.11-bookworm", "apl/python:3.11-bookworm"),
        ("localhost/apl-app:latest", "apl-app:latest"),  # Podman's for a local build
        ("mysql:5.7", "mysql:5.7"),  # Docker's
        ("127.0.0.1:5000/apl-app:latest", "127.0.0.1:5000/apl-app:latest"),
    ],
)
def test_image_names_read_as_written_whatever_the_engine(reported: str, shown: str) -> None:
    assert display_name(reported) == shown


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("unix:///nonexistent/docker.sock", "[Errno 2] No such file or directory"),
        ("tcp://127.0.0.1:{port}", "[Errno 111]"),
    ],
    ids=["socket-gone", "port-closed"],
)
# docker-py leaves the socket of a failed unix connect to the garbage collector: collected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_engine_gone_mid_command_is_named_in_the_systems_words(where: str, words: str) -> None:
    # Real transport errors (nothing listens there), not docker-py's nested tuples of them.
    client = docker.DockerClient(base_url=where.format(port=free_port()), timeout=2, version="1.41")
    with pytest.raises(requests.ConnectionError) as raised:
        client.api.containers()
    error = lost(raised.value)
    client.close()
    del raised
    gc.collect()
    assert error is not None and error.problem.startswith(f"the Docker engine could not be reached ({words}")
    assert "Connection aborted" not in error.problem and "Max retries" not in error.problem
