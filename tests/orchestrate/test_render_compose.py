"""`export compose`: the same stack as a compose.yaml, credentials only in private env files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stack.errors import StackError
from stack.render.compose import ComposeExport, env_file_text, export

from .conftest import ROOT_PASSWORD, USER_PASSWORD, MakeSpec

pytestmark = pytest.mark.unit


def rendered(make_spec: MakeSpec, tmp_path: Path, **flags: object) -> tuple[ComposeExport, dict]:
    result = export(make_spec(**flags), base=tmp_path, env_dir=tmp_path / ".apl")
    return result, yaml.safe_load(result.text)


def test_services_network_and_volume_match_the_spec(make_spec: MakeSpec, tmp_path: Path) -> None:
    _, compose = rendered(make_spec, tmp_path, project="demo", port=9090)
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert compose["name"] == "demo"
    assert (db["container_name"], app["container_name"]) == ("demo-mysql", "demo-apl-app")
    assert db["networks"] == {"demo-apl-net": {"aliases": ["mysql"]}}
    assert compose["networks"]["demo-apl-net"]["name"] == "demo-apl-net"
    assert compose["volumes"]["demo-apl-mysql-data"]["labels"] == {
        "com.apl.project": "demo",
        "com.apl.role": "volume",
    }
    assert app["ports"] == ["9090:80"] and "ports" not in db
    assert app["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert app["labels"]["com.apl.role"] == "app" and app["build"]["labels"]["com.apl.role"] == "image"
    assert db["restart"] == app["restart"] == "unless-stopped"


def test_paths_inside_the_compose_folder_are_relative(make_spec: MakeSpec, tmp_path: Path) -> None:
    _, compose = rendered(make_spec, tmp_path)
    init = compose["services"]["db"]["volumes"][1]
    assert init == {
        "type": "bind",
        "source": "./db",
        "target": "/docker-entrypoint-initdb.d",
        "read_only": True,
    }
    assert compose["services"]["app"]["build"]["context"] == "."
    assert compose["services"]["db"]["env_file"] == ["./.apl/apl.db.env"]


def test_paths_outside_it_stay_absolute(make_spec: MakeSpec, tmp_path: Path) -> None:
    elsewhere = tmp_path / "out"
    compose = yaml.safe_load(export(make_spec(), base=elsewhere, env_dir=tmp_path / ".apl").text)
    assert compose["services"]["app"]["build"]["context"] == str(tmp_path)


def test_the_healthcheck_is_the_specs_tcp_query_escaped(make_spec: MakeSpec, tmp_path: Path) -> None:
    spec = make_spec()
    compose = yaml.safe_load(export(spec, base=tmp_path, env_dir=tmp_path).text)
    check = compose["services"]["db"]["healthcheck"]
    assert check["test"][0] == "CMD-SHELL"
    assert check["test"][1].replace("$$", "$") == spec.db.healthcheck.shell_command
    assert "--protocol=TCP" in check["test"][1] and "SELECT 1" in check["test"][1]
    assert (check["interval"], check["retries"], check["start_period"]) == ("5s", 5, "60s")


def test_passwords_are_only_in_the_env_files(make_spec: MakeSpec, tmp_path: Path) -> None:
    result, compose = rendered(make_spec, tmp_path)
    assert ROOT_PASSWORD not in result.text and USER_PASSWORD not in result.text
    for service in compose["services"].values():
        assert "MYSQL_PASSWORD" not in service["environment"]
        assert "MYSQL_ROOT_PASSWORD" not in service["environment"]
    files = {path.name: text for path, text in result.env_files.items()}
    assert files["apl.db.env"] == f"MYSQL_ROOT_PASSWORD='{ROOT_PASSWORD}'\nMYSQL_PASSWORD='{USER_PASSWORD}'\n"
    assert files["apl.app.env"] == f"MYSQL_PASSWORD='{USER_PASSWORD}'\n"  # the app never sees root's


@pytest.mark.parametrize("value", ["it's", "two\nlines", "ends\\", "\\\\'"])
def test_a_value_an_env_file_cannot_hold_is_refused(value: str) -> None:
    with pytest.raises(StackError, match="MYSQL_PASSWORD"):
        env_file_text({"MYSQL_PASSWORD": value})


def test_a_quote_after_a_backslash_is_kept() -> None:
    assert env_file_text({"MYSQL_PASSWORD": "it\\'s \\\\"}) == "MYSQL_PASSWORD='it\\'s \\\\'\n"


def test_a_changed_setting_shows_in_the_compose_file(make_spec: MakeSpec, tmp_path: Path) -> None:
    _, compose = rendered(make_spec, tmp_path, port=9999, db_image="mariadb:10.11")
    assert compose["services"]["db"]["image"] == "mariadb:10.11"
    assert compose["services"]["app"]["ports"] == ["9999:80"]


def test_develop_watch_syncs_the_code_and_rebuilds_what_the_image_installs(
    make_spec: MakeSpec, tmp_path: Path
) -> None:
    _, compose = rendered(make_spec, tmp_path)
    rules = compose["services"]["app"]["develop"]["watch"]
    assert rules[0] == {
        "action": "sync+restart",
        "path": "./app",
        "target": "/srv/apl/app",
        "ignore": ["requirements.txt"],
    }
    rebuilt = {rule["path"] for rule in rules[1:] if rule["action"] == "rebuild"}
    assert rebuilt == {"./Dockerfile", "./app/requirements.txt", "./gunicorn.conf.py", "./.dockerignore"}
    assert "develop" not in compose["services"]["db"]


def test_the_app_user_is_given_by_uid_alone_for_compose_watch(make_spec: MakeSpec, tmp_path: Path) -> None:
    _, compose = rendered(make_spec, tmp_path)
    assert compose["services"]["app"]["user"] == "10001"
