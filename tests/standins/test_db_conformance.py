"""The DB stand-in passes what the official mysql image's own tests check.

docker-library/official-images tests every mysql (and mariadb) image with mysql-basics,
mysql-initdb and mysql-log-bin (test/tests/). These are our own tests of the same facts. As
there, the client is the image's own ``mysql``, run in a second container that reaches the
server by name (there through the legacy --link, here on a user-defined network).
"""

from __future__ import annotations

import io
import random

import docker
import pytest

from .support import LABELS, Resources, mysql_client, start_db, tar_of, wait_healthy

pytestmark = pytest.mark.standins

# Spaces in the password and database name, and a 16-character user (the longest 5.7 accepts),
# as in the official tests: the entrypoint must quote all three correctly.
ENV = {
    "MYSQL_ROOT_PASSWORD": "a root password with spaces",
    "MYSQL_USER": "0123456789012345",
    "MYSQL_PASSWORD": "an app password with spaces",
    "MYSQL_DATABASE": "a database name with spaces",
}
SERVER_ALIAS = "mysql"
# Each SELECT prints one line: the row count after each change, then the row that is left.
BASICS = """
CREATE TABLE visit (id INT, n INT, note VARCHAR(255));
SELECT COUNT(*) FROM visit;
INSERT INTO visit VALUES (1, 2, 'hello');
SELECT COUNT(*) FROM visit;
INSERT INTO visit VALUES (2, 3, 'goodbye!');
SELECT COUNT(*) FROM visit;
DELETE FROM visit WHERE id = 1;
SELECT COUNT(*) FROM visit;
SELECT note FROM visit;
DROP TABLE visit;
"""
INIT_SQL = b"""CREATE TABLE visit (id INT, note VARCHAR(255));
INSERT INTO visit VALUES (1, 'hello'), (2, 'goodbye!');
DELETE FROM visit WHERE id = 1;
"""


def as_app_user(resources: Resources, image: str, network: str, sql: str) -> str:
    """Run ``sql`` as MYSQL_USER in MYSQL_DATABASE through the peer client; fail if it fails."""
    code, out = mysql_client(
        resources, image, network, SERVER_ALIAS, sql,
        user=ENV["MYSQL_USER"], password=ENV["MYSQL_PASSWORD"], database=ENV["MYSQL_DATABASE"],
    )  # fmt: skip
    assert code == 0, out
    return out


def test_basics_the_user_creates_changes_and_drops_a_table(
    docker_client: docker.DockerClient, db_image: str
) -> None:
    """mysql-basics: the app user, over the network, in its database: create, insert, delete, drop."""
    with Resources(docker_client) as resources:
        network = resources.create_network("conformance").name
        db = start_db(resources, db_image, ENV, role="basics", network=network, alias=SERVER_ALIAS)
        wait_healthy(db)
        out = as_app_user(resources, db_image, network, BASICS)
    assert out.split("\n") == ["0", "1", "2", "1", "goodbye!", ""]


def test_initdb_sql_copied_into_a_derived_image_runs_in_the_database(
    docker_client: docker.DockerClient, db_image: str
) -> None:
    """mysql-initdb: a FROM-the-image Dockerfile COPYs a .sql file; it runs once, in MYSQL_DATABASE."""
    dockerfile = f"FROM {db_image}\nCOPY initdb.sql /docker-entrypoint-initdb.d/\n".encode()
    context = tar_of({"Dockerfile": (dockerfile, 0o644), "initdb.sql": (INIT_SQL, 0o644)})
    with Resources(docker_client) as resources:
        tag = f"{resources.name('initdb')}:latest"
        resources.track_image(tag)
        docker_client.images.build(
            fileobj=io.BytesIO(context), custom_context=True, tag=tag, labels=LABELS, rm=True, forcerm=True
        )
        network = resources.create_network("conformance").name
        db = start_db(resources, tag, ENV, role="initdb", network=network, alias=SERVER_ALIAS)
        wait_healthy(db)
        out = as_app_user(resources, db_image, network, "SELECT COUNT(*) FROM visit; SELECT note FROM visit;")
    assert out.split("\n") == ["1", "goodbye!", ""]


def test_log_bin_server_options_given_as_arguments_are_used(
    docker_client: docker.DockerClient, db_image: str
) -> None:
    """mysql-log-bin: `docker run IMAGE --log-bin=... --server-id=...` starts a server with both."""
    name, server_id = f"binlog-{random.randrange(10_000)}", random.randrange(1, 2**16)
    with Resources(docker_client) as resources:
        network = resources.create_network("conformance").name
        db = start_db(
            resources,
            db_image,
            {"MYSQL_ROOT_PASSWORD": ENV["MYSQL_ROOT_PASSWORD"]},
            role="log-bin",
            network=network,
            alias=SERVER_ALIAS,
            command=[f"--log-bin={name}", f"--server-id={server_id}"],
        )
        wait_healthy(db)
        code, out = mysql_client(
            resources, db_image, network, SERVER_ALIAS, "SELECT @@log_bin, @@server_id, @@log_bin_basename;",
            user="root", password=ENV["MYSQL_ROOT_PASSWORD"],
        )  # fmt: skip
    assert code == 0, out
    assert out.split("\n") == [f"1\t{server_id}\t/var/lib/mysql/{name}", ""]
