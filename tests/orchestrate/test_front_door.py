"""The front door: `pip install -r requirements.txt` gives the host all it needs; a gap says what to run."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest

from stack.settings import REPO_ROOT

pytestmark = pytest.mark.unit

HOST_CODE = ["orchestrate.py", "stack", "bench", "tests"]


def requirement_names(path: Path) -> set[str]:
    """The distributions ``path`` pins, following ``-r`` includes."""
    names: set[str] = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= requirement_names(path.parent / line[3:].strip())
        elif line:
            names.add(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0].lower().replace("_", "-"))  # no extras
    return names


def installed_with(names: set[str]) -> set[str]:
    """``names`` and every distribution they depend on (extras left out), as installed here."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = requires(name) or []
        except PackageNotFoundError:
            continue
        for need in needs:
            if "extra ==" not in need:
                todo.append(re.match(r"[A-Za-z0-9._-]+", need).group().lower().replace("_", "-"))
    return seen


PROBES = REPO_ROOT / "tests" / "standins" / "probes"


def third_party_imports() -> set[str]:
    """Top-level modules the host-side code imports that are neither ours nor the standard library."""
    ours = {"stack", "app", "bench", "tests", "orchestrate", "gunicorn_conf"}
    found: set[str] = set()
    for entry in HOST_CODE:
        root = REPO_ROOT / entry
        for path in [root] if root.is_file() else root.rglob("*.py"):
            if PROBES in path.parents:
                continue  # these run inside the stand-in images, not on the host
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found |= {alias.name.partition(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.partition(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in ours}


def test_requirements_txt_covers_every_package_the_host_side_imports() -> None:
    pinned = installed_with(requirement_names(REPO_ROOT / "requirements.txt"))
    distributions = packages_distributions()
    imported = third_party_imports()
    assert {"docker", "requests", "yaml", "pytest", "flask"} <= imported  # the scan sees real imports
    missing = {
        module
        for module in imported
        if not {d.lower().replace("_", "-") for d in distributions.get(module, [module])} & pinned
    }
    assert missing == set()


def test_the_image_installs_the_app_requirements_beside_the_app() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "COPY app/requirements.txt ./" in dockerfile
    assert "docker" not in requirement_names(REPO_ROOT / "app" / "requirements.txt")


def test_a_missing_package_is_one_line_naming_the_install_command() -> None:
    # -S leaves site-packages (the venv's docker, requests, ...) off the path, as on a bare machine.
    result = subprocess.run(
        [sys.executable, "-S", str(REPO_ROOT / "orchestrate.py"), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: Python package '")
    assert result.stderr.rstrip().endswith(f"pip install -r {REPO_ROOT / 'requirements.txt'}")


# Raises Ctrl-C's KeyboardInterrupt when orchestrate.py imports stack.runner, then runs orchestrate.py.
CTRL_C_WHILE_IMPORTING = """
import runpy, sys
class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "stack.runner":
            raise KeyboardInterrupt
sys.meta_path.insert(0, CtrlC())
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def test_ctrl_c_while_python_imports_is_no_traceback() -> None:
    command = [sys.executable, "-c", CTRL_C_WHILE_IMPORTING, str(REPO_ROOT / "orchestrate.py"), "status"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stderr) == (130, "interrupted\n")
