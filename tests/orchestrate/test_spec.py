"""The stack as data: names, labels, environment and what changes force a container's recreation."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.settings import read_settings
from stack.spec import LABEL_PROJECT, LABEL_ROLE, build_spec

pytestmark = pytest.mark.unit


def spec_for(tmp_path: Path, env: dict[str, str] | None = None, **flags):  # noqa: ANN003, ANN201
    return build_spec(read_settings(env or {}, root=tmp_path, **flags))


def test_default_project_keeps_the_lessons_names(tmp_path: Path) -> None:
    spec = spec_for(tmp_path)
    assert spec.network.name == "apl-net"
    assert spec.db.container_name == "mysql"
    assert spec.app.ports == {80: 8080}
    assert spec.url == "http://localhost:8080"


def test_other_projects_prefix_every_name_and_keep_the_db_alias(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, project="demo", port=9090)
    names = [spec.network.name, spec.volume.name, spec.db.container_name, spec.app.container_name]
    assert all(name.startswith("demo-") for name in names)
    assert spec.db.aliases == ("mysql",)
    assert spec.app.environment["MYSQL_HOST"] == "mysql"


def test_every_resource_is_labelled_with_project_and_role(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, project="demo")
    for resource, role in [
        (spec.network, "network"),
        (spec.volume, "volume"),
        (spec.db, "db"),
        (spec.app, "app"),
    ]:
        assert resource.labels == {LABEL_PROJECT: "demo", LABEL_ROLE: role}


def test_the_db_is_never_published(tmp_path: Path) -> None:
    assert spec_for(tmp_path).db.ports == {}


def test_app_user_gets_its_own_account(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, {"MYSQL_USER": "alice", "MYSQL_PASSWORD": "pw"})
    assert spec.db.environment["MYSQL_USER"] == "alice"
    assert spec.app.environment["MYSQL_USER"] == "alice"
    assert spec.app.environment["MYSQL_PASSWORD"] == "pw"


def test_root_as_the_app_user_is_not_passed_as_mysql_user(tmp_path: Path) -> None:
    # The official image refuses MYSQL_USER=root; root exists already.
    spec = spec_for(tmp_path, {"MYSQL_USER": "root", "MYSQL_PASSWORD": "qwerty"})
    assert "MYSQL_USER" not in spec.db.environment
    assert spec.db.environment["MYSQL_ROOT_PASSWORD"] == "qwerty"
    assert spec.app.environment["MYSQL_USER"] == "root"


def test_the_app_answers_for_its_container_name_and_the_hosts_the_user_adds(tmp_path: Path) -> None:
    assert spec_for(tmp_path, project="demo").app.environment["APL_ALLOWED_HOSTS"] == "demo-apl-app"
    added = spec_for(tmp_path, {"APL_ALLOWED_HOSTS": " board.lan,10.0.0.5 "}).app.environment
    assert added["APL_ALLOWED_HOSTS"] == "apl-app,board.lan,10.0.0.5"
