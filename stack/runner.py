"""How the stack runs: the life-cycle commands, each a short list of steps.

The steps live in their own rooms: finding resources (``resources``), the host port
(``ports``), the app image (``app_image``), containers and their replacement (``containers``,
``container_args``), waiting (``readiness``) and undoing a failed run (``rollback``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime

import docker
from docker.errors import APIError
from docker.models.containers import Container
from docker.models.networks import Network
from docker.models.volumes import Volume

from . import app_image, engine, ports, readiness, rollback, sync
from .containers import STOP_TIMEOUT, Containers
from .errors import StackError, command_line
from .network_and_volume import NetworkAndVolume
from .progress import Progress
from .resources import SERVICE_ROLES, ProjectResources, attached, published_port, remove_network
from .rollback import Journal
from .settings import Settings
from .spec import APP_PORT, LABEL_ROLE, StackSpec
from .waiting import wait_for

# `logs -f`: how often to look for a stopped container running again, and how long one may be
# missing while `up` or `watch` replaces it before following it ends.
FOLLOW_POLL = 0.5
REPLACE_GRACE = 5.0


class Runner:
    """Apply a StackSpec to an engine."""

    def __init__(self, client: docker.DockerClient, spec: StackSpec, progress: Progress) -> None:
        self.client = client
        self.spec = spec
        self.progress = progress
        self.resources = ProjectResources(client, spec.project)
        self.containers = Containers(client, self.resources, progress, spec.host_port)
        self.network_and_volume = NetworkAndVolume(client, self.resources, spec, progress)
        # A remote engine (DOCKER_HOST=tcp://...) publishes ports on its own host, not on this one.
        self.remote_host = engine.published_host(client)

    @property
    def url(self) -> str:
        """Where the app answers: on this host, or on a remote engine's (its ports are published there)."""
        return (
            self.spec.url if self.remote_host is None else f"http://{self.remote_host}:{self.spec.host_port}"
        )

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
            self.network_and_volume.ensure(journal)
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
                    if isinstance(item, Network):
                        remove_network(item)
                    else:
                        item.remove()
                except APIError:  # something outside the stack still uses it: say what, remove the rest
                    in_use.append(f"{kind.lower()} {item.name} ({_users(item)})")
                    continue
                self.progress.update(kind, item.name, "Removed")
        if images:
            for image in self.resources.images():
                found = True
                self.client.images.remove(image.id, force=True)
                self.progress.update(
                    "Image", engine.display_name(image.tags[0]) if image.tags else image.short_id, "Removed"
                )
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
            if container.labels[LABEL_ROLE] == "app" and container.status == "running":
                image += _synced_note(sync.synced_files(container))
            rows.append((f"container {container.name}", described, health, shown_ports, image))
        return rows

    def logs(self, role: str | None, follow: bool, write: Callable[[str], None]) -> None:
        """Write service-prefixed log lines; with ``follow``, keep writing until interrupted.

        Without ``role``, the lines of every container the project has: a half-made stack (an
        ``up`` that was killed) shows what there is to read.
        """
        containers = [self._existing(role)] if role else self.resources.containers()
        if not containers:
            raise StackError(f"project {self.spec.project} has no containers", self._up_fix)
        width = max(len(c.name) for c in containers)

        def pump(container: Container) -> None:
            since: float | None = None
            while True:
                buffered = b""
                for chunk in container.logs(stream=True, follow=follow, since=since):
                    buffered += chunk
                    *lines, buffered = buffered.split(b"\n")
                    for line in lines:
                        write(f"{container.name:<{width}} | {line.decode(errors='replace')}")
                if buffered:
                    write(f"{container.name:<{width}} | {buffered.decode(errors='replace')}")
                if not follow:
                    return
                # The engine ends the stream when the container stops: a restart, a replacement
                # (`up`, `watch`) or its removal (`down`). Follow whatever now runs in its place.
                ended = time.time()
                following = self._next_to_follow(container)
                if following is None:
                    self.progress.echo(f"{container.name} was removed; no longer following it")
                    return
                # The same container again: only what it wrote since; a new one: all of it.
                since = _started_at(following, ended) if following.id == container.id else None
                container = following

        if not follow:
            for container in containers:
                pump(container)
            return
        failed: list[BaseException] = []

        def follow_one(container: Container) -> None:
            try:
                pump(container)
            except BaseException as error:  # reported by the main thread, never as a thread's traceback
                failed.append(error)

        threads = [threading.Thread(target=follow_one, args=(c,), daemon=True) for c in containers]
        for thread in threads:
            thread.start()
        for thread in threads:
            # A failed one (our output's reader left, say) ends the command: the others would fail alike.
            while thread.is_alive() and not failed:
                thread.join(timeout=0.5)
        if failed:
            raise failed[0]

    def _next_to_follow(self, stopped: Container) -> Container | None:
        """Once ``stopped``'s log stream has ended: its role's container when it runs again, or None if gone.

        A container being replaced is gone for a moment before its successor is found: only one
        that stays gone for ``REPLACE_GRACE`` seconds ends the following.
        """
        role = stopped.labels.get(LABEL_ROLE, "")
        gone_since: list[float] = []

        def runs_again() -> Container | bool | None:
            now = self.resources.container(role, stopped.name)
            if now is None:
                gone_since[:] = gone_since or [time.monotonic()]
                return time.monotonic() - gone_since[0] > REPLACE_GRACE  # True: gone for good
            gone_since.clear()
            return now if now.status == "running" else None

        found = wait_for(runs_again, timeout=math.inf, interval=FOLLOW_POLL)
        return found if isinstance(found, Container) else None

    def running(self, role: str) -> Container:
        """The ``role`` container, which must be running (for `exec`)."""
        container = self._existing(role)
        if container.status != "running":
            raise StackError(f"container {container.name} is {container.status}, not running", self._up_fix)
        return container

    @property
    def _up_fix(self) -> str:
        return f"start the stack with `{command_line(self.spec.project, 'up')}`"

    def _existing(self, role: str) -> Container:
        container = self.resources.container(role, self.spec.service(role).container_name)
        if container is None:
            missing = f"the {role} container of project {self.spec.project} does not exist"
            raise StackError(missing, self._up_fix)
        return container


def _started_at(container: Container, fallback: float) -> float:
    """When the engine last started ``container``, by the engine's clock (a remote engine's clock
    may differ from this host's, and the engine picks log lines by its own); else ``fallback``."""
    try:
        return datetime.fromisoformat(container.attrs["State"]["StartedAt"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return fallback


def _users(item: Network | Volume) -> str:
    """Name what keeps a network or volume in use, as far as the engine tells."""
    if isinstance(item, Network):
        names = attached(item)
        return "attached: " + ", ".join(names) if names else "in use"
    return "used by a container outside the stack"


def _synced_note(files: list[str]) -> str:
    """What `status` adds when the app runs code that `watch` copied in after its image was built."""
    if not files:
        return ""
    count = f"{len(files)} file{'s' if len(files) > 1 else ''}"
    return f" + {count} newer than the image, synced by watch (`up` rebuilds)"


def check_credentials_fit_data(resources: ProjectResources, settings: Settings) -> None:
    """Refuse passwords generated now for a data volume that was initialised with older ones."""
    loaded = settings.loaded_credentials
    volumes = [v.name for v in resources.volumes()]
    if not (loaded and loaded.generated and volumes):
        return
    path = settings.credentials_file
    lost = f"lacks {' and '.join(loaded.generated)}" if path.exists() else "does not exist"
    raise StackError(
        f"{path} {lost}, but data volume {volumes[0]} holds a database initialised with the "
        "passwords it held: new ones would not open it",
        f"restore {path} from a backup; or start afresh without the data: "
        f"`{command_line(settings.project, 'down', '--volumes')}` deletes every message in it, then `up`",
    )
