"""The spec turned into Docker SDK create arguments: the rendering that runs, tested without Docker."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stack.container_args import create_args
from stack.readiness import DB_HEALTH_COMMAND
from stack.spec import APP_PORT, INIT_DIR, LABEL_CONFIG_HASH, UNPRIVILEGED_PORTS_SYSCTL, Resources

from .conftest import ROOT_PASSWORD, USER_PASSWORD, MakeSpec

pytestmark = pytest.mark.unit

IMAGE = "sha256:" + "a" * 64


def test_the_app_is_published_on_its_host_port_and_runs_unprivileged(make_spec: MakeSpec) -> None:
    args = create_args(make_spec(project="demo", port=9090).app, IMAGE)
    assert args["name"] == "demo-apl-app" and args["image"] == "demo-apl-app:latest"
    assert args["ports"] == {f"{APP_PORT}/tcp": 9090}
    assert args["user"] == "10001:10001"
    # A non-root process binds port 80 on every engine (Podman and newer Docker need the setting).
    assert args["sysctls"] == {UNPRIVILEGED_PORTS_SYSCTL: "0"}
    assert args["restart_policy"] == {"Name": "unless-stopped"}
    assert args["detach"] is True and "platform" not in args


def test_the_db_is_reachable_by_its_alias_only_and_keeps_its_data_in_the_volume(make_spec: MakeSpec) -> None:
    spec = make_spec(project="demo")
    args = create_args(spec.db, IMAGE)
    assert args["network"] == "demo-apl-net"
    assert args["networking_config"] == {"demo-apl-net": {"Aliases": ["mysql"]}}
    assert args["ports"] == {} and "sysctls" not in args
    mounts = {m["Target"]: m for m in args["mounts"]}
    assert mounts["/var/lib/mysql"]["Source"] == spec.volume.name
    assert mounts["/var/lib/mysql"]["Type"] == "volume" and not mounts["/var/lib/mysql"]["ReadOnly"]
    assert mounts[INIT_DIR]["Type"] == "bind" and mounts[INIT_DIR]["ReadOnly"]
    assert mounts[INIT_DIR]["Source"] == str(spec.db.mounts[1].source)


def test_credentials_reach_the_containers_as_given(make_spec: MakeSpec) -> None:
    spec = make_spec()
    db, app = create_args(spec.db, IMAGE), create_args(spec.app, IMAGE)
    assert db["environment"]["MYSQL_ROOT_PASSWORD"] == ROOT_PASSWORD
    assert db["environment"]["MYSQL_PASSWORD"] == app["environment"]["MYSQL_PASSWORD"] == USER_PASSWORD
    assert app["environment"]["MYSQL_HOST"] == "mysql"


def test_the_db_healthcheck_is_in_nanoseconds(make_spec: MakeSpec) -> None:
    health = create_args(make_spec().db, IMAGE)["healthcheck"]
    assert health["test"] == ["CMD-SHELL", DB_HEALTH_COMMAND]
    assert health["interval"] == 5_000_000_000 and health["start_period"] == 60_000_000_000
    assert health["retries"] == 5


def test_labels_carry_ownership_and_the_config_hash(make_spec: MakeSpec) -> None:
    labels = create_args(make_spec(project="demo").app, IMAGE)["labels"]
    assert labels["com.apl.project"] == "demo" and labels["com.apl.role"] == "app"
    assert len(labels[LABEL_CONFIG_HASH]) == 16


def test_a_platform_is_passed_on_only_when_given(make_spec: MakeSpec) -> None:
    args = create_args(make_spec().db, IMAGE, platform="linux/amd64")
    assert args["platform"] == "linux/amd64"
    plain = create_args(make_spec().db, IMAGE)
    assert plain["labels"][LABEL_CONFIG_HASH] != args["labels"][LABEL_CONFIG_HASH]


def _hash(args: dict) -> str:
    return args["labels"][LABEL_CONFIG_HASH]


def test_the_config_hash_follows_what_the_engine_runs(make_spec: MakeSpec) -> None:
    app = make_spec().app
    same = _hash(create_args(app, IMAGE))
    assert same == _hash(create_args(app, IMAGE))
    assert same != _hash(create_args(app, "sha256:" + "b" * 64))
    assert same != _hash(create_args(replace(app, ports={APP_PORT: 9999}), IMAGE))
    assert same != _hash(create_args(replace(app, environment={**app.environment, "X": "1"}), IMAGE))


def test_the_config_hash_ignores_what_only_other_platforms_use(make_spec: MakeSpec) -> None:
    db = make_spec().db
    before = _hash(create_args(db, IMAGE))
    # Kubernetes-only fields: a new memory limit for a cluster must not recreate the local MySQL.
    changed = replace(db, resources=Resources("1", "1Gi", "2", "2Gi"), cpus_variable="X", expose=(1,))
    assert _hash(create_args(changed, IMAGE)) == before
