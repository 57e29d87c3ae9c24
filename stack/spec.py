"""What runs: the stack described as data. How it runs lives in ``runner``.

Everything here is plain values, so the same description can be started by the runner, or
rendered as docker commands, a Compose file or Kubernetes manifests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .readiness import APP_PROBES, DB_HEALTHCHECK, Healthcheck, HttpProbes
from .settings import DEFAULT_PROJECT, Settings

LABEL_PROJECT = "com.apl.project"
LABEL_ROLE = "com.apl.role"
LABEL_CONFIG_HASH = "com.apl.config-hash"
LABEL_CONTEXT_HASH = "com.apl.context-hash"
DB_ALIAS = "mysql"  # the name the app reaches the DB by, as in the lesson
DB_PORT = 3306
DB_DATA_DIR = "/var/lib/mysql"
INIT_DIR = "/docker-entrypoint-initdb.d"
# The port the app listens on inside its container (gunicorn.conf.py's bind, the Dockerfile's EXPOSE).
APP_PORT = 80
# The unprivileged user the app's Dockerfile creates; stated here so every rendering runs it as that user.
APP_USER = "10001:10001"
# The kernel setting that lets an unprivileged process bind a port below 1024 (the app's port 80).
UNPRIVILEGED_PORTS_SYSCTL = "net.ipv4.ip_unprivileged_port_start"
# Lets that user bind port 80. Docker 20.10 sets this namespaced sysctl in every container by
# itself; Podman does not, and there gunicorn fails with "Permission denied". A sysctl rather than
# CAP_NET_BIND_SERVICE: Docker does not raise added capabilities for a non-root user (no ambient
# set), so the capability would work on Podman only. It is scoped to the container's own network
# namespace, and Kubernetes counts it among the safe sysctls any pod may set.
UNPRIVILEGED_PORTS = {UNPRIVILEGED_PORTS_SYSCTL: "0"}


@dataclass(frozen=True)
class Resources:
    """What a scheduler reserves for a container and caps it at, in Kubernetes units.

    The single-host runner sets no limits; a cluster needs them to place pods.
    """

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


@dataclass(frozen=True)
class Mount:
    """A named volume or a host directory mounted into a container."""

    source: str
    target: str
    kind: str = "volume"  # or "bind"
    read_only: bool = False
    name: str = ""  # what a bind mount is called where it cannot be a host path (a Kubernetes ConfigMap)


@dataclass(frozen=True)
class BuildSpec:
    """How the app image is built from this repository."""

    context: Path
    tag: str
    dockerfile: str = "Dockerfile"
    args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceSpec:
    """One container: its image, settings and place on the network."""

    role: str
    container_name: str
    image: str
    network: str
    environment: Mapping[str, str]
    labels: Mapping[str, str]
    aliases: tuple[str, ...] = ()
    ports: Mapping[int, int] = field(default_factory=dict)  # container port -> host port
    mounts: tuple[Mount, ...] = ()
    healthcheck: Healthcheck | None = None
    build: BuildSpec | None = None
    restart: str = "unless-stopped"
    secrets: tuple[str, ...] = ()  # the environment entries that are credentials, never shown or inlined
    user: str | None = None  # "uid:gid"; None keeps the image's own
    expose: tuple[int, ...] = ()  # ports reachable on the network only, never published
    depends_on: tuple[str, ...] = ()  # roles that must be healthy before this one starts
    probes: HttpProbes | None = None
    resources: Resources | None = None
    # The variable that tells the process how many CPUs it may use where a platform caps them
    # (gunicorn's worker count): os.cpu_count() inside a capped pod still sees the whole node.
    cpus_variable: str | None = None

    @property
    def sysctls(self) -> dict[str, str]:
        """Kernel settings the container needs: an unprivileged user binding a port below 1024 (the app's 80).

        Docker's engine sets it by default; Podman and Kubernetes need it asked for.
        """
        if self.user and any(port < 1024 for port in self.ports):
            return dict(UNPRIVILEGED_PORTS)
        return {}

    def split_environment(self) -> tuple[dict[str, str], dict[str, str]]:
        """The environment as (plain settings, credentials)."""
        plain = {k: v for k, v in self.environment.items() if k not in self.secrets}
        return plain, {k: v for k, v in self.environment.items() if k in self.secrets}


@dataclass(frozen=True)
class ResourceSpec:
    """A network or a volume."""

    name: str
    labels: Mapping[str, str]
    size: str | None = None  # a volume's size where the platform asks for one (a Kubernetes claim)


@dataclass(frozen=True)
class StackSpec:
    """The whole stack: a network, a volume, the DB and the app."""

    project: str
    network: ResourceSpec
    volume: ResourceSpec
    db: ServiceSpec
    app: ServiceSpec

    @property
    def services(self) -> tuple[ServiceSpec, ServiceSpec]:
        """The containers in start order."""
        return (self.db, self.app)

    def service(self, role: str) -> ServiceSpec:
        """The service named ``role`` ("db" or "app")."""
        for service in self.services:
            if service.role == role:
                return service
        raise KeyError(role)

    @property
    def host_port(self) -> int:
        """The host port the app is published on."""
        return self.app.ports[APP_PORT]

    @property
    def url(self) -> str:
        """Where the app answers on this host."""
        return f"http://localhost:{self.host_port}"

    def with_app_image(self, reference: str) -> StackSpec:
        """The same stack with the app image named ``reference`` (a registry's copy, say)."""
        assert self.app.build is not None
        build = replace(self.app.build, tag=reference)
        return replace(self, app=replace(self.app, image=reference, build=build))


def resource_name(project: str, base: str) -> str:
    """The default project keeps the lesson's names; any other prefixes them with its own."""
    return base if project == DEFAULT_PROJECT else f"{project}-{base}"


def labels(project: str, role: str) -> dict[str, str]:
    """Ownership labels, as Compose puts them: commands find resources by these, not by name."""
    return {LABEL_PROJECT: project, LABEL_ROLE: role}


def build_spec(settings: Settings) -> StackSpec:
    """Describe the stack for ``settings``."""
    project, creds = settings.project, settings.credentials
    network = ResourceSpec(resource_name(project, "apl-net"), labels(project, "network"))
    volume = ResourceSpec(resource_name(project, "apl-mysql-data"), labels(project, "volume"), size="1Gi")

    db_env = {"MYSQL_ROOT_PASSWORD": creds.root_password, "MYSQL_DATABASE": creds.database}
    if not creds.user_is_root:
        db_env |= {"MYSQL_USER": creds.user, "MYSQL_PASSWORD": creds.password}
    passwords = ("MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD")
    db = ServiceSpec(
        role="db",
        container_name=resource_name(project, "mysql"),
        image=settings.images.db,
        network=network.name,
        environment=db_env,
        labels=labels(project, "db"),
        aliases=(DB_ALIAS,),
        mounts=(
            Mount(volume.name, DB_DATA_DIR),
            Mount(str(settings.root / "db"), INIT_DIR, kind="bind", read_only=True, name="initdb"),
        ),
        healthcheck=DB_HEALTHCHECK,
        secrets=tuple(k for k in passwords if k in db_env),
        expose=(DB_PORT,),
        resources=Resources(cpu_request="250m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi"),
    )

    app_image = f"{resource_name(project, 'apl-app')}:latest"
    app_name = resource_name(project, "apl-app")
    app = ServiceSpec(
        role="app",
        container_name=app_name,
        image=app_image,
        network=network.name,
        environment={
            # Containers on the network reach the app by its name; the app answers only hosts it knows.
            "APL_ALLOWED_HOSTS": ",".join(filter(None, (app_name, settings.allowed_hosts))),
            "MYSQL_HOST": DB_ALIAS,
            "MYSQL_PORT": str(DB_PORT),
            "MYSQL_USER": creds.user,
            "MYSQL_PASSWORD": creds.password,
            "MYSQL_DATABASE": creds.database,
        },
        labels=labels(project, "app"),
        ports={APP_PORT: settings.port},
        build=BuildSpec(
            settings.root,
            app_image,
            args={"PYTHON_IMAGE": settings.images.python},
            labels=labels(project, "image"),
        ),
        secrets=("MYSQL_PASSWORD",),
        user=APP_USER,
        depends_on=(db.role,),
        probes=APP_PROBES,
        cpus_variable="GUNICORN_WORKERS",
        resources=Resources(cpu_request="100m", memory_request="128Mi", cpu_limit="1", memory_limit="256Mi"),
    )
    return StackSpec(project, network, volume, db, app)
