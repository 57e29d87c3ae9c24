"""What `watch` does with each changed file of the build context: sync, rebuild, or explain."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from stack.changes import Changes, classify, compare, scan
from stack.spec import BuildSpec

from .conftest import REPO

pytestmark = pytest.mark.unit


def test_app_code_templates_and_static_files_are_synced() -> None:
    found = classify(["app/health.py", "app/templates/index.html", "app/static/style.css"])
    assert found == Changes(sync=("app/health.py", "app/templates/index.html", "app/static/style.css"))


def test_what_the_image_installs_or_gunicorns_master_loads_is_rebuilt() -> None:
    paths = ["Dockerfile", "gunicorn.conf.py", ".dockerignore", "app/requirements.txt", "app/config.py"]
    assert classify(paths) == Changes(rebuild=tuple(paths))
    assert classify([], ["app/__init__.py"]) == Changes(rebuild=("app/__init__.py",))


def test_db_scripts_are_explained_and_removed_app_files_deleted() -> None:
    assert classify(["db/001-schema.sql"], ["app/old.py"]) == Changes(
        removed=("app/old.py",), db=("db/001-schema.sql",)
    )
    assert not Changes()


def test_a_scan_follows_the_dockerignore(tmp_path: Path) -> None:
    for name in ("app", "db"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Dockerfile", ".dockerignore", "gunicorn.conf.py"):
        shutil.copy2(REPO / name, tmp_path / name)
    (tmp_path / "notes.txt").write_text("not in the build context")
    build = BuildSpec(tmp_path, "demo:latest")
    before = scan(build)
    assert "app/health.py" in before and "notes.txt" not in before and "app" not in before

    (tmp_path / "notes.txt").write_text("edited, but still ignored")
    (tmp_path / "app" / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / "app" / "__pycache__" / "x.pyc").write_bytes(b"ignored too")
    assert not compare(before, scan(build))

    health = tmp_path / "app" / "health.py"
    health.write_text(health.read_text() + "\n# edited\n")
    stat = health.stat()
    os.utime(health, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a coarse clock may not tick
    (tmp_path / "app" / "static" / "style.css").unlink()
    assert compare(before, scan(build)) == Changes(sync=("app/health.py",), removed=("app/static/style.css",))


def test_the_workers_loaded_line_is_the_one_the_app_logs() -> None:
    from app import LOADED as logged
    from stack.sync import LOADED as awaited

    assert awaited == logged
