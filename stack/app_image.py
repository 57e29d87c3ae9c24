"""The app's image: the one already built from this exact context, or a new build."""

from __future__ import annotations

import docker
from docker.errors import APIError, ImageNotFound
from docker.models.images import Image

from . import engine
from .errors import StackError, command_line
from .progress import Progress
from .spec import LABEL_PROJECT, BuildSpec


def current(
    client: docker.DockerClient, spec: BuildSpec, may_build: bool, progress: Progress
) -> Image | None:
    """The image to run if no build is due; else None, with the base image pulled for the build.

    Without ``may_build`` (``up --no-build``) the existing tag is used as it is, and a missing
    one is an error: all before anything of the stack is touched.
    """
    image = engine.current_build(client, spec, engine.context_hash(spec))
    if image:
        progress.update("Image", spec.tag, "Up to date")
        return image
    if not may_build:
        try:
            return client.images.get(spec.tag)
        except ImageNotFound:
            build_it = command_line(spec.labels.get(LABEL_PROJECT, ""), "build")
            raise StackError(
                f"image {spec.tag} does not exist and --no-build was given",
                f"run without --no-build, or build it first with `{build_it}`",
            ) from None
    engine.ensure_image(client, spec.args["PYTHON_IMAGE"], progress)
    return None


def build(client: docker.DockerClient, spec: BuildSpec, progress: Progress) -> Image:
    """Build the image (the engine's layer cache still applies)."""
    return engine.build_image(client, spec, engine.context_hash(spec), progress)


def remove_if_unused(client: docker.DockerClient, image_id: str, project: str) -> None:
    """Remove an untagged image ``project`` built and no longer runs, so rebuilds leave none dangling."""
    try:
        image = client.images.get(image_id)
        if (image.labels or {}).get(LABEL_PROJECT) == project and not image.tags:
            client.images.remove(image.id)
    except APIError:  # still used by another container, or already gone: keep it
        pass
