"""The DB stand-in's life cycle: init scripts once, data kept in the volume, clean SIGTERM stop,
and no TCP client served (nor "healthy" reported) before setup is complete."""

from __future__ import annotations

import gzip
import json
import lzma
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docker
import pytest

from .support import DbServer, Resources, run_to_exit, start_db, wait_healthy, wait_until

pytestmark = pytest.mark.standins

APP_DB = "appdb"


def _sql_insert(step: str) -> bytes:
    return f"INSERT INTO init_log (step) VALUES ('{step}');\n".encode()


# Names sort in an order that mixes the kinds of file, so order by name is visible in init_log.
# The schema file has no USE: it must land in MYSQL_DATABASE.
INIT_FILES = {
    "01-schema.sql": (
        b"CREATE TABLE init_log (id INT AUTO_INCREMENT PRIMARY KEY, step VARCHAR(64) NOT NULL);\n"
        + _sql_insert("01-schema.sql"),
        0o644,
    ),
    "02-run.sh": (
        b"#!/bin/bash\nset -eu\n"
        b'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb -uroot --database="$MYSQL_DATABASE" '
        b"-e \"INSERT INTO init_log (step) VALUES ('02-run.sh as $(id -un)')\"\n",
        0o755,
    ),
    "03-rows.sql.gz": (gzip.compress(_sql_insert("03-rows.sql.gz")), 0o644),
    "04-sourced.sh": (
        b"echo \"INSERT INTO init_log (step) VALUES ('04-sourced.sh')\" | docker_process_sql\n",
        0o644,
    ),
    "05-rows.sql.xz": (lzma.compress(_sql_insert("05-rows.sql.xz")), 0o644),
    "06-notes.txt": (b"not run\n", 0o644),
}
EXPECTED_STEPS = ["01-schema.sql", "02-run.sh as mysql", "03-rows.sql.gz", "04-sourced.sh", "05-rows.sql.xz"]


@dataclass
class Lifecycle:
    """What happened to one volume across two containers, the first stopped with SIGTERM."""

    first_logs: str
    stop_exit_code: int
    second: DbServer


@pytest.fixture(scope="module")
def lifecycle(docker_client: docker.DockerClient, db_image: str) -> Iterator[Lifecycle]:
    """Start on a new volume, write a row, stop with SIGTERM, remove, start again on the same volume."""
    env = {"MYSQL_ROOT_PASSWORD": "lifecycle-pw", "MYSQL_DATABASE": APP_DB}
    with Resources(docker_client) as resources:
        volume = resources.create_volume("data").name
        first = start_db(resources, db_image, env, role="first", init_files=INIT_FILES, volume=volume)
        wait_healthy(first)
        first.query("CREATE TABLE kept (note VARCHAR(32))", database=APP_DB)
        first.query("INSERT INTO kept VALUES ('survives')", database=APP_DB)

        first.container.stop(timeout=10)
        first.reload()
        stop_exit_code = first.container.attrs["State"]["ExitCode"]
        first_logs = first.logs()
        first.container.remove()  # the named volume stays

        second = start_db(resources, db_image, env, role="second", init_files=INIT_FILES, volume=volume)
        wait_healthy(second)
        yield Lifecycle(first_logs, stop_exit_code, second)


def test_init_files_run_in_name_order_in_the_database(lifecycle: Lifecycle) -> None:
    """.sql, .sh (run as mysql, or sourced), .sql.gz, .sql.xz in name order; other files are skipped."""
    steps = [
        row[0] for row in lifecycle.second.query("SELECT step FROM init_log ORDER BY id", database=APP_DB)
    ]
    assert steps == EXPECTED_STEPS
    assert "ignoring /docker-entrypoint-initdb.d/06-notes.txt" in lifecycle.first_logs


def test_sigterm_stops_the_server_cleanly_within_the_timeout(lifecycle: Lifecycle) -> None:
    """docker stop's SIGTERM reaches mariadbd as PID 1: exit 0, a complete shutdown, no SIGKILL."""
    assert lifecycle.stop_exit_code == 0  # a SIGKILL after the timeout would give 137
    assert "mariadbd: Shutdown complete" in lifecycle.first_logs


def test_data_survives_the_container_in_the_volume(lifecycle: Lifecycle) -> None:
    """A new container on the kept volume serves the rows the removed one wrote."""
    assert lifecycle.second.query("SELECT note FROM kept", database=APP_DB) == [("survives",)]


def test_init_files_do_not_run_again_on_an_initialised_volume(lifecycle: Lifecycle) -> None:
    """The second container skips setup: no init file ran, init_log was written once."""
    logs = lifecycle.second.logs()
    assert "already initialised" in logs
    assert "/docker-entrypoint-initdb.d/" not in logs
    counts = lifecycle.second.query("SELECT COUNT(*), COUNT(DISTINCT step) FROM init_log", database=APP_DB)
    assert counts == [(len(EXPECTED_STEPS), len(EXPECTED_STEPS))]


# Holds setup open until the test creates the release file, so the test can probe the server
# while setup is provably in progress; its own deadline keeps a broken test from hanging it.
HOLDING = "init-test: holding initialisation"
HOLD = {
    "50-hold.sh": (
        f"#!/bin/bash\necho '{HOLDING}'\n"
        "for _ in $(seq 1200); do [ -e /tmp/release-init ] && exit 0; sleep 0.05; done\nexit 1\n".encode(),
        0o755,
    )
}


def test_stop_during_setup_is_prompt_and_the_half_made_volume_is_refused(
    docker_client: docker.DockerClient, db_image: str
) -> None:
    """SIGTERM mid-setup ends the container at once; a later start on that volume says why it stops."""
    env = {"MYSQL_ROOT_PASSWORD": "pw"}
    with Resources(docker_client) as resources:
        volume = resources.create_volume("interrupted").name
        db = start_db(resources, db_image, env, role="interrupted", init_files=HOLD, volume=volume)
        wait_until(lambda: HOLDING in db.logs(), timeout=30, what="setup to block", diagnose=db.logs)
        db.container.stop(timeout=10)
        db.container.reload()
        # bash as PID 1 acts on SIGTERM; waiting out the timeout would end in SIGKILL (137).
        assert db.container.attrs["State"]["ExitCode"] != 137
        assert "initialisation did not complete" in db.logs()

        code, logs = run_to_exit(
            resources,
            db_image,
            "after-interrupt",
            environment=env,
            volumes={volume: {"bind": "/var/lib/mysql"}},
        )
    assert code != 0
    assert "did not finish" in logs


# Run in a container on the DB's network: counts TCP connection outcomes against db:3306.
TCP_PROBE = """
import collections, json, socket, sys, time
outcomes = collections.Counter()
for _ in range(int(sys.argv[1])):
    try:
        socket.create_connection(("db", 3306), timeout=2).close()
        outcomes["connected"] += 1
    except ConnectionRefusedError:
        outcomes["refused"] += 1
    except OSError as error:
        outcomes[type(error).__name__] += 1
    time.sleep(0.02)
print(json.dumps(outcomes))
"""
PROBE_ATTEMPTS = 40
# What standins/mysql-compat/healthcheck.sh prints when TCP is refused, and before setup made its account.
TCP_REFUSED = "Can't connect to server on '127.0.0.1'"
NO_ACCOUNT_YET = "setup has not reached the accounts yet"


@dataclass
class GatedStart:
    """Observations made while setup was held open, then after it was released."""

    socket_query_during_setup: str
    tcp_during_setup: dict[str, int]
    health_during_setup: str
    health_runs_during_setup: list[dict[str, object]]
    tcp_after_healthy: dict[str, int]
    query_after_healthy: list[tuple[object, ...]]
    logs: str


@pytest.fixture(scope="module")
def gated_start(docker_client: docker.DockerClient, db_image: str, python_image: str) -> Iterator[GatedStart]:
    """A DB whose setup blocks in an init script, probed over TCP from a peer on its user network."""
    with Resources(docker_client) as resources:
        network = resources.create_network("net").name

        def probe_tcp(attempts: int) -> dict[str, int]:
            code, out = run_to_exit(
                resources,
                python_image,
                "probe",
                network=network,
                command=["python3", "-c", TCP_PROBE, str(attempts)],
            )
            assert code == 0, out
            return json.loads(out.strip().splitlines()[-1])

        db = start_db(
            resources,
            db_image,
            {"MYSQL_RANDOM_ROOT_PASSWORD": "yes"},
            role="gated",
            init_files=HOLD,
            network=network,
            alias="db",
        )
        wait_until(
            lambda: HOLDING in db.logs(),
            timeout=30,
            what="setup to block",
            diagnose=db.logs,
        )
        db.root_password = _generated_password(db.logs())
        _, socket_query = db.exec(
            "mariadb",
            "--protocol=socket",
            "-uroot",
            "--skip-column-names",
            "-e",
            "SELECT 'socket ok'",
            env={"MYSQL_PWD": db.root_password},
        )
        tcp_during_setup = probe_tcp(PROBE_ATTEMPTS)

        # At least one healthcheck must have tried TCP while setup was held, or "not healthy" proves
        # nothing. Runs from before setup made the healthcheck's account may be in the log too.
        def runs_with_a_tcp_try() -> list[dict[str, Any]] | None:
            runs = db.health_log()
            return runs if any(TCP_REFUSED in str(run["Output"]) for run in runs) else None

        runs = wait_until(
            runs_with_a_tcp_try,
            timeout=15,
            interval=0.2,
            what="a healthcheck run that tried TCP during setup",
            diagnose=db.logs,
        )
        health_during_setup = db.health()

        db.exec("touch", "/tmp/release-init")
        wait_healthy(db)
        logs = db.logs()
        yield GatedStart(
            socket_query_during_setup=socket_query,
            tcp_during_setup=tcp_during_setup,
            health_during_setup=health_during_setup,
            health_runs_during_setup=runs,
            tcp_after_healthy=probe_tcp(1),
            query_after_healthy=db.query("SELECT CURRENT_USER()"),
            logs=logs,
        )


def _generated_password(logs: str) -> str:
    found = re.findall(r"GENERATED ROOT PASSWORD: (\S+)", logs)
    assert len(found) == 1, f"the generated root password must be printed exactly once:\n{logs}"
    return found[0]


def test_no_tcp_connection_succeeds_during_setup(gated_start: GatedStart) -> None:
    """While init scripts run, a live socket-only server refuses every TCP connect from a peer."""
    assert gated_start.socket_query_during_setup.strip() == "socket ok"
    assert gated_start.tcp_during_setup == {"refused": PROBE_ATTEMPTS}


def test_healthcheck_fails_during_setup_because_tcp_is_refused(gated_start: GatedStart) -> None:
    """A socket query works during setup; the healthcheck tries TCP instead, fails, and is not healthy."""
    assert gated_start.health_during_setup != "healthy"
    assert gated_start.health_runs_during_setup
    runs = gated_start.health_runs_during_setup
    assert any(TCP_REFUSED in str(run["Output"]) for run in runs)
    for run in runs:
        assert run["ExitCode"] != 0
        # Either TCP was refused, or the run came before setup had made the healthcheck's account.
        assert TCP_REFUSED in str(run["Output"]) or NO_ACCOUNT_YET in str(run["Output"]), run


def test_random_root_password_is_printed_once(gated_start: GatedStart) -> None:
    """MYSQL_RANDOM_ROOT_PASSWORD: the log shows the generated password exactly once."""
    assert _generated_password(gated_start.logs)


def test_healthy_means_a_tcp_query_works(gated_start: GatedStart) -> None:
    """Once healthy, a peer connects over TCP and root (with the generated password) runs a query."""
    assert gated_start.tcp_after_healthy == {"connected": 1}
    assert gated_start.query_after_healthy == [("root@%",)]
    assert HOLDING in gated_start.logs
