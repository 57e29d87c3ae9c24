"""What `watch` does with each changed file of the build context: sync, rebuild, or explain."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from stack.changes import Changes, File, classify, compare, read_files, scan, shown
from stack.errors import StackError
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


def context(root: Path) -> BuildSpec:
    """A small build context at ``root``: the repository's .dockerignore and one app file."""
    shutil.copy2(REPO / ".dockerignore", root / ".dockerignore")
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "app").mkdir()
    (root / "app" / "health.py").write_text("# the app\n")
    return BuildSpec(root, "demo:latest")


def test_a_save_by_rename_in_the_same_clock_tick_and_size_is_a_change(tmp_path: Path) -> None:
    # Editors that save by rename write a new file each time: on a coarse clock two such saves
    # of the same length carry the same time and size, and only the inode tells them apart.
    build = context(tmp_path)
    health = tmp_path / "app" / "health.py"
    before = scan(build)
    staged = tmp_path / "health.py.new"
    staged.write_text("# the ap2\n")
    old = health.stat()
    os.utime(staged, ns=(old.st_atime_ns, old.st_mtime_ns))
    os.replace(staged, health)
    assert health.stat().st_size == old.st_size and health.stat().st_mtime_ns == old.st_mtime_ns
    assert compare(before, scan(build)) == Changes(sync=("app/health.py",))


def test_a_link_or_fifo_under_app_is_rebuilt_never_read(tmp_path: Path) -> None:
    build = context(tmp_path)
    before = scan(build)
    (tmp_path / "app" / "leak.txt").symlink_to("/etc/passwd")
    (tmp_path / "app" / "pipe").mkdir()
    os.mkfifo(tmp_path / "app" / "pipe" / "fifo")
    found = compare(before, scan(build))
    assert found == Changes(rebuild=("app/leak.txt", "app/pipe/fifo"))
    # The sync's starting point (every regular file) leaves them out too.
    assert compare({}, scan(build)).sync == ("app/health.py",)


def test_reading_refuses_a_link_or_fifo_at_once_and_says_which(tmp_path: Path) -> None:
    build = context(tmp_path)
    (tmp_path / "app" / "leak.txt").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "app" / "fifo")  # opened for reading, it would wait for a writer forever
    for path in ("app/leak.txt", "app/fifo"):
        with pytest.raises(StackError, match=f"cannot copy {path} into the app: .*copied only by a build"):
            read_files(build.context, [path])
    (tmp_path / "app" / "health.py").chmod(0o750)
    read = read_files(build.context, ["app/health.py", "app/gone.py"])
    assert read == {"app/health.py": File(b"# the app\n", 0o750), "app/gone.py": None}


def test_odd_names_are_shown_on_one_printable_line() -> None:
    assert shown(os.fsdecode(b"app/bad\xff.txt")) == "app/bad\\xff.txt"
    assert shown("app/new\nline.txt") == "app/new\\nline.txt"
    assert shown("app/\x1b[2J.txt") == "app/\\x1b[2J.txt"
    assert shown("app/한국어.txt") == "app/한국어.txt"


@pytest.mark.parametrize("spoil", ["not UTF-8", "a folder"])
def test_an_unreadable_dockerignore_is_one_clear_error(tmp_path: Path, spoil: str) -> None:
    build = context(tmp_path)
    ignore = tmp_path / ".dockerignore"
    if spoil == "a folder":
        ignore.unlink()
        ignore.mkdir()
    else:
        ignore.write_bytes(b"\xff\xfe\n")
    with pytest.raises(StackError) as raised:
        scan(build)
    assert str(raised.value).startswith(f"cannot read {ignore}: ")
    assert "not UTF-8" in str(raised.value) if spoil == "not UTF-8" else "directory" in str(raised.value)
