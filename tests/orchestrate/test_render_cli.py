"""`plan` and `export` on the command line: no engine needed, credentials written only privately."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
import yaml

from stack import cli
from stack.engine import push_error, push_image
from stack.errors import StackError
from stack.progress import Progress
from stack.settings import Settings, read_settings

from .conftest import PASSWORDS, REPO, ROOT_PASSWORD

pytestmark = pytest.mark.unit


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings rooted in ``tmp_path`` with fixed passwords, and an engine address where nothing answers."""
    shutil.copytree(REPO / "db", tmp_path / "db")

    def settings(env: object, **flags: object) -> Settings:
        return read_settings(PASSWORDS, root=tmp_path, **flags)

    monkeypatch.setattr(cli, "read_settings", settings)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    return tmp_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_plan_needs_no_engine_and_masks_passwords(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# What `python orchestrate.py up` does") and ROOT_PASSWORD not in out


def test_export_compose_writes_credentials_only_to_private_files(root: Path) -> None:
    target = root / "compose.yaml"
    assert cli.main(["--port", "9090", "export", "compose", "-o", str(target)]) == 0
    compose = yaml.safe_load(target.read_text())
    assert compose["services"]["app"]["env_file"] == ["./.apl/apl.app.env"]
    assert ROOT_PASSWORD not in target.read_text()
    assert ROOT_PASSWORD in (root / ".apl" / "apl.db.env").read_text()
    assert mode(root / ".apl" / "apl.db.env") == mode(root / ".apl" / "apl.app.env") == 0o600


def test_export_compose_to_stdout_works_wherever_it_is_saved(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(root)  # relative to here would break `export compose > elsewhere/compose.yaml`
    assert cli.main(["export", "compose"]) == 0
    services = yaml.safe_load(capsys.readouterr().out)["services"]
    paths = [
        services["app"]["build"]["context"],
        *services["app"]["env_file"],
        *services["db"]["env_file"],
        *(v["source"] for v in services["db"]["volumes"] if v["type"] == "bind"),
    ]
    assert len(paths) == 4
    assert [Path(p).is_absolute() and Path(p).exists() for p in paths] == [True] * 4, paths


def test_export_k8s_to_a_file_keeps_it_private(root: Path) -> None:
    target = root / "apl.yaml"
    assert cli.main(["export", "k8s", "-o", str(target), "--replicas", "2", "--image", "reg:5000/app:1"]) == 0
    deployment = list(yaml.safe_load_all(target.read_text()))[-1]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "reg:5000/app:1"
    assert mode(target) == 0o600


@pytest.mark.parametrize("form", ["compose", "k8s"])
@pytest.mark.parametrize(
    ("where", "problem"),
    [("missing/out.yaml", "folder {root}/missing does not exist"), ("folder", "it is a folder")],
)
def test_an_output_that_cannot_be_a_file_is_refused_before_anything_is_written(
    root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    form: str,
    where: str,
    problem: str,
) -> None:
    # No passwords given: reading the settings would generate and store some, which must not happen either.
    monkeypatch.setattr(cli, "read_settings", lambda env, **flags: read_settings({}, root=root, **flags))
    (root / "folder").mkdir()
    before = sorted(root.rglob("*"))
    assert cli.main(["export", form, "-o", str(root / where)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write {root / where}: {problem.format(root=root)}\nfix: ")
    assert "Traceback" not in err
    assert sorted(root.rglob("*")) == before  # no env files, no output


@pytest.mark.parametrize("replicas", [0, 1, 4])
def test_export_k8s_keeps_the_replica_count_given_zero_included(root: Path, replicas: int) -> None:
    target = root / "apl.yaml"
    assert cli.main(["export", "k8s", "-o", str(target), "--replicas", str(replicas)]) == 0
    assert list(yaml.safe_load_all(target.read_text()))[-1]["spec"]["replicas"] == replicas


@pytest.mark.parametrize("replicas", ["-1", "2\n", " 2", "1_0"])
def test_a_replica_count_that_is_not_a_whole_number_is_refused(
    root: Path, capsys: pytest.CaptureFixture[str], replicas: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["export", "k8s", "--replicas", replicas])
    assert exited.value.code == 2
    assert f"argument --replicas: invalid whole_number value: {replicas!r}\n" in capsys.readouterr().err


def test_replicas_belong_to_k8s_only(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export", "compose", "--replicas", "2"]) == 1
    assert "--replicas applies to `export k8s` only" in capsys.readouterr().err


def test_push_needs_a_registry() -> None:
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["push"])


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Get http://10.0.0.9:5000/v2/: dial tcp 10.0.0.9:5000: connect: connection refused",
            "no registry answers",
        ),
        ("http: server gave HTTP response to HTTPS client", "insecure-registries"),
        ("unauthorized: authentication required", "docker login"),
    ],
)
def test_a_failed_push_names_its_cause(message: str, expected: str) -> None:
    assert expected in str(push_error("10.0.0.9:5000", message))


@pytest.mark.parametrize("registry", ["bad host", "http://127.0.0.1:5000", "127.0.0.1:5000/"])
def test_a_registry_that_is_not_host_and_port_is_refused_before_any_engine_call(registry: str) -> None:
    with pytest.raises(StackError, match="invalid registry"):
        push_image(None, "apl-app:latest", registry, Progress(quiet=True), build_it="")  # type: ignore[arg-type]
