"""The Python stand-in works as a base image: pip reaches PyPI during a build, the result runs."""

from __future__ import annotations

import io

import docker
import pytest

from .support import LABELS, Resources, run_to_exit

pytestmark = pytest.mark.standins

DOCKERFILE = """\
FROM {base}
RUN pip install --no-cache-dir six
CMD ["python", "-c", "import six, sys; print('six', six.__version__, 'on', sys.version.split()[0])"]
"""


def test_image_built_on_the_python_standin_pip_installs_and_runs(
    docker_client: docker.DockerClient, python_image: str
) -> None:
    """A FROM-stand-in Dockerfile installs a PyPI package at build time and imports it at run time."""
    with Resources(docker_client) as resources:
        tag = f"{resources.name('pip-build')}:latest"
        resources.track_image(tag)
        _, build_log = docker_client.images.build(
            fileobj=io.BytesIO(DOCKERFILE.format(base=python_image).encode()),
            tag=tag,
            labels=LABELS,
            nocache=True,  # pip must really reach PyPI, not replay a cached layer
            rm=True,
            forcerm=True,  # no intermediate containers left behind, even when the build fails
        )
        assert "Successfully installed six" in "".join(chunk.get("stream", "") for chunk in build_log)
        code, out = run_to_exit(resources, tag, "pip-run")
    assert code == 0, out
    assert out.startswith("six 1."), out
    assert "on 3.11." in out
