"""The docker CLI commands that `orchestrate.py up` stands for, in the lesson's order."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from ..console import command as exec_argv
from ..spec import BuildSpec, ServiceSpec, StackSpec
from .text import duration

MASK = "***"


@dataclass(frozen=True)
class Command:
    """One docker command: a head (``docker run -d``), option groups one per line, and a tail."""

    head: tuple[str, ...]
    options: tuple[tuple[str, ...], ...] = ()
    tail: tuple[str, ...] = ()

    @property
    def argv(self) -> list[str]:
        """The command as an argument list."""
        return [*self.head, *(word for option in self.options for word in option), *self.tail]

    def __str__(self) -> str:
        """Shell text, one setting a line, so a learner can read each one against the lesson."""
        if not self.options:
            return shlex.join(self.argv)
        rest = [*self.options, self.tail] if self.tail else self.options
        return " \\\n  ".join([shlex.join(self.head), *(shlex.join(words) for words in rest)])


def plan(spec: StackSpec, show_secrets: bool = False) -> list[Command]:
    """The commands that create what ``up`` creates: network, volume, DB, app image, app."""
    network, volume = spec.network, spec.volume
    commands = [
        Command(("docker", "network", "create"), _labels(network.labels), (network.name,)),
        Command(("docker", "volume", "create"), _labels(volume.labels), (volume.name,)),
    ]
    for service in spec.services:
        if service.build:
            commands.append(_build(service.build))
        commands.append(_run(service, show_secrets))
    return commands


def script(spec: StackSpec, show_secrets: bool = False) -> str:
    """The plan as a shell script with a header saying what it is."""
    secrets = "shown" if show_secrets else f"masked as {MASK}; --show-secrets prints them"
    header = [
        f"# What `python orchestrate.py up` does for project {spec.project}, as docker commands.",
        f"# Passwords are {secrets}. Then open {spec.url}",
    ]
    # Comments, not commands: a script piped to bash must not stop for an interactive shell.
    inside = [
        "# Then, to look inside (`python orchestrate.py exec app|db`): a shell in the app, and in the DB",
        "# the mysql client as the app's user, its password read from the container's own environment:",
        *(f"#   {exec_command(spec, role)}" for role in ("app", "db")),
    ]
    return "\n".join([*header, *(str(command) for command in plan(spec, show_secrets)), *inside]) + "\n"


def exec_command(spec: StackSpec, role: str, command: tuple[str, ...] = ()) -> Command:
    """`docker exec -it` for what `orchestrate.py exec` runs in the ``role`` container."""
    argv = exec_argv(spec, role, command)
    return Command(("docker", "exec", "-it", spec.service(role).container_name, *argv))


def _build(build: BuildSpec) -> Command:
    options = [("-t", build.tag)]
    options += [("--build-arg", f"{key}={value}") for key, value in build.args.items()]
    options += _labels(build.labels)
    if build.dockerfile != "Dockerfile":
        options.append(("-f", str(build.context / build.dockerfile)))
    return Command(("docker", "build"), tuple(options), (str(build.context),))


def _run(service: ServiceSpec, show_secrets: bool) -> Command:
    options = [("--network", service.network)]
    options += [("--network-alias", alias) for alias in service.aliases]
    options += [("--restart", service.restart)]
    if service.user:
        options.append(("--user", service.user))
    options += [("--sysctl", f"{key}={value}") for key, value in service.sysctls.items()]
    options += _labels(service.labels)
    for key, value in service.environment.items():
        shown = value if show_secrets or key not in service.secrets else MASK
        options.append(("-e", f"{key}={shown}"))
    for mount in service.mounts:
        options.append(("-v", f"{mount.source}:{mount.target}" + (":ro" if mount.read_only else "")))
    if service.healthcheck:
        health = service.healthcheck
        options += [
            ("--health-cmd", health.shell_command),
            ("--health-interval", duration(health.interval)),
            ("--health-timeout", duration(health.timeout)),
            ("--health-retries", str(health.retries)),
            ("--health-start-period", duration(health.start_period)),
        ]
    options += [("-p", f"{outer}:{inner}") for inner, outer in service.ports.items()]
    return Command(
        ("docker", "run", "-d", "--name", service.container_name), tuple(options), (service.image,)
    )


def _labels(labels: Mapping[str, str]) -> tuple[tuple[str, ...], ...]:
    return tuple(("--label", f"{key}={value}") for key, value in labels.items())
