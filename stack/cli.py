"""The command line: parse flags, read settings once, and hand the work to the runner."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import NoReturn

import requests
from docker import DockerClient
from docker.errors import DockerException

from . import console, engine, lock
from .cleanup import stop_signals_interrupt
from .errors import INTERRUPTED, StackError, command_line
from .images import IMAGE_SETS, OFFICIAL
from .progress import Progress
from .readiness import DEFAULT_DEADLINE
from .resources import ProjectResources
from .runner import Runner, check_credentials_fit_data
from .settings import DEFAULT_PORT, Settings, read_settings, seconds, whole_number
from .spec import StackSpec, build_spec

# Commands that need the DB passwords; the others work without them (and with a broken credentials file).
NEEDS_CREDENTIALS = {"up", "watch", "plan", "export"}
# Commands that change a project's resources: one at a time per project and engine (stack/lock.py).
# `watch` takes the locks for each change it makes, not while it waits, so `down` need not wait for it.
CHANGING_COMMANDS = {"up", "down", "restart", "build"}
SERVICES = {"db": "db", "mysql": "db", "app": "app"}
PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a command whose output's reader left


def open_missing_streams() -> None:
    """Give a standard stream that was closed when we started (`<&-`, `>&-`) the null device.

    Python then has no ``sys.stdin`` (or stdout, stderr) at all, and every use of it would fail.
    """
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode))  # noqa: SIM115 (kept open for the whole run)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Say what is wrong in one line, and where to look, instead of the whole usage text."""
        self.exit(2, f"{self.prog}: error: {message}\nsee: {self.prog} --help\n")


def parser() -> argparse.ArgumentParser:
    """The argument parser; shared options are accepted before or after the command."""
    shared = _Parser(add_help=False)
    # SUPPRESS keeps a subcommand's absent option from overwriting one given before the command.
    opt = {"default": argparse.SUPPRESS}
    shared.add_argument("--project", help="stack name; other than 'apl' prefixes every resource name", **opt)
    shared.add_argument(
        "--port", type=whole_number, help=f"host port for the app (default {DEFAULT_PORT})", **opt
    )
    shared.add_argument(
        "--images", choices=sorted(IMAGE_SETS), help="official (Docker Hub) or standin", **opt
    )
    shared.add_argument("--db-image", help=f"DB image (default {OFFICIAL.db})", **opt)
    shared.add_argument("--python-image", help=f"base image of the app (default {OFFICIAL.python})", **opt)
    shared.add_argument(
        "--timeout", type=seconds, help=f"seconds to wait for readiness (default {DEFAULT_DEADLINE:g})", **opt
    )
    shared.add_argument("-q", "--quiet", action="store_true", help="print no progress", **opt)

    root = _Parser(
        prog="orchestrate.py",
        description="Run the apl stack: MySQL and a Flask app on a Docker network.",
        parents=[shared],
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser(
        "up", parents=[shared], help="create or update the stack and wait until it answers"
    )
    up.add_argument("--no-build", action="store_true", help="use the existing app image")
    down = commands.add_parser("down", parents=[shared], help="remove the containers and the network")
    down.add_argument("-v", "--volumes", action="store_true", help="also remove the data volume")
    down.add_argument("--rmi", action="store_true", help="also remove the app image")
    commands.add_parser("status", parents=[shared], help="show the stack's resources")
    logs = commands.add_parser("logs", parents=[shared], help="show service-prefixed log lines")
    logs.add_argument("service", nargs="?", choices=sorted(SERVICES))
    logs.add_argument("-f", "--follow", action="store_true", help="keep following new lines")
    restart = commands.add_parser("restart", parents=[shared], help="restart a service, or both")
    restart.add_argument("service", nargs="?", choices=sorted(SERVICES))
    commands.add_parser("build", parents=[shared], help="build the app image")
    commands.add_parser(
        "watch", parents=[shared], help="up, then bring each change of the app's files into the running app"
    )
    exec_ = commands.add_parser(
        "exec",
        parents=[shared],
        help="run a command in a container (default: a shell in the app; in db, mysql as the app's user)",
    )
    exec_.add_argument("service", nargs="?", choices=sorted(SERVICES), default="app")
    exec_.add_argument(
        "argv",
        nargs="*",
        metavar="-- COMMAND",
        help="the command and its arguments; options alone (-- -e 'SELECT 1') go to the default command",
    )
    plan = commands.add_parser("plan", parents=[shared], help="print the docker commands `up` stands for")
    plan.add_argument("--show-secrets", action="store_true", help="print passwords instead of ***")
    export = commands.add_parser(
        "export", parents=[shared], help="write a Compose file or Kubernetes manifests"
    )
    export.add_argument("form", choices=["compose", "k8s"])
    export.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    export.add_argument("--replicas", type=whole_number, help="app replicas (k8s only; default 1)")
    export.add_argument("--image", help="app image the platform pulls (default: the locally built tag)")
    push = commands.add_parser("push", parents=[shared], help="tag and push the app image to a registry")
    push.add_argument("--registry", required=True, metavar="HOST:PORT", help="e.g. 127.0.0.1:5000")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    open_missing_streams()
    args = parse(sys.argv[1:] if argv is None else list(argv))
    try:
        with stop_signals_interrupt():
            return run(args)
    except KeyboardInterrupt as interrupt:
        print("interrupted", file=sys.stderr)
        return getattr(interrupt, "exit_code", INTERRUPTED)  # `exec` stopped by SIGTERM: 143
    except BrokenPipeError:
        # Whoever read our output stopped (`exec ... | head -1`, `logs -f | grep -m1`): end
        # quietly, as `cat` does, and let nothing try to write to that pipe on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return PIPE_CLOSED
    except (StackError, DockerException, requests.RequestException) as error:
        # The engine refused a request or went away mid-command: one line, never a traceback.
        reported = error if isinstance(error, StackError) else engine.lost(error) or failed_request(error)
        print(f"error: {reported}", file=sys.stderr)
        return reported.exit_code
    except OSError as error:
        if error.filename is not None or not _is_output_error(error):
            raise
        # Our own output could not be written (`status > /dev/full`): say so on the other stream.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"error: cannot write the output: {error.strerror}", file=sys.stderr)
        return 1


def _is_output_error(error: OSError) -> bool:
    """Whether ``error`` came from writing to standard output (full disk, device gone, ...)."""
    return error.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG)


def failed_request(error: BaseException) -> StackError:
    """The error for a request the engine answered with a refusal nothing else explained."""
    return StackError(
        f"the Docker engine failed a request: {_first_line(error)}",
        "run the command again; `python orchestrate.py status` shows what exists",
    )


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; for `exec`, everything after ``--`` is the command, whatever it looks like."""
    split = argv.index("--") if "--" in argv and "exec" in argv[: argv.index("--")] else len(argv)
    args = parser().parse_args(argv[:split])
    if split < len(argv):
        args.argv = [*args.argv, *argv[split + 1 :]]
    return args


def run(args: argparse.Namespace) -> int:
    """Carry out the parsed command."""
    if args.command == "export":
        # Imported where used, as are the renderers and the watcher: YAML and the rest would
        # add a tenth to every warm `up`, which is mostly Python starting and importing.
        from .render import files

        # Before the settings: reading them may generate and store credentials, and a bad -o
        # must leave nothing written.
        files.check_output(args.output)
    if args.command in ("plan", "export"):
        settings = read(args, generate=True, store=False)
        check_new_passwords(settings)
        settings.store_credentials()
        return render(args, settings, build_spec(settings))  # no engine needed
    # `up` reads its credentials again once it holds the lock: a concurrent `up` may store them first.
    settings = read(args, generate=False)
    progress = Progress(quiet=bool(vars(args).get("quiet")))
    client = engine.connect()
    if args.command == "exec":
        return run_in_container(args, client, build_spec(settings))
    if args.command not in CHANGING_COMMANDS | {"watch"}:
        return carry_out(args, settings, Runner(client, build_spec(settings), progress))
    if args.command == "watch":
        with lock.sole_watch(client, settings.project):
            return change(args, settings, progress, client)
    return change(args, settings, progress, client)


def change(args: argparse.Namespace, settings: Settings, progress: Progress, client: DockerClient) -> int:
    """Run a command that changes the project's resources, under its locks; `watch` goes on after `up`."""
    if args.command in ("up", "watch"):
        progress.echo(f"images: db {settings.images.db}, app built on {settings.images.python}")
        # Pulled before the locks: the engine-side lock is a container of this image, and a pull
        # (or a refused image name) needs no lock.
        engine.ensure_image(client, settings.images.db, progress)

    def locked() -> AbstractContextManager[None]:
        return lock.project_locks(client, build_spec(settings), args.command, notice=_say)

    with locked():
        if args.command in ("up", "watch"):
            settings = read(args, generate=True, store=False)
            runner = Runner(client, build_spec(settings), progress)
            check_credentials_fit_data(runner.resources, settings)
            settings.store_credentials()
            carry_out(args, settings, runner)
        else:
            return carry_out(args, settings, Runner(client, build_spec(settings), progress))
    if args.command == "watch":
        # A sync changes no resource: this host's lock (cheap, unlike the engine's, a container)
        # keeps this host's `up` from replacing the app meanwhile. One from another host that
        # does is met as the container gone, and the change is then rebuilt.
        from .watch import Watcher

        path = lock.lock_path(lock.engine_id(client), settings.project)
        Watcher(
            runner,
            locked,
            lambda: lock.project_lock(path, settings.project, args.command, notice=_say),
            timeout=settings.wait_timeout,
        ).watch()
    return 0


def check_new_passwords(settings: Settings) -> None:
    """Before `plan` or `export` stores passwords it made, ask the engine, if one answers, for old data.

    They need no engine, but the passwords they store are the ones the next `up` uses: made for a
    project whose data volume exists, they would lock it out of its own database.
    """
    if not (settings.loaded_credentials and settings.loaded_credentials.generated):
        return
    try:
        client = engine.connect(timeout=2)  # an engine that does not answer at once is as good as none here
    except StackError:
        return  # no engine here: `up` asks again, and a refused login then says what happened
    try:
        check_credentials_fit_data(ProjectResources(client, settings.project), settings)
    except (DockerException, requests.RequestException):
        return  # it answered the ping, then not in time: as good as none, as above
    finally:
        client.close()


def read(args: argparse.Namespace, generate: bool, store: bool = True) -> Settings:
    """The settings from the flags and the environment; a credentials problem is raised or warned of.

    Only commands that run or describe a stack (``generate``) need the passwords; the others
    never write them and still work with an unusable credentials file, saying so.
    """
    option = vars(args).get
    settings = read_settings(
        os.environ,
        project=option("project"),
        port=option("port"),
        images=option("images"),
        db_image=option("db_image"),
        python_image=option("python_image"),
        wait_timeout=option("timeout"),
        generate_credentials=generate,
        store_credentials=store,
    )
    loaded = settings.loaded_credentials
    if loaded and loaded.problem and args.command not in NEEDS_CREDENTIALS:
        _say(f"warning: {loaded.problem.problem}\nfix: {loaded.problem.fix}")
    return settings


def carry_out(args: argparse.Namespace, settings: Settings, runner: Runner) -> int:
    """Run an engine command with ``runner``."""
    spec, progress = runner.spec, runner.progress
    service = SERVICES.get(vars(args).get("service") or "")
    if args.command in ("up", "watch"):
        runner.up(build=not vars(args).get("no_build"), timeout=settings.wait_timeout)
        print(f"apl is up: {runner.url}")
    elif args.command == "down":
        if not runner.down(volumes=args.volumes, images=args.rmi):
            print(runner.nothing_to_remove(volumes=args.volumes))
    elif args.command == "status":
        print_table(["RESOURCE", "STATE", "HEALTH", "PORTS", "IMAGE"], runner.status())
    elif args.command == "logs":
        runner.logs(service, follow=args.follow, write=print)
    elif args.command == "restart":
        runner.restart(service, timeout=settings.wait_timeout)
    elif args.command == "build":
        progress.echo(f"images: app built on {settings.images.python}")
        runner.build()
    elif args.command == "push":
        build_it = command_line(spec.project, "build")
        pushed = engine.push_image(runner.client, spec.app.image, args.registry, progress, build_it=build_it)
        print(f"pushed {pushed}\nfor a cluster: python orchestrate.py export k8s --image {pushed}")
    return 0


def run_in_container(args: argparse.Namespace, client: DockerClient, spec: StackSpec) -> int:
    """`exec`: run the command in the service's running container; return the command's exit code."""
    role = SERVICES[args.service]
    container = Runner(client, spec, Progress(quiet=True)).running(role)
    return console.run(client, container, console.command(spec, role, tuple(args.argv)))


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "explanation", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def render(args: argparse.Namespace, settings: Settings, spec: StackSpec) -> int:
    """Print the plan, or write an export; notes go to stderr so stdout stays the rendering alone."""
    from .render import files
    from .render.commands import script as plan_script

    if args.command == "plan":
        sys.stdout.write(plan_script(spec, show_secrets=args.show_secrets))
        return 0
    if args.replicas is not None and args.form != "k8s":
        raise StackError("--replicas applies to `export k8s` only", "drop --replicas, or export k8s")
    spec = spec.with_app_image(args.image) if args.image else spec
    if args.form == "compose":
        notes = files.export_compose(spec, settings, args.output)
    else:
        notes = files.export_k8s(spec, args.output, replicas=1 if args.replicas is None else args.replicas)
    print("\n".join(notes), file=sys.stderr)
    return 0


def print_table(header: list[str], rows: list[tuple[str, ...]]) -> None:
    """Print rows in aligned columns."""
    if not rows:
        print("nothing exists for this project")
        return
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in [tuple(header), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
