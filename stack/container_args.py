"""The spec of one service turned into Docker SDK ``containers.create`` arguments: a pure function.

This is the rendering of the spec that actually runs; like the others in ``render/`` it needs
no engine, so its tests need no Docker. The config hash is taken over these arguments and the
image ID, so it changes exactly when what the engine is asked to run changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from docker.types import Mount as SdkMount

from .spec import LABEL_CONFIG_HASH, ServiceSpec

NANOSECONDS = 1_000_000_000


def create_args(service: ServiceSpec, image_id: str, platform: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``client.containers.create`` that run ``service`` on image ``image_id``.

    ``platform`` (e.g. ``linux/amd64``) asks the engine for that platform's image under emulation.
    The labels carry the config hash the runner compares to decide whether to recreate.
    """
    args: dict[str, Any] = {
        "image": service.image,
        "name": service.container_name,
        "environment": dict(service.environment),
        "labels": dict(service.labels),
        "network": service.network,
        "networking_config": {service.network: {"Aliases": list(service.aliases)} if service.aliases else {}},
        "ports": {f"{inner}/tcp": outer for inner, outer in service.ports.items()},
        "mounts": [SdkMount(m.target, m.source, type=m.kind, read_only=m.read_only) for m in service.mounts],
        "healthcheck": _healthcheck(service),
        "restart_policy": {"Name": service.restart},
        "user": service.user,
        "detach": True,
    }
    if service.sysctls:
        args["sysctls"] = dict(service.sysctls)
    if platform:
        args["platform"] = platform
    args["labels"][LABEL_CONFIG_HASH] = config_hash(args, image_id)
    return args


def config_hash(args: dict[str, Any], image_id: str) -> str:
    """Fingerprint of the create arguments (its own label left out) and the image they run."""
    labels = {k: v for k, v in args["labels"].items() if k != LABEL_CONFIG_HASH}
    body = {**args, "labels": labels, "image_id": image_id}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _healthcheck(service: ServiceSpec) -> dict[str, Any] | None:
    health = service.healthcheck
    if health is None:
        return None
    return {
        "test": ["CMD-SHELL", health.shell_command],
        "interval": int(health.interval * NANOSECONDS),
        "timeout": int(health.timeout * NANOSECONDS),
        "retries": health.retries,
        "start_period": int(health.start_period * NANOSECONDS),
    }
