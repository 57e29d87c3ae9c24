"""Creating, replacing, starting and removing the stack's containers.

A container is recreated only when its config hash (``container_args``) differs. The one it
replaces is renamed and kept until the new one is ready, so a failed update puts it back.
"""

from __future__ import annotations

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from . import app_image, engine, ports
from .container_args import create_args
from .errors import StackError, command_line
from .progress import Progress
from .resources import ProjectResources, labels_of
from .rollback import Journal
from .spec import LABEL_CONFIG_HASH, LABEL_PROJECT, ServiceSpec

STOP_TIMEOUT = 10  # seconds; gunicorn's graceful_timeout stays below it


class Containers:
    """The project's containers on one engine."""

    def __init__(
        self, client: docker.DockerClient, resources: ProjectResources, progress: Progress, host_port: int
    ) -> None:
        self.client = client
        self.resources = resources
        self.progress = progress
        self.host_port = host_port  # for the error when the engine finds it taken

    def ensure(self, service: ServiceSpec, image_id: str, journal: Journal) -> Container:
        """The running container for ``service`` on ``image_id``: the current one, or a new one."""
        name = service.container_name
        args = create_args(
            service, image_id, engine.run_platform(self.client, self.client.images.get(image_id))
        )
        current = self.resources.container(service.role, name)
        if current and current.labels.get(LABEL_CONFIG_HASH) == args["labels"][LABEL_CONFIG_HASH]:
            if current.status == "running":
                self.progress.update("Container", name, "Running")
                return current
            self.progress.update("Container", name, "Starting")
            self.start(current)
            self.progress.update("Container", name, "Started")
            return current
        if current:
            self.progress.update("Container", name, "Recreating")
            self._set_aside(current, name, image_id, journal)
        elif same_name := self._named(name):
            raise name_taken("container", name, self.resources.project, labels_of(same_name))
        self.progress.update("Container", name, "Creating")
        with journal.change(f"creating container {name}"):
            try:
                created = self.client.containers.create(**args)
            except APIError as error:
                if engine.name_in_use(error):  # the name was free a moment ago: another command took it
                    raise concurrent_error(f"container {name}", self.resources.project) from None
                if _network_gone(error):
                    raise concurrent_error(
                        f"network {service.network}", self.resources.project, "removed"
                    ) from None
                raise
            journal.on_failure(
                f"container {name}", lambda: self.remove(created), f"docker rm -f {created.id[:12]}"
            )
        if current:
            # Only now: the old one serves until the new one is created, then frees the port.
            current.stop(timeout=STOP_TIMEOUT)
        self.start(created)
        self.progress.update("Container", name, "Started")
        return created

    def _set_aside(self, current: Container, name: str, new_image_id: str, journal: Journal) -> None:
        """Rename ``current`` out of the way, to be restored if the run fails or removed once it succeeds."""
        aside = f"{name}-replaced-{current.id[:12]}"
        with journal.change(f"renaming container {name}"):
            current.rename(aside)
            journal.on_failure(
                f"container {aside} (the one this run replaced)",
                lambda: self._restore(current, name),
                f"docker rm -f {name}; docker rename {aside} {name}; docker start {name}",
            )
        journal.on_success(
            f"container {aside} (replaced)",
            lambda: self._remove_replaced(current, new_image_id),
            f"docker rm {aside}",
        )

    def _restore(self, replaced: Container, name: str) -> None:
        """Put back a container that an update failed to replace."""
        replaced.rename(name)
        replaced.start()
        self.progress.update("Container", name, "Restored")

    def _remove_replaced(self, replaced: Container, new_image_id: str) -> None:
        replaced.remove(v=False)
        if replaced.attrs["Image"] != new_image_id:
            app_image.remove_if_unused(self.client, replaced.attrs["Image"], self.resources.project)

    def start(self, container: Container) -> None:
        """Start ``container``; a host port the engine finds taken is a StackError."""
        try:
            container.start()
        except APIError as error:
            text = str(error.explanation or error)
            if any(marker in text for marker in ports.ENGINE_PORT_TAKEN):
                raise ports.taken_error(self.host_port) from None
            if _network_gone(error):
                raise concurrent_error("the stack's network", self.resources.project, "removed") from None
            raise

    def remove(self, container: Container) -> None:
        """Stop and remove ``container``; one already gone is fine."""
        try:
            container.stop(timeout=STOP_TIMEOUT)
            container.remove(v=False)
        except NotFound:
            pass

    def _named(self, name: str) -> Container | None:
        try:
            return self.client.containers.get(name)
        except NotFound:
            return None


def _network_gone(error: APIError) -> bool:
    """A 404 naming a network, which this run found or made a moment ago: another command removed it."""
    return error.status_code == 404 and "network" in str(error.explanation or "")


def not_ours(kind: str, name: str, project: str) -> StackError:
    """The error for a resource with the stack's name that another project or person made."""
    return StackError(
        f"a {kind} named {name} already exists and does not belong to project {project}",
        f"remove it (docker {kind} rm {name}) or choose another project with --project NAME",
    )


def name_taken(kind: str, name: str, project: str, labels: dict[str, str] | None) -> StackError:
    """The error for a name found taken: if by this project's own label, by a command at the same moment."""
    if (labels or {}).get(LABEL_PROJECT) == project:
        return concurrent_error(f"{kind} {name}", project)
    return not_ours(kind, name, project)


def concurrent_error(what: str, project: str, did: str = "created") -> StackError:
    """The error for a resource another command (on another host, sharing the engine) ``did`` something
    to at the same moment: created a name this one was taking, or removed what it was using."""
    return StackError(
        f"another command {did} {what} at the same moment (from another host or user sharing this engine)",
        f"let it finish, then run the command again (`{command_line(project, 'status')}` shows the stack)",
    )
