"""The stack's network and data volume: found by label, created when missing, never doubled."""

from __future__ import annotations

import docker
from docker.errors import APIError
from docker.models.networks import Network, NetworkCollection
from docker.models.volumes import Volume, VolumeCollection

from . import engine
from .containers import concurrent_error, name_taken
from .progress import Progress
from .resources import ProjectResources, labels_of, remove_network, with_role
from .rollback import Journal
from .spec import LABEL_ROLE, ResourceSpec, StackSpec
from .waiting import WaitTimeout, wait_for

SETTLE_DEADLINE = 10.0  # seconds for a concurrent command to remove its duplicate network


class NetworkAndVolume:
    """Ensure the project's network and volume exist, recording how to undo what was created."""

    def __init__(
        self, client: docker.DockerClient, resources: ProjectResources, spec: StackSpec, progress: Progress
    ) -> None:
        self.client = client
        self.resources = resources
        self.spec = spec
        self.progress = progress

    def ensure(self, journal: Journal) -> None:
        """The network, then the volume."""
        self._ensure("network", self.spec.network, self.client.networks, journal)
        self._ensure("volume", self.spec.volume, self.client.volumes, journal)

    def _ensure(
        self,
        kind: str,
        spec: ResourceSpec,
        collection: NetworkCollection | VolumeCollection,
        journal: Journal,
    ) -> None:
        shown = kind.capitalize()
        if with_role(collection.list(filters=self.resources.filters), spec.labels[LABEL_ROLE]):
            self.progress.update(shown, spec.name, "Up to date")
            return
        for item in _named(collection, spec.name):
            # Not there a moment ago: ours now means another command is bringing this project up.
            raise name_taken(kind, spec.name, self.spec.project, labels_of(item))
        self.progress.update(shown, spec.name, "Creating")
        with journal.change(f"creating {kind} {spec.name}"):
            try:
                made = collection.create(spec.name, labels=dict(spec.labels))
            except APIError as error:
                if engine.name_in_use(error):  # newer engines refuse a second network of one name
                    raise concurrent_error(f"{kind} {spec.name}", self.spec.project) from None
                raise
            if kind == "network":
                self._settle(collection, made)
            undo = (lambda: remove_network(made)) if isinstance(made, Network) else made.remove
            journal.on_failure(f"{kind} {spec.name}", undo, f"docker {kind} rm {spec.name}")
        self.progress.update(shown, spec.name, "Created")

    def _settle(self, collection: NetworkCollection | VolumeCollection, made: Network | Volume) -> None:
        """The engine-side guard where the engine allows two networks of one name (Docker 20.10).

        Two commands that create it at the same moment both see both; the one with the lower ID
        stays, the other is removed by its maker, which stops with a clear error. (A volume of an
        existing name is the existing one, and newer engines refuse the second network outright.)
        """
        same = _named(collection, made.name)
        if len(same) < 2:
            return
        if made.id != min(item.id for item in same):
            made.remove()
            raise concurrent_error(f"network {made.name}", self.spec.project)
        # Ours stays: wait until the other command has removed its copy, so the name is unambiguous.
        try:
            wait_for(lambda: len(_named(collection, made.name)) == 1, timeout=SETTLE_DEADLINE, interval=0.05)
        except WaitTimeout:
            made.remove()
            raise concurrent_error(f"network {made.name}", self.spec.project) from None


def _named(collection: NetworkCollection | VolumeCollection, name: str) -> list[Network | Volume]:
    """The items called exactly ``name`` (the engine's filter matches parts of names too)."""
    return [item for item in collection.list(filters={"name": name}) if item.name == name]
