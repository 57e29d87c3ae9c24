"""scripts/standin-images.sh reuses a stand-in only while it was built from the current inputs."""

from __future__ import annotations

import io
import time

import docker
import pytest
from docker.errors import ImageNotFound

from stack.images import ImageSet

from .support import INPUTS_LABEL, LABELS, Resources, run_build_script

pytestmark = pytest.mark.standins


def test_current_stand_ins_are_reused_as_they_are(
    docker_client: docker.DockerClient, python_image: str, db_image: str
) -> None:
    """A second run builds nothing: the same image IDs, no "built" line, well under a second or two."""
    before = {tag: docker_client.images.get(tag).id for tag in (python_image, db_image)}
    started = time.monotonic()
    report = run_build_script(ImageSet(db=db_image, python=python_image))
    elapsed = time.monotonic() - started
    assert "built" not in report, report
    assert {tag: docker_client.images.get(tag).id for tag in before} == before
    assert elapsed < 5, f"reusing the stand-ins took {elapsed:.1f} s"


def test_a_stand_in_built_from_other_inputs_is_rebuilt_under_its_tag(
    docker_client: docker.DockerClient, python_image: str, db_image: str
) -> None:
    """A tag whose inputs label does not match is rebuilt, and the image it pointed to is removed."""
    with Resources(docker_client) as resources:
        tag = f"{resources.name('stale-python')}:latest"
        resources.track_image(tag)
        # The image a stand-in Dockerfile edited since would leave: same tag, another inputs digest.
        dockerfile = f'FROM {python_image}\nLABEL {INPUTS_LABEL}="from older inputs"\n'
        stale, _ = docker_client.images.build(
            fileobj=io.BytesIO(dockerfile.encode()), tag=tag, labels=LABELS, rm=True, forcerm=True
        )
        report = run_build_script(ImageSet(db=db_image, python=tag))
        rebuilt = docker_client.images.get(tag)
    assert f"rebuilt {tag} (its build inputs changed)" in report, report
    # Same inputs as the stand-in under test, so the same digest (and the layer cache made it quick).
    assert rebuilt.labels[INPUTS_LABEL] == docker_client.images.get(python_image).labels[INPUTS_LABEL]
    with pytest.raises(ImageNotFound):
        docker_client.images.get(stale.id)
