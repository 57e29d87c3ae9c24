"""The DB stand-in honours the official mysql image's environment: accounts, database, secrets."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pymysql
import pytest

from .support import DbServer, Resources, normalised_grants, run_to_exit, start_db, wait_healthy

pytestmark = pytest.mark.standins

ROOT_PASSWORD = "r00t 'quoted' \\ secret"
APP_PASSWORD = "app-secret"
# An underscore on purpose: in GRANT it is a wildcard, so `app_db` must be escaped to mean
# this database only.
APP_DB = "app_db"
SECRETS = {
    "/run/secrets/db_root_password": (ROOT_PASSWORD.encode() + b"\n", 0o400),
    "/run/secrets/db_password": (APP_PASSWORD.encode(), 0o400),
}


@pytest.fixture(scope="module")
def app_db(docker_client: docker.DockerClient, db_image: str) -> Iterator[DbServer]:
    """One initialised DB for the tests that only read: passwords come from root-only secret files."""
    with Resources(docker_client) as resources:
        db = start_db(
            resources,
            db_image,
            {
                "MYSQL_ROOT_PASSWORD_FILE": "/run/secrets/db_root_password",
                "MYSQL_DATABASE": APP_DB,
                "MYSQL_USER": "app",
                "MYSQL_PASSWORD_FILE": "/run/secrets/db_password",
            },
            role="settings",
            extra_files=SECRETS,
        )
        db.root_password = ROOT_PASSWORD
        wait_healthy(db)
        yield db


def test_accounts_are_exactly_those_the_environment_asks_for(app_db: DbServer) -> None:
    """root@localhost, root@'%' (MYSQL_ROOT_HOST's default), the app user, the healthcheck account."""
    rows = app_db.query("SELECT user, host FROM mysql.user")
    assert set(rows) == {
        ("root", "localhost"),
        ("root", "%"),
        ("app", "%"),
        ("healthcheck", "127.0.0.1"),
        ("mariadb.sys", "localhost"),  # MariaDB's owner of system views; it cannot log in
    }


def test_file_variants_set_the_passwords(app_db: DbServer) -> None:
    """Passwords read from *_FILE secrets (trailing newline dropped) log in over TCP."""
    assert app_db.query("SELECT CURRENT_USER()") == [("root@%",)]
    assert app_db.query("SELECT CURRENT_USER()", user="app", password=APP_PASSWORD) == [("app@%",)]


def test_user_gets_all_privileges_on_its_database_only(app_db: DbServer) -> None:
    """SHOW GRANTS is exactly: log in, and everything on MYSQL_DATABASE (its _ escaped)."""
    grants = normalised_grants(app_db.query("SHOW GRANTS FOR 'app'@'%'"))
    assert grants == {
        "GRANT USAGE ON *.* TO `app`@`%`",
        "GRANT ALL PRIVILEGES ON `app\\_db`.* TO `app`@`%`",
    }
    assert (APP_DB,) in app_db.query("SHOW DATABASES")


def test_user_privileges_behave_as_granted(app_db: DbServer) -> None:
    """The user can create tables in its database, and cannot reach a look-alike or the mysql schema."""
    as_app = {"user": "app", "password": APP_PASSWORD}
    app_db.query("CREATE TABLE IF NOT EXISTS probe (id INT PRIMARY KEY)", database=APP_DB, **as_app)
    with pytest.raises(pymysql.err.OperationalError) as denied:
        app_db.query("CREATE DATABASE appXdb", **as_app)  # would match an unescaped `app_db`
    assert denied.value.args[0] == 1044  # ER_DBACCESS_DENIED_ERROR
    with pytest.raises(pymysql.err.OperationalError):
        app_db.query("SELECT user FROM mysql.user", **as_app)


def test_server_defaults_suit_containers(app_db: DbServer) -> None:
    """utf8mb4 by default, no reverse DNS, listening beyond 127.0.0.1."""
    rows = app_db.query("SELECT @@character_set_server, @@skip_name_resolve, @@bind_address")
    assert rows == [("utf8mb4", 1, "*")]
    assert app_db.query(
        "SELECT default_character_set_name FROM information_schema.schemata WHERE schema_name = %s", [APP_DB]
    ) == [("utf8mb4",)]


def test_healthcheck_account_and_secret_are_locked_down(app_db: DbServer) -> None:
    """The probe account has no privileges; its password file is readable by mysql alone."""
    grants = normalised_grants(app_db.query("SHOW GRANTS FOR 'healthcheck'@'127.0.0.1'"))
    assert grants == {"GRANT USAGE ON *.* TO `healthcheck`@`127.0.0.1`"}
    code, out = app_db.exec("stat", "-c", "%a %U", "/run/mysqld/healthcheck.cnf")
    assert (code, out.strip()) == (0, "600 mysql")


def test_server_runs_as_mysql_with_no_password_in_its_environment(app_db: DbServer) -> None:
    """PID 1 is the server itself, as mysql, and the resolved secrets did not follow it."""
    code, out = app_db.exec(
        "bash", "-c", "ps -o user=,comm= -p 1; tr '\\0' '\\n' </proc/1/environ", user="mysql"
    )
    assert code == 0, out
    assert out.splitlines()[0].split() == ["mysql", "mariadbd"]
    assert ROOT_PASSWORD not in out and APP_PASSWORD not in out


MISSING_PASSWORD_LINES = [
    "Database is uninitialized and password option is not specified",
    "- MYSQL_ROOT_PASSWORD",
    "- MYSQL_ALLOW_EMPTY_PASSWORD",
    "- MYSQL_RANDOM_ROOT_PASSWORD",
]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({}, MISSING_PASSWORD_LINES, id="no-password-option"),
        pytest.param({"MYSQL_DATABASE": "x"}, MISSING_PASSWORD_LINES, id="database-but-no-password-option"),
        pytest.param(
            {"MYSQL_ROOT_PASSWORD": "x", "MYSQL_USER": "root", "MYSQL_PASSWORD": "y"},
            ['MYSQL_USER="root"', "MYSQL_ROOT_PASSWORD"],
            id="user-root",
        ),
        # Stricter than the official image, which quietly prefers one of them.
        pytest.param(
            {"MYSQL_ROOT_PASSWORD": "x", "MYSQL_RANDOM_ROOT_PASSWORD": "yes"},
            ["exactly one way to set root's password"],
            id="two-root-password-options",
        ),
        pytest.param(
            {"MYSQL_ROOT_PASSWORD": "x", "MARIADB_ROOT_PASSWORD": "y"},
            ["MYSQL_ROOT_PASSWORD and MARIADB_ROOT_PASSWORD are set together"],
            id="mysql-and-mariadb-names",
        ),
        *(
            pytest.param(
                {
                    "MYSQL_ALLOW_EMPTY_PASSWORD": "yes",
                    f"MYSQL_{name}": "x",
                    f"MYSQL_{name}_FILE": "/etc/hostname",
                },
                [f"MYSQL_{name} and MYSQL_{name}_FILE are set together"],
                id=f"{name.lower()}-and-its-file",
            )
            for name in ("ROOT_PASSWORD", "DATABASE", "USER", "PASSWORD", "ROOT_HOST")
        ),
    ],
)
def test_unusable_settings_stop_the_container(
    docker_client: docker.DockerClient, db_image: str, env: dict[str, str], expected: list[str]
) -> None:
    """A new data dir with unusable settings: non-zero exit, a message that says why, nothing started."""
    with Resources(docker_client) as resources:
        code, logs = run_to_exit(resources, db_image, "refused", environment=env)
    assert code != 0, logs
    for line in expected:
        assert line in logs
    assert "starting mariadbd" not in logs


def test_root_host_limits_where_root_logs_in_from(docker_client: docker.DockerClient, db_image: str) -> None:
    """MYSQL_ROOT_HOST=localhost leaves no root@'%': TCP from outside is refused, the socket works."""
    with Resources(docker_client) as resources:
        db = start_db(
            resources,
            db_image,
            {"MYSQL_ROOT_PASSWORD": "pw", "MYSQL_ROOT_HOST": "localhost"},
            role="roothost",
        )
        wait_healthy(db)
        with pytest.raises(pymysql.err.OperationalError) as refused:
            db.connect()
        assert refused.value.args[0] in (1045, 1130)  # access denied / host not allowed
        code, out = db.exec(
            "mariadb",
            "--batch",
            "--skip-column-names",
            "-uroot",
            "-e",
            "SELECT host FROM mysql.user WHERE user='root'",
            env={"MYSQL_PWD": "pw"},
        )
        assert (code, out.split()) == (0, ["localhost"])


def test_runs_under_an_arbitrary_uid(docker_client: docker.DockerClient, db_image: str) -> None:
    """docker run --user 12345:0 (as some platforms impose) initialises and serves as that uid."""
    with Resources(docker_client) as resources:
        db = start_db(resources, db_image, {"MYSQL_ROOT_PASSWORD": "pw"}, role="uid", user="12345:0")
        wait_healthy(db)
        assert db.query("SELECT 1") == [(1,)]
        code, out = db.exec("ps", "-o", "uid=,comm=", "-p", "1")
        assert (code, out.split()) == (0, ["12345", "mariadbd"])
