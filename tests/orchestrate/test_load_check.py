"""The load checker's script, run here on a stand-in `app` package: its answer follows what it wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stack.load_check import ANSWER, CHECKER

pytestmark = pytest.mark.unit


def _check(root: Path, module: str, checks: int = 1) -> bytes:
    """The checker's standard output, standard error folded in, for ``checks`` checks of ``module``."""
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "__init__.py").write_text(module)
    done = subprocess.run(
        [sys.executable, "-c", CHECKER],
        input=b"check\n" * checks,
        cwd=root,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert done.stderr == b""  # all of it on one stream, in the order it was written
    return done.stdout


def test_a_module_that_loads_answers_zero(tmp_path: Path) -> None:
    output = _check(tmp_path, "def create_app():\n    import flask\n    return flask.Flask('app')\n")
    answer = ANSWER.search(output)
    assert answer is not None and answer[1] == b"0" and output[: answer.start()] == b""


def test_a_traceback_comes_whole_before_the_answer(tmp_path: Path) -> None:
    module = "import sys\nprint('loading', file=sys.stderr)\nraise RuntimeError('the app is broken')\n"
    output = _check(tmp_path, module, checks=2)
    answers = list(ANSWER.finditer(output))
    assert [a[1] for a in answers] == [b"1", b"1"]
    second = (
        output[answers[0].end() : answers[1].start()].decode().splitlines()
    )  # the first has the preload's too
    assert second[0] == "loading" and second[1].startswith("Traceback")
    assert second[-1] == "RuntimeError: the app is broken"


def test_a_syntax_error_is_the_last_line(tmp_path: Path) -> None:
    output = _check(tmp_path, "def broken(:\n")
    answer = ANSWER.search(output)
    assert answer is not None and answer[1] == b"1"
    assert output[: answer.start()].decode().splitlines()[-1] == "SyntaxError: invalid syntax"
