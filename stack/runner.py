"""How the stack runs: the life-cycle commands, each a short list of steps.

The steps live in their own rooms: finding resources (``resources``), the host port
(``ports``), the app image (``app_image``), containers and their replacement (``containers``,
``container_args``), waiting (``readiness``) and undoing a failed run (``rollback``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import docker
from docker.errors import APIError
from docker.models.containers import Container
from docker.models.networks import Network, NetworkCollection
from docker.models.volumes import Volume, VolumeCollection

from . import app_image, engine, ports, readiness, rollback
from .containers import STOP_TIMEOUT, Containers, concurrent_error, name_taken
from .errors import StackError
from .progress import Progress
from .resources import SERVICE_ROLES, ProjectResources, labels_of, published_port, with_role
from .rollback import Journal
from .settings import DEFAULT_PROJECT, Settings
from .spec import APP_PORT, LABEL_ROLE, ResourceSpec, StackSpec
from .waiting import wait_for

UP_FIX = "start the stack with `python orchestrate.py up`"
SETTLE_DEADLINE = 10.0  # seconds for a concurrent command to remove its duplicate network


class Runner:
    """Apply a StackSpec to an engine."""

    def __init__(self, client: docker.DockerClient, spec: StackSpec, progress: Progress) -> None:
        self.client = client
        self.spec = spec
        self.progress = progress
        self.resources = ProjectResources(client, spec.project)
        self.containers = Containers(client, self.resources, progress, spec.host_port)
        # A remote engine (DOCKER_HOST=tcp://...) publishes ports on its own host, not on this one.
        self.remote_host = engine.published_host(client)

    @property
    def readiness_url(self) -> str:
        """Where `up` asks the app whether it is ready."""
        return self._readiness_url(self.spec.host_port)

    def _readiness_url(self, port: int) -> str:
        return f"http://{self.remote_host or '127.0.0.1'}:{port}{readiness.READINESS_PATH}"

    def up(self, build: bool = True, timeout: float = readiness.DEFAULT_DEADLINE) -> None:
        """Bring the stack to its spec and wait until the app answers through its published port."""
        journal = Journal()
        try:
            self._check_port()
            # What can fail without touching the stack comes first: pulls, and a missing app image.
            db_image = engine.ensure_image(self.client, self.spec.db.image, self.progress)
            build_spec = self.spec.app.build
            assert build_spec is not None
            app = app_image.current(self.client, build_spec, build, self.progress)
            self._ensure_resource("Network", self.spec.network, self.client.networks, journal)
            self._ensure_resource("Volume", self.spec.volume, self.client.volumes, journal)
            # The DB initialises while the app image builds and starts: the app waits for it.
            db_container = self.containers.ensure(self.spec.db, db_image.id, journal)
            app = app or app_image.build(self.client, build_spec, self.progress)
            app_container = self.containers.ensure(self.spec.app, app.id, journal)
            readiness.wait_until_ready(
                db_container, app_container, self.readiness_url, timeout, self.progress
            )
        except BaseException as error:
            left = journal.roll_back()
            reported = rollback.failure(error, left)
            if reported is error:
                raise
            raise reported from None
        left = journal.complete()
        if left:
            raise rollback.leftovers_error(left)

    def _check_port(self) -> None:
        app = self.resources.container("app", self.spec.app.container_name)
        if self.remote_host or (
            app and app.status == "running" and published_port(app) == self.spec.host_port
        ):
            return  # a remote engine's ports are not this host's to probe; the engine reports conflicts
        ports.check_free(self.client, self.spec.host_port)

    def _ensure_resource(
        self,
        kind: str,
        spec: ResourceSpec,
        collection: NetworkCollection | VolumeCollection,
        journal: Journal,
    ) -> None:
        if with_role(collection.list(filters=self.resources.filters), spec.labels[LABEL_ROLE]):
            self.progress.update(kind, spec.name, "Up to date")
            return
        if same := [item for item in collection.list(filters={"name": spec.name}) if item.name == spec.name]:
            raise name_taken(kind.lower(), spec.name, self.spec.project, labels_of(same[0]))
        self.progress.update(kind, spec.name, "Creating")
        with journal.change(f"creating {kind.lower()} {spec.name}"):
            try:
                made = collection.create(spec.name, labels=dict(spec.labels))
            except APIError as error:
                if error.status_code == 409:  # engines since 25 refuse a second network of one name
                    raise concurrent_error(f"{kind.lower()} {spec.name}", self.spec.project) from None
                raise
            self._settle_same_name(kind, spec.name, collection, made)
            journal.on_failure(
                f"{kind.lower()} {spec.name}", made.remove, f"docker {kind.lower()} rm {spec.name}"
            )
        self.progress.update(kind, spec.name, "Created")

    def _settle_same_name(
        self, kind: str, name: str, collection: NetworkCollection | VolumeCollection, made: Network | Volume
    ) -> None:
        """The engine's guard against a command on another host: one network per name, never two.

        An engine may let two commands create a network of one name at the same moment. Both
        then see both; the one with the lower ID stays, the other is removed by its maker,
        which stops with a clear error. (A volume of an existing name is the existing one.)
        """
        if kind != "Network":
            return
        same = [item for item in collection.list(filters={"name": name}) if item.name == name]
        if len(same) < 2:
            return
        keeper = min(same, key=lambda item: item.id)
        if made.id != keeper.id:
            made.remove()
            raise concurrent_error(f"network {name}", self.spec.project)
        # Ours stays: wait until the other command has removed its copy, so names are unambiguous.
        wait_for(
            lambda: len([item for item in collection.list(filters={"name": name}) if item.name == name]) == 1,
            timeout=SETTLE_DEADLINE,
            interval=0.05,
        )

    def down(self, volumes: bool = False, images: bool = False) -> bool:
        """Remove the containers (the app first) and the network; the volume and image only when asked.

        Return whether there was anything to remove.
        """
        found = False
        for container in reversed(self.resources.containers()):
            found = True
            self.progress.update("Container", container.name, "Removing")
            self.containers.remove(container)
            self.progress.update("Container", container.name, "Removed")
        kinds: list[tuple[str, Callable[[], list[Network] | list[Volume]]]] = [
            ("Network", self.resources.networks)
        ]
        kinds += [("Volume", self.resources.volumes)] if volumes else []
        in_use = []
        for kind, listing in kinds:
            for item in listing():
                found = True
                try:
                    # Asked, not left to the engine: Podman removes a network that containers still use.
                    if isinstance(item, Network) and _attached(item):
                        raise APIError(f"network {item.name} has active endpoints")
                    item.remove()
                except APIError:  # something outside the stack still uses it: say what, remove the rest
                    in_use.append(f"{kind.lower()} {item.name} ({_users(item)})")
                    continue
                self.progress.update(kind, item.name, "Removed")
        if images:
            for image in self.resources.images():
                found = True
                self.client.images.remove(image.id, force=True)
                self.progress.update("Image", image.tags[0] if image.tags else image.short_id, "Removed")
        if in_use:
            raise StackError(
                f"still in use, so kept: {', '.join(in_use)}",
                "stop or disconnect what uses it, then run `down` again",
            )
        return found

    def nothing_to_remove(self, volumes: bool) -> str:
        """What `down` says when the project has nothing it would remove."""
        said = f"nothing to remove: project {self.spec.project} has no containers or network"
        kept = [v.name for v in self.resources.volumes()] if not volumes else []
        if kept:
            return f"{said}; its data volume {', '.join(kept)} is kept (`down --volumes` removes it)"
        return said

    def check_credentials_fit_data(self, settings: Settings) -> None:
        """Refuse passwords generated now for a data volume that was initialised with older ones."""
        loaded = settings.loaded_credentials
        volumes = [v.name for v in self.resources.volumes()]
        if not (loaded and loaded.generated and volumes):
            return
        path = settings.credentials_file
        lost = f"lacks {' and '.join(loaded.generated)}" if path.exists() else "does not exist"
        project = "" if settings.project == DEFAULT_PROJECT else f" --project {settings.project}"
        raise StackError(
            f"{path} {lost}, but data volume {volumes[0]} holds a database initialised with the "
            "passwords it held: new ones would not open it",
            f"restore {path} from a backup; or start afresh without the data: "
            f"`python orchestrate.py{project} down --volumes` deletes every message in it, then `up`",
        )

    def restart(self, role: str | None, timeout: float) -> None:
        """Restart one service or both, then wait until the app is ready again."""
        containers = {r: self._existing(r) for r in SERVICE_ROLES}
        for r in [role] if role else SERVICE_ROLES:
            self.progress.update("Container", containers[r].name, "Restarting")
            containers[r].restart(timeout=STOP_TIMEOUT)
            self.progress.update("Container", containers[r].name, "Started")
        readiness.wait_until_ready(
            containers["db"], containers["app"], self.readiness_url, timeout, self.progress
        )

    def build(self) -> None:
        """Build the app image even if its context is unchanged (the layer cache still applies)."""
        spec = self.spec.app.build
        assert spec is not None
        engine.ensure_image(self.client, spec.args["PYTHON_IMAGE"], self.progress)
        app_image.build(self.client, spec, self.progress)

    def status(self) -> list[tuple[str, str, str, str, str]]:
        """Rows of (resource, state, health, ports, image) for everything the project owns."""
        rows = [(f"network {n.name}", "created", "", "", "") for n in self.resources.networks()]
        rows += [(f"volume {v.name}", "created", "", "", "") for v in self.resources.volumes()]
        for container in self.resources.containers():
            state = container.attrs["State"]
            restarts = container.attrs.get("RestartCount", 0)
            described = state["Status"] + (
                f", exit code {state['ExitCode']}" if state["Status"] == "exited" else ""
            )
            described += f", restarted {restarts}x" if restarts else ""
            port = published_port(container)
            url = self._readiness_url(port) if port else None
            health = readiness.health(container, container.labels[LABEL_ROLE], url)
            shown_ports = f"0.0.0.0:{port}->{APP_PORT}/tcp" if port else ""
            image = engine.display_name(container.attrs["Config"]["Image"])
            rows.append((f"container {container.name}", described, health, shown_ports, image))
        return rows

    def logs(self, role: str | None, follow: bool, write: Callable[[str], None]) -> None:
        """Write service-prefixed log lines; with ``follow``, keep writing until interrupted.

        Without ``role``, the lines of every container the project has: a half-made stack (an
        ``up`` that was killed) shows what there is to read.
        """
        containers = [self._existing(role)] if role else self.resources.containers()
        if not containers:
            raise StackError(f"project {self.spec.project} has no containers", UP_FIX)
        width = max(len(c.name) for c in containers)

        def pump(container: Container) -> None:
            buffered = b""
            for chunk in container.logs(stream=True, follow=follow):
                buffered += chunk
                *lines, buffered = buffered.split(b"\n")
                for line in lines:
                    write(f"{container.name:<{width}} | {line.decode(errors='replace')}")
            if buffered:
                write(f"{container.name:<{width}} | {buffered.decode(errors='replace')}")

        if not follow:
            for container in containers:
                pump(container)
            return
        threads = [threading.Thread(target=pump, args=(c,), daemon=True) for c in containers]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)

    def _existing(self, role: str) -> Container:
        container = self.resources.container(role, self.spec.service(role).container_name)
        if container is None:
            raise StackError(f"the {role} container of project {self.spec.project} does not exist", UP_FIX)
        return container


def _attached(network: Network) -> list[str]:
    """The names of the containers attached to ``network``."""
    network.reload()
    return [endpoint.get("Name", "?") for endpoint in (network.attrs.get("Containers") or {}).values()]


def _users(item: Network | Volume) -> str:
    """Name what keeps a network or volume in use, as far as the engine tells."""
    if isinstance(item, Network):
        names = _attached(item)
        return "attached: " + ", ".join(names) if names else "in use"
    return "used by a container outside the stack"
