"""Which images the stack runs: the official ones from Docker Hub, or the local stand-ins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageSet:
    """The DB image and the Python base image the app is built on."""

    db: str
    python: str


OFFICIAL = ImageSet(db="mysql:5.7", python="python:3.11-slim")
# Built by scripts/standin-images.sh from Debian packages when no registry answers.
STANDIN = ImageSet(db="apl/mysql-compat:mariadb-10.11", python="apl/python:3.11-bookworm")
IMAGE_SETS = {"official": OFFICIAL, "standin": STANDIN}
DEFAULT_IMAGE_SET = "official"


def resolve_images(
    choice: str = DEFAULT_IMAGE_SET, db: str | None = None, python: str | None = None
) -> ImageSet:
    """Pick an image set by name, then apply explicit per-image overrides."""
    try:
        chosen = IMAGE_SETS[choice]
    except KeyError:
        raise ValueError(f"unknown image set {choice!r}: use one of {', '.join(IMAGE_SETS)}") from None
    return ImageSet(db=db or chosen.db, python=python or chosen.python)


def images_from_env(env: Mapping[str, str]) -> ImageSet:
    """The images APL_IMAGES, APL_DB_IMAGE and APL_PYTHON_IMAGE select, as orchestrate.py reads them."""
    return resolve_images(
        env.get("APL_IMAGES") or DEFAULT_IMAGE_SET,
        db=env.get("APL_DB_IMAGE"),
        python=env.get("APL_PYTHON_IMAGE"),
    )
