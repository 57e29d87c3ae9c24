"""Finding a project's resources on the engine: by their ownership labels, never by guessing names.

The one way the runner, the tests and the bench look up what a project owns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container
from docker.models.images import Image
from docker.models.networks import Network
from docker.models.volumes import Volume

from .spec import APP_PORT, LABEL_PROJECT, LABEL_ROLE

SERVICE_ROLES = ("db", "app")  # the project's containers, in start order
T = TypeVar("T", Container, Network, Volume, Image)


class ProjectResources:
    """What project ``project`` owns on the engine ``client`` talks to."""

    def __init__(self, client: docker.DockerClient, project: str) -> None:
        self.client = client
        self.project = project

    @property
    def filters(self) -> dict[str, str]:
        """The engine list filter for the project's resources.

        One label only, the role is picked here: engines differ on two label filters (Podman 4.3
        matches either of them for volumes, and neither for images).
        """
        return {"label": f"{LABEL_PROJECT}={self.project}"}

    def container(self, role: str, name: str | None = None) -> Container | None:
        """The container for ``role``, if any; the one called ``name`` first, should an old one linger."""
        found = with_role(listed_containers(self.client, self.filters), role)
        return next((c for c in found if c.name == name), found[0] if found else None)

    def containers(self, roles: Sequence[str] = SERVICE_ROLES) -> list[Container]:
        """The project's containers for ``roles``, in that order.

        Only the services: a stranger's container run from the app image inherits its project label.
        """
        found = [c for c in listed_containers(self.client, self.filters) if c.labels.get(LABEL_ROLE) in roles]
        return sorted(found, key=lambda c: roles.index(c.labels[LABEL_ROLE]))

    def has_services(self) -> bool:
        """Whether any of the project's service containers exists, running or not (one engine call)."""
        listed = self.client.api.containers(all=True, filters=self.filters)
        return any((entry.get("Labels") or {}).get(LABEL_ROLE) in SERVICE_ROLES for entry in listed)

    def networks(self) -> list[Network]:
        """The project's networks (one, unless something went wrong)."""
        return self.client.networks.list(filters=self.filters)

    def volumes(self) -> list[Volume]:
        """The project's volumes."""
        return self.client.volumes.list(filters=self.filters)

    def images(self) -> list[Image]:
        """The images the project built."""
        return with_role(self.client.images.list(filters=self.filters), "image")

    def owned(self) -> dict[str, list[str]]:
        """Names of every container, network and volume, and ids of images, the project owns, by kind."""
        every = listed_containers(self.client, self.filters)
        return {
            "containers": [c.name for c in every],
            "networks": [n.name for n in self.networks()],
            "volumes": [v.name for v in self.volumes()],
            "images": [i.short_id for i in self.images()],
        }


def listed_containers(
    client: docker.DockerClient, filters: dict[str, str] | None = None, *, stopped: bool = True
) -> list[Container]:
    """The containers matching ``filters``, stopped ones too unless ``stopped`` is False.

    The engine lists, then each container is inspected; one removed in between (by a concurrent
    ``down``, a rollback, or a test's clean-up) is left out instead of failing the whole list.
    """
    entries = client.api.containers(all=stopped, filters=filters or {})
    return [c for c in (existing(client, entry["Id"]) for entry in entries) if c is not None]


def existing(client: docker.DockerClient, name_or_id: str) -> Container | None:
    """The container ``name_or_id``, or None once it is gone (or going: removed by another command)."""
    try:
        return client.containers.get(name_or_id)
    except APIError as error:
        if gone(error):
            return None
        raise


def gone(error: APIError) -> bool:
    """Whether the engine says the container no longer exists: Docker says so with 404, Podman,
    while it removes one, sometimes with 500 ("does not exist in database: no such container")."""
    return isinstance(error, NotFound) or "no such container" in str(error.explanation or error).lower()


def with_role(items: list[T], role: str) -> list[T]:
    """The ``items`` labelled with ``role``."""
    return [item for item in items if (labels_of(item) or {}).get(LABEL_ROLE) == role]


def labels_of(item: Container | Network | Volume | Image) -> dict[str, str] | None:
    """The labels of any kind of resource (docker-py gives containers and images a property, not the rest)."""
    return item.labels if isinstance(item, Container | Image) else item.attrs.get("Labels")


def attached(network: Network) -> list[str]:
    """The names of the containers attached to ``network``."""
    network.reload()
    return [endpoint.get("Name", "?") for endpoint in (network.attrs.get("Containers") or {}).values()]


def remove_network(network: Network) -> None:
    """Remove ``network``, refused while containers use it, as Docker refuses (Podman would remove it)."""
    users = attached(network)
    if users:
        raise APIError(f"network {network.name} has active endpoints: {', '.join(users)}")
    network.remove()


def host_ports(container: Container) -> set[int]:
    """Every host port the container publishes."""
    bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
    return {int(b["HostPort"]) for entries in bindings.values() for b in entries or [] if b.get("HostPort")}


def published_port(container: Container, inner: int = APP_PORT) -> int | None:
    """The host port the container publishes its port ``inner`` on, if it does."""
    bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
    for binding in bindings.get(f"{inner}/tcp") or []:
        return int(binding["HostPort"])
    return None
