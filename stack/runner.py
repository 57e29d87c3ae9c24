"""How the stack runs: engine calls that make the resources in a StackSpec real.

Every resource is found by its ownership labels. ``up`` changes only what differs from the
spec and, when it fails or is interrupted, removes what it created in that run.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable

import docker
import requests
from docker.errors import APIError, NotFound
from docker.models.containers import Container
from docker.models.images import Image
from docker.models.networks import Network, NetworkCollection
from docker.models.volumes import Volume, VolumeCollection

from . import engine
from .cleanup import quietly, sigint_ignored
from .errors import StackError
from .progress import Progress
from .spec import (
    LABEL_CONFIG_HASH,
    LABEL_PROJECT,
    LABEL_ROLE,
    HttpProbes,
    ResourceSpec,
    ServiceSpec,
    StackSpec,
)
from .waiting import WaitTimeout, wait_for

STOP_TIMEOUT = 10
LOG_TAIL = 15


class Runner:
    """Apply a StackSpec to an engine."""

    def __init__(self, client: docker.DockerClient, spec: StackSpec, progress: Progress) -> None:
        self.client = client
        self.spec = spec
        self.progress = progress
        # A remote engine (DOCKER_HOST=tcp://...) publishes ports on its own host, not on this one.
        self.remote_host = engine.published_host(client)

    # -- finding what exists -------------------------------------------------------------

    def _filters(self, role: str | None = None) -> dict[str, list[str]]:
        wanted = [f"{LABEL_PROJECT}={self.spec.project}"]
        if role:
            wanted.append(f"{LABEL_ROLE}={role}")
        return {"label": wanted}

    def container(self, role: str) -> Container | None:
        """The project's container for ``role``, if it exists (by its name, should an old one linger)."""
        found = self.client.containers.list(all=True, filters=self._filters(role))
        name = self.spec.service(role).container_name
        return next((c for c in found if c.name == name), found[0] if found else None)

    # -- up ------------------------------------------------------------------------------

    def up(self, build: bool = True, timeout: float = 120) -> None:
        """Bring the stack to its spec and wait until the app answers through its published port."""
        undo: list[Callable[[], None]] = []  # reverses this run's changes if it fails
        finish: list[Callable[[], None]] = []  # removes what was replaced, once the stack is ready
        try:
            self._check_port()
            # What can fail without touching the stack comes first: pulls, and a missing app image.
            db_image = engine.ensure_image(self.client, self.spec.db.image, self.progress)
            app_image = self._current_app_image(build)
            self._ensure_resource("Network", self.spec.network, self.client.networks, undo)
            self._ensure_resource("Volume", self.spec.volume, self.client.volumes, undo)
            # The DB initialises while the app image builds and starts: the app waits for it.
            db = self._ensure_container(self.spec.db, db_image.id, undo, finish)
            app_image = app_image or self._build_app_image()
            app = self._ensure_container(self.spec.app, app_image.id, undo, finish)
            self._wait_ready(db, app, timeout)
        except BaseException as error:
            with sigint_ignored():
                for step in reversed(undo):
                    quietly(step)
            if isinstance(error, KeyboardInterrupt):
                raise StackError(
                    "interrupted; the stack is as it was before this run", exit_code=130
                ) from None
            raise
        for step in finish:
            quietly(step)

    def _check_port(self) -> None:
        port = self.spec.app.ports[80]
        app = self.container("app")
        if self.remote_host or (app and app.status == "running" and _published_port(app) == port):
            return  # a remote engine's ports are not this host's to probe; the engine reports conflicts
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                return  # e.g. a low port this user may not bind: the engine can, and says if it is taken
            raise StackError(
                f"host port {port} is already taken by {self._port_holder(port)}", _PORT_FIX
            ) from None
        finally:
            probe.close()

    def _port_holder(self, port: int) -> str:
        for other in self.client.containers.list():
            if port in _host_ports(other):
                return f"container {other.name}"
        return "another process"

    def _ensure_resource(
        self,
        kind: str,
        spec: ResourceSpec,
        collection: NetworkCollection | VolumeCollection,
        undo: list[Callable[[], None]],
    ) -> None:
        if collection.list(filters=self._filters(spec.labels[LABEL_ROLE])):
            self.progress.update(kind, spec.name, "Up to date")
            return
        if any(item.name == spec.name for item in collection.list(filters={"name": spec.name})):
            raise _not_ours(kind.lower(), spec.name, self.spec.project)
        self.progress.update(kind, spec.name, "Creating")
        made = collection.create(spec.name, labels=dict(spec.labels))
        undo.append(made.remove)
        self.progress.update(kind, spec.name, "Created")

    def _current_app_image(self, build: bool) -> Image | None:
        """The app image to run if no build is due; else None, with the base image pulled for the build."""
        spec = self.spec.app.build
        assert spec is not None
        image = engine.current_build(self.client, spec, engine.context_hash(spec))
        if image:
            self.progress.update("Image", spec.tag, "Up to date")
            return image
        if not build:
            try:
                return self.client.images.get(spec.tag)
            except docker.errors.ImageNotFound:
                raise StackError(
                    f"image {spec.tag} does not exist and --no-build was given", _BUILD_FIX
                ) from None
        engine.ensure_image(self.client, spec.args["PYTHON_IMAGE"], self.progress)
        return None

    def _build_app_image(self) -> Image:
        spec = self.spec.app.build
        assert spec is not None
        return engine.build_image(self.client, spec, engine.context_hash(spec), self.progress)

    def _ensure_container(
        self,
        service: ServiceSpec,
        image_id: str,
        undo: list[Callable[[], None]],
        finish: list[Callable[[], None]],
    ) -> Container:
        name = service.container_name
        wanted = service.config_hash(image_id)
        current = self.container(service.role)
        if current and current.labels.get(LABEL_CONFIG_HASH) == wanted:
            if current.status != "running":
                self.progress.update("Container", name, "Starting")
                self._start(current)
                self.progress.update("Container", name, "Started")
            else:
                self.progress.update("Container", name, "Running")
            return current
        if current:
            self.progress.update("Container", name, "Recreating")
            # Renamed and later stopped, but kept until the new one is ready: a failed update puts
            # it back instead of leaving the stack without this service.
            current.rename(f"{name}-replaced-{current.id[:12]}")
            undo.append(lambda: self._restore(current, name))
            finish.append(lambda: self._remove_replaced(current, image_id))
        elif self._name_taken(name):
            raise _not_ours("container", name, self.spec.project)
        self.progress.update("Container", name, "Creating")
        created = self.client.containers.create(**self._create_args(service, wanted))
        undo.append(lambda: self._stop_remove(created))
        if current:
            # Only now: the old one serves until the new one is created, then frees the port.
            current.stop(timeout=STOP_TIMEOUT)
        self._start(created)
        self.progress.update("Container", name, "Started")
        return created

    def _restore(self, replaced: Container, name: str) -> None:
        """Put back a container that an update failed to replace."""
        replaced.rename(name)
        replaced.start()
        self.progress.update("Container", name, "Restored")

    def _remove_replaced(self, replaced: Container, new_image_id: str) -> None:
        replaced.remove(v=False)
        if replaced.attrs["Image"] != new_image_id:
            self._remove_own_image(replaced.attrs["Image"])

    def _remove_own_image(self, image_id: str) -> None:
        """Remove an app image this project built and no longer runs, so rebuilds leave no dangling images."""
        try:
            image = self.client.images.get(image_id)
            if (image.labels or {}).get(LABEL_PROJECT) == self.spec.project and not image.tags:
                self.client.images.remove(image.id)
        except APIError:  # still used by another container, or already gone: keep it
            pass

    def _create_args(self, service: ServiceSpec, config_hash: str) -> dict:
        health = service.healthcheck
        return {
            "image": service.image,
            "name": service.container_name,
            "environment": dict(service.environment),
            "labels": {**service.labels, LABEL_CONFIG_HASH: config_hash},
            "network": service.network,
            "networking_config": {
                service.network: self.client.api.create_endpoint_config(aliases=list(service.aliases) or None)
            },
            "ports": {f"{inner}/tcp": outer for inner, outer in service.ports.items()},
            "mounts": [
                docker.types.Mount(m.target, m.source, type=m.kind, read_only=m.read_only)
                for m in service.mounts
            ],
            "healthcheck": health
            and {
                "test": ["CMD-SHELL", health.shell_command],
                "interval": int(health.interval * 1e9),
                "timeout": int(health.timeout * 1e9),
                "retries": health.retries,
                "start_period": int(health.start_period * 1e9),
            },
            "restart_policy": {"Name": service.restart},
            "user": service.user,
            "detach": True,
        }

    def _start(self, container: Container) -> None:
        try:
            container.start()
        except APIError as error:
            text = str(error.explanation or error)
            if "port is already allocated" in text or "address already in use" in text:
                raise StackError(f"host port {self.spec.app.ports[80]} is already taken", _PORT_FIX) from None
            raise

    def _name_taken(self, name: str) -> bool:
        try:
            self.client.containers.get(name)
        except NotFound:
            return False
        return True

    @property
    def _probes(self) -> HttpProbes:
        assert self.spec.app.probes is not None
        return self.spec.app.probes

    def _wait_ready(self, db: Container, app: Container, timeout: float) -> None:
        probes = self._probes
        url = f"http://{self.remote_host or '127.0.0.1'}:{self.spec.app.ports[80]}{probes.readiness}"
        # A remote engine's name is no host the app answers for by default: name one it does.
        headers = {"Host": probes.host}

        # Only a restart during this wait means a crash now: one the policy recovered from earlier
        # (an app killed last week) is history, and `up` on that healthy stack must succeed.
        restarts_before = {}
        for container in (db, app):
            container.reload()
            restarts_before[container.id] = container.attrs.get("RestartCount", 0)

        def ready() -> bool:
            for container in (db, app):
                container.reload()
                restarted = container.attrs.get("RestartCount", 0) > restarts_before[container.id]
                if container.status in ("exited", "dead") or restarted:
                    raise self._crashed(container)
            try:
                return requests.get(url, headers=headers, timeout=2).status_code == 200
            except requests.RequestException:
                return False

        self.progress.update("Container", app.name, "Waiting")
        try:
            wait_for(ready, timeout=timeout, interval=0.05)
        except WaitTimeout:
            raise self._not_ready(db, app, timeout) from None
        for container in (db, app):
            self.progress.update("Container", container.name, "Healthy")

    def _crashed(self, container: Container) -> StackError:
        code = container.attrs["State"].get("ExitCode")
        return StackError(
            f"container {container.name} stopped during start-up (exit code {code})",
            "read its last log lines below, fix the cause, and run the command again",
            details=_tail(container),
        )

    def _not_ready(self, db: Container, app: Container, timeout: float) -> StackError:
        if not self.db_answers(db):
            return StackError(
                f"the database in container {db.name} did not accept a TCP query within {timeout:g}s",
                "read its log lines below; if its volume was made with other credentials, "
                "run `python orchestrate.py down --volumes` first",
                details=_tail(db),
            )
        return StackError(
            f"the app did not become ready at {self.spec.url}{self._probes.readiness} within {timeout:g}s",
            "read its log lines below",
            details=_tail(app),
        )

    def db_answers(self, db: Container) -> bool:
        """Whether the DB container accepts a TCP query (from inside, so the port stays unpublished)."""
        health = self.spec.db.healthcheck
        assert health is not None
        try:
            result = db.exec_run(["sh", "-c", health.shell_command])
        except APIError:
            return False
        return result.exit_code == 0

    def _stop_remove(self, container: Container) -> None:
        try:
            container.stop(timeout=STOP_TIMEOUT)
            container.remove(v=False)
        except NotFound:
            pass

    # -- the rest of the life cycle -----------------------------------------------------

    def _containers(self) -> list[Container]:
        """The project's containers in start order: the DB, then the app."""
        order = [service.role for service in self.spec.services]
        # Only the services: a stranger's container run from the app image inherits its project label.
        listed = self.client.containers.list(all=True, filters=self._filters())
        found = [c for c in listed if c.labels.get(LABEL_ROLE) in order]
        return sorted(
            found, key=lambda c: order.index(r) if (r := c.labels.get(LABEL_ROLE)) in order else len(order)
        )

    def down(self, volumes: bool = False, images: bool = False) -> None:
        """Remove the containers (the app first) and the network; the volume and image only when asked."""
        for container in reversed(self._containers()):
            self.progress.update("Container", container.name, "Removing")
            self._stop_remove(container)
            self.progress.update("Container", container.name, "Removed")
        kinds = [("Network", self.client.networks)]
        kinds += [("Volume", self.client.volumes)] if volumes else []
        in_use = []
        for kind, collection in kinds:
            for item in collection.list(filters=self._filters()):
                try:
                    item.remove()
                except APIError:  # something outside the stack still uses it: say what, remove the rest
                    in_use.append(f"{kind.lower()} {item.name} ({_users(item)})")
                    continue
                self.progress.update(kind, item.name, "Removed")
        if images:
            for image in self.client.images.list(filters=self._filters("image")):
                self.client.images.remove(image.id, force=True)
                self.progress.update("Image", image.tags[0] if image.tags else image.short_id, "Removed")
        if in_use:
            raise StackError(
                f"still in use, so kept: {', '.join(in_use)}",
                "stop or disconnect what uses it, then run `down` again",
            )

    def restart(self, role: str | None, timeout: float) -> None:
        """Restart one service or both, then wait until the app is ready again."""
        roles = [role] if role else ["db", "app"]
        containers = {r: self._existing(r) for r in ("db", "app")}
        for r in roles:
            self.progress.update("Container", containers[r].name, "Restarting")
            containers[r].restart(timeout=STOP_TIMEOUT)
            self.progress.update("Container", containers[r].name, "Started")
        self._wait_ready(containers["db"], containers["app"], timeout)

    def build(self) -> None:
        """Build the app image even if its context is unchanged (the layer cache still applies)."""
        spec = self.spec.app.build
        assert spec is not None
        engine.ensure_image(self.client, spec.args["PYTHON_IMAGE"], self.progress)
        engine.build_image(self.client, spec, engine.context_hash(spec), self.progress)

    def status(self) -> list[tuple[str, str, str, str, str]]:
        """Rows of (resource, state, health, ports, image) for everything the project owns."""
        rows = [
            (f"network {n.name}", "created", "", "", "")
            for n in self.client.networks.list(filters=self._filters())
        ]
        rows += [
            (f"volume {v.name}", "created", "", "", "")
            for v in self.client.volumes.list(filters=self._filters())
        ]
        for container in self._containers():
            state = container.attrs["State"]
            restarts = container.attrs.get("RestartCount", 0)
            described = state["Status"] + (
                f", exit code {state['ExitCode']}" if state["Status"] == "exited" else ""
            )
            described += f", restarted {restarts}x" if restarts else ""
            health = (state.get("Health") or {}).get("Status", "")
            port = _published_port(container)
            ports = f"0.0.0.0:{port}->80/tcp" if port else ""
            image = container.attrs["Config"]["Image"]
            rows.append((f"container {container.name}", described, health, ports, image))
        return rows

    def logs(self, role: str | None, follow: bool, write: Callable[[str], None]) -> None:
        """Write service-prefixed log lines; with ``follow``, keep writing until interrupted."""
        containers = [self._existing(r) for r in ([role] if role else ["db", "app"])]
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
        container = self.container(role)
        if container is None:
            raise StackError(f"the {role} container of project {self.spec.project} does not exist", _UP_FIX)
        return container


_PORT_FIX = "stop whatever holds it, or choose another port with --port N (or APL_PORT)"
_BUILD_FIX = "run without --no-build, or build it first with `python orchestrate.py build`"
_UP_FIX = "start the stack with `python orchestrate.py up`"


def _not_ours(kind: str, name: str, project: str) -> StackError:
    return StackError(
        f"a {kind} named {name} already exists and does not belong to project {project}",
        f"remove it (docker {kind} rm {name}) or choose another project with --project NAME",
    )


def _users(item: Network | Volume) -> str:
    """Name what keeps a network or volume in use, as far as the engine tells."""
    if isinstance(item, Network):
        item.reload()
        names = [endpoint.get("Name", "?") for endpoint in (item.attrs.get("Containers") or {}).values()]
        return "attached: " + ", ".join(names) if names else "in use"
    return "used by a container outside the stack"


def _host_ports(container: Container) -> set[int]:
    """Every host port the container publishes."""
    bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
    return {int(b["HostPort"]) for entries in bindings.values() for b in entries or [] if b.get("HostPort")}


def _published_port(container: Container) -> int | None:
    bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
    for binding in bindings.get("80/tcp") or []:
        return int(binding["HostPort"])
    return None


def _tail(container: Container) -> str:
    try:
        lines = container.logs(tail=LOG_TAIL).decode(errors="replace").rstrip().splitlines()
    except APIError:
        return ""
    return "\n".join(f"  {container.name} | {line}" for line in lines)
