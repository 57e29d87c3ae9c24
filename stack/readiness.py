"""When the stack counts as ready, the whole rule in one place.

The app is ready when ``GET /readyz`` on its published port answers 200: the app has made a
TCP query to its database as its own user (``app/health.py``). The DB is healthy when a root
``SELECT 1`` over TCP succeeds inside its container. ``up`` and ``restart`` wait for the
first within a deadline; ``status`` reports both by the same rule, so the commands agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from docker.errors import APIError
from docker.models.containers import Container

from .errors import StackError, command_line
from .progress import Progress
from .waiting import WaitTimeout, wait_for

READINESS_PATH = "/readyz"  # the app's DB round trip (app/health.py)
LIVENESS_PATH = "/healthz"  # the process answers; touches no DB
DEFAULT_DEADLINE = 120.0  # seconds `up` and `restart` wait, unless --timeout says otherwise
POLL_INTERVAL = 0.05  # seconds between readiness probes while waiting
PROBE_TIMEOUT = 2.0  # seconds one HTTP probe may take
# The Host header every probe sends: one the app always answers for (app/hosts.py), where a
# remote engine's address or a pod's IP would be refused.
PROBE_HOST = "localhost"
LOG_TAIL = 15  # log lines shown when a container does not get ready
WORKER_TAIL = 400  # log lines read to find a worker's traceback (workers and restarts add more)
WORKER_FAILED = "[ERROR] Exception in worker process"  # gunicorn's line above that traceback
# How the app's /readyz reason starts when the server refuses its login (app/db.py's wording).
LOGIN_REFUSED = "MySQL error 1045"
# ... and when the login is good but the database named is not this user's, or not there: a data
# volume made for another MYSQL_DATABASE.
DATABASE_REFUSED = ("MySQL error 1044", "MySQL error 1049")
HEALTH_GRACE = 5.0  # seconds past two healthcheck intervals before `status` says the engine runs none

# The mysql client inside the DB container, over TCP as the app connects (both images ship it),
# as root or as the app's user; the passwords come from the container's own environment.
DB_ROOT_CLIENT = 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql --protocol=TCP -h127.0.0.1 -uroot'
DB_APP_CLIENT = 'MYSQL_PWD="$MYSQL_PASSWORD" mysql --protocol=TCP -h127.0.0.1 -u"$MYSQL_USER"'
DB_HEALTH_COMMAND = f'{DB_ROOT_CLIENT} -e "SELECT 1" >/dev/null'


@dataclass(frozen=True)
class Healthcheck:
    """A container health probe run by the engine; times in seconds."""

    shell_command: str
    interval: float = 5
    timeout: float = 3
    retries: int = 5
    start_period: float = 60


@dataclass(frozen=True)
class HttpProbes:
    """Where the app says it is alive (the process answers) and ready (its database answers too)."""

    liveness: str = LIVENESS_PATH
    readiness: str = READINESS_PATH
    host: str = PROBE_HOST
    interval: float = 10  # timing as in the Dockerfile's HEALTHCHECK
    timeout: float = 3
    retries: int = 3


DB_HEALTHCHECK = Healthcheck(DB_HEALTH_COMMAND)
APP_PROBES = HttpProbes()


def app_answers(url: str) -> bool:
    """Whether ``url`` (the app's readiness URL) answers 200 right now."""
    return ask_app(url)[0]


def ask_app(url: str) -> tuple[bool, str]:
    """Whether ``url`` (the app's readiness URL) answers 200 right now, and if not, the reason it gives."""
    try:
        answer = requests.get(url, headers={"Host": PROBE_HOST}, timeout=PROBE_TIMEOUT)
    except requests.RequestException:
        return False, ""
    if answer.status_code == 200:
        return True, ""
    try:
        reason = answer.json().get("reason")
    except (ValueError, AttributeError):  # not the app's JSON: a proxy, or another server on the port
        return False, ""
    return False, reason if isinstance(reason, str) else ""


def _down_volumes(db: Container) -> str:
    """The command that removes the DB container's project with its data."""
    from .spec import LABEL_PROJECT  # here: the spec imports this module for its probes

    return command_line(db.labels.get(LABEL_PROJECT, ""), "down", "--volumes")


def _root_login_refused(db: Container) -> str:
    """The server's refusal of the root login, if that is why the DB does not answer; else ''."""
    try:
        output = db.exec_run(["sh", "-c", DB_HEALTH_COMMAND.removesuffix(" >/dev/null")]).output or b""
    except APIError:  # not running
        return ""
    # Only the refusal: newer clients may print a line of their own before it.
    lines = output.decode(errors="replace").splitlines()
    return next((line.strip() for line in lines if "ERROR 1045" in line), "")


def db_answers(db: Container) -> bool:
    """Whether the DB container accepts a TCP query (from inside, so the port stays unpublished)."""
    try:
        return db.exec_run(["sh", "-c", DB_HEALTH_COMMAND]).exit_code == 0
    except APIError:  # not running
        return False


def health(container: Container, role: str, url: str | None) -> str:
    """The HEALTH that `status` shows, by the rule `up` waits for, so the two never disagree.

    ``url`` is the app's readiness URL through the port it publishes (None if it publishes none).
    The engine's own healthcheck is not asked: its first run comes only after its interval, and
    some engines (Podman without systemd) never run one.
    """
    if container.status != "running":
        return ""
    ready = db_answers(container) if role == "db" else url is not None and app_answers(url)
    said = "healthy" if ready else "not ready"
    return f"{said} (engine runs no healthcheck)" if engine_runs_no_healthcheck(container.attrs) else said


def engine_runs_no_healthcheck(attrs: dict, now: datetime | None = None) -> bool:
    """Whether the engine has never run this container's healthcheck, long after it should have.

    Podman without systemd (WSL, a container, a CI machine) schedules none: its health stays
    "starting" for ever, which `status` says rather than leave `docker ps` to puzzle the user.
    """
    check = (attrs.get("Config") or {}).get("Healthcheck") or {}
    state = attrs.get("State") or {}
    if not check.get("Test") or check["Test"][0] == "NONE" or (state.get("Health") or {}).get("Log"):
        return False
    try:
        started = datetime.strptime(state.get("StartedAt", "")[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return False
    # The first run is due one interval after the start: allow two (Docker's default interval is 30 s).
    interval = (check.get("Interval") or 30 * 10**9) / 10**9
    return ((now or datetime.now(UTC)) - started).total_seconds() > 2 * interval + HEALTH_GRACE


def wait_until_ready(db: Container, app: Container, url: str, timeout: float, progress: Progress) -> None:
    """Wait until the app answers at ``url``; a crash of either container ends the wait at once."""
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
                raise _crashed(container)
        ready, reason = ask_app(url)
        if reason.startswith(LOGIN_REFUSED):
            # The server is up and answers over the network, which it only does once initialised:
            # the passwords are wrong, and no amount of waiting changes that.
            raise _login_refused(db, reason)
        if reason.startswith(DATABASE_REFUSED):
            raise _database_refused(db, reason)
        return ready

    progress.update("Container", app.name, "Waiting")
    try:
        wait_for(ready, timeout=timeout, interval=POLL_INTERVAL)
    except WaitTimeout:
        raise _not_ready(db, app, url, timeout) from None
    for container in (db, app):
        progress.update("Container", container.name, "Healthy")


def _crashed(container: Container) -> StackError:
    code = container.attrs["State"].get("ExitCode")
    return StackError(
        f"container {container.name} stopped during start-up (exit code {code})",
        "read its last log lines below, fix the cause, and run the command again",
        details=tail(container, worker_first=True),
    )


def _login_refused(db: Container, reason: str) -> StackError:
    return StackError(
        f"the database in container {db.name} refuses this project's passwords: {_held(db)} was "
        f"initialised with other ones (the server said: {reason.removeprefix(LOGIN_REFUSED + ': ')})",
        "give it the user and passwords it was made with (restore the project's file under .apl/ from a "
        "backup, or set MYSQL_USER, MYSQL_PASSWORD and MYSQL_ROOT_PASSWORD); or start afresh without the "
        f"data: `{_down_volumes(db)}` deletes every message, then `up`",
    )


def _database_refused(db: Container, reason: str) -> StackError:
    return StackError(
        f"the database in container {db.name} has no database this project's user may use: {_held(db)} "
        f"was initialised for another MYSQL_DATABASE (the server said: {reason.partition(': ')[2]})",
        "set MYSQL_DATABASE to the name it was made with; or start afresh without the data: "
        f"`{_down_volumes(db)}` deletes every message, then `up`",
    )


def _held(db: Container) -> str:
    """What holds the DB's data, for a message: its named volume, if it has one."""
    volumes = [m["Name"] for m in db.attrs.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name")]
    return f"its data volume {volumes[0]}" if volumes else "its data"


def _not_ready(db: Container, app: Container, url: str, timeout: float) -> StackError:
    if not db_answers(db):
        refused = _root_login_refused(db)
        if refused:
            return _login_refused(db, refused)
        return StackError(
            f"the database in container {db.name} did not accept a TCP query within {timeout:g}s",
            "read its log lines below: a first start that was stopped halfway leaves a data volume it "
            f"cannot use, and `{_down_volumes(db)}` (which deletes the data) starts afresh",
            details=tail(db),
        )
    return StackError(
        f"the app did not become ready at {url} within {timeout:g}s",
        "read its log lines below",
        details=tail(app),
    )


def tail(container: Container, *, worker_first: bool = False) -> str:
    """The container's last log lines, indented and prefixed with its name.

    :param worker_first: when a gunicorn worker failed to boot, its traceback (the one that names
        the cause) instead: gunicorn's own lines, and its halt traceback, come after it and bury it.
    """
    try:
        text = container.logs(tail=WORKER_TAIL if worker_first else LOG_TAIL).decode(errors="replace")
    except APIError:
        return ""
    lines = text.rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.endswith(WORKER_FAILED)] if worker_first else []
    if starts:
        block = lines[starts[-1] :]
        # The traceback ends where gunicorn's next timestamped line begins.
        ends = [i for i, line in enumerate(block) if i and line.startswith("[")]
        lines = block[: ends[0]] if ends else block
    return "\n".join(f"  {container.name} | {line}" for line in lines[-LOG_TAIL:])
