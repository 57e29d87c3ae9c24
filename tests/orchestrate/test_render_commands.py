"""`plan`: the docker commands `up` stands for, in the lesson's order, with passwords masked."""

from __future__ import annotations

import shlex

import pytest

from stack.render.commands import MASK, exec_command, plan, script

from .conftest import ROOT_PASSWORD, USER_PASSWORD, MakeSpec

pytestmark = pytest.mark.unit


def words(text: str) -> list[str]:
    """Split shell text as bash would, line continuations included."""
    return shlex.split(text.replace("\\\n", " "))


def test_commands_follow_the_lessons_order(make_spec: MakeSpec) -> None:
    heads = [command.argv[:3] for command in plan(make_spec())]
    assert heads == [
        ["docker", "network", "create"],
        ["docker", "volume", "create"],
        ["docker", "run", "-d"],
        ["docker", "build", "-t"],
        ["docker", "run", "-d"],
    ]


def test_the_lessons_flags_are_all_there(make_spec: MakeSpec) -> None:
    spec = make_spec({"APL_IMAGES": "standin"}, port=9090)
    network, volume, db, build, app = (command.argv for command in plan(spec, show_secrets=True))
    assert network[-1] == "apl-net" and volume[-1] == "apl-mysql-data"
    assert db[:5] == ["docker", "run", "-d", "--name", "mysql"] and db[-1] == spec.db.image
    for flags in (["--network", "apl-net"], ["--network-alias", "mysql"], ["--restart", "unless-stopped"]):
        assert shlex.join(flags) in shlex.join(db)
    assert f"{spec.db.mounts[1].source}:/docker-entrypoint-initdb.d:ro" in db
    assert "apl-mysql-data:/var/lib/mysql" in db
    assert f"PYTHON_IMAGE={spec.app.build.args['PYTHON_IMAGE']}" in build
    assert app[app.index("-p") + 1] == "9090:80"
    assert "--user" in app and app[-1] == "apl-app:latest"


def test_every_resource_carries_the_ownership_labels(make_spec: MakeSpec) -> None:
    roles = ["network", "volume", "db", "image", "app"]
    for command, role in zip(plan(make_spec(project="demo")), roles, strict=True):
        argv = command.argv
        assert {"com.apl.project=demo", f"com.apl.role={role}"} <= set(argv), argv


def test_passwords_are_masked_unless_asked_for(make_spec: MakeSpec) -> None:
    masked = script(make_spec())
    assert ROOT_PASSWORD not in masked and USER_PASSWORD not in masked
    assert f"MYSQL_ROOT_PASSWORD={MASK}" in words(masked)
    shown = words(script(make_spec(), show_secrets=True))
    assert f"MYSQL_ROOT_PASSWORD={ROOT_PASSWORD}" in shown
    assert f"MYSQL_PASSWORD={USER_PASSWORD}" in shown


def test_the_script_quotes_every_word_as_the_shell_reads_it(make_spec: MakeSpec) -> None:
    commands = plan(make_spec(), show_secrets=True)
    for command in commands:
        assert words(str(command)) == command.argv
    assert "--health-cmd" in commands[2].argv  # the health command, quotes and $ included, survives


def test_a_changed_setting_shows_in_the_commands(make_spec: MakeSpec) -> None:
    text = script(make_spec(port=9999, db_image="mariadb:10.11"))
    assert "-p 9999:80" in text and "mariadb:10.11" in text and "mysql:5.7" not in text


def test_the_docker_exec_equivalents_are_shown_as_comments(make_spec: MakeSpec) -> None:
    text = script(make_spec(project="demo"), show_secrets=True)
    inside = [line for line in text.splitlines() if "docker exec" in line]
    assert inside == [
        "#   docker exec -it demo-apl-app sh",
        '#   docker exec -it demo-mysql sh -c \'MYSQL_PWD="$MYSQL_PASSWORD" mysql --protocol=TCP '
        '-h127.0.0.1 -u"$MYSQL_USER" "$MYSQL_DATABASE"\'',
    ]
    assert USER_PASSWORD not in "\n".join(inside)


def test_as_root_the_db_client_logs_in_as_root(make_spec: MakeSpec) -> None:
    spec = make_spec({"MYSQL_USER": "root", "MYSQL_PASSWORD": ROOT_PASSWORD})
    assert "-uroot" in str(exec_command(spec, "db"))
    assert str(exec_command(spec, "app", ("ls", "-l"))) == "docker exec -it apl-app ls -l"
