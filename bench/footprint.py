"""Footprint: what an image adds to its base, and what each container holds in memory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import docker
from docker.models.containers import Container

from .containers import memory_bytes

MB = 1e6  # sizes as `docker images` prints them (decimal megabytes)
MIB = 2**20  # memory as `docker stats` prints it


def image_sizes(client: docker.DockerClient, images: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """For each name -> (image, its base): both sizes and the difference, in MB."""
    sizes = {}
    for name, (image, base) in images.items():
        own, under = client.images.get(image).attrs["Size"], client.images.get(base).attrs["Size"]
        sizes[name] = {
            "image": image,
            "base": base,
            "image_mb": round(own / MB, 1),
            "base_mb": round(under / MB, 1),
            "over_base_mb": round((own - under) / MB, 1),
        }
    return sizes


def memory_now(containers: Iterable[Container]) -> dict[str, float]:
    """Memory in use by each container right now, in MiB, by container name."""
    return {c.name: round(memory_bytes(c) / MIB, 1) for c in containers}


def in_mib(peaks: Mapping[str, int]) -> dict[str, float]:
    """Byte counts as MiB."""
    return {name: round(used / MIB, 1) for name, used in peaks.items()}
