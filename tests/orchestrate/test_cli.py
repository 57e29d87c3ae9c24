"""The command line's own errors and progress output."""

from __future__ import annotations

import io

import pytest

from stack.cli import parse, parser
from stack.progress import Progress

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "argv", [["up", "--bogus"], ["frobnicate"], ["logs", "nope"], ["up", "--port", "eighty"], []]
)
def test_a_wrong_command_line_is_one_error_line_and_a_pointer(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        parser().parse_args(argv)
    assert raised.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("orchestrate.py") and ": error: " in lines[0]
    assert lines[1].startswith("see: orchestrate.py")


def test_shared_options_go_before_or_after_the_command() -> None:
    assert parser().parse_args(["--port", "9000", "up"]).port == 9000
    assert parser().parse_args(["up", "--port", "9000"]).port == 9000
    assert parser().parse_args(["--port", "9000", "up", "--no-build"]).port == 9000


def test_plain_progress_is_one_line_per_change() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False)
    progress.update("Network", "apl-net", "Creating")
    progress.update("Network", "apl-net", "Created")
    assert [line.split() for line in out.getvalue().splitlines()] == [
        ["⠿", "Network", "apl-net", "Creating"],
        ["✔", "Network", "apl-net", "Created"],
    ]


def test_terminal_progress_redraws_in_place() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=True)
    progress.update("Container", "mysql", "Starting")
    progress.update("Container", "mysql", "Started")
    assert "\x1b[1F" in out.getvalue()  # moved back up over the first line


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("term", "redraws"), [("xterm-256color", True), ("dumb", False)])
def test_a_dumb_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch, term: str, redraws: bool) -> None:
    monkeypatch.setenv("TERM", term)
    out = _Terminal()
    progress = Progress(out)
    progress.update("Container", "mysql", "Creating")
    progress.update("Container", "mysql", "Started")
    assert ("\x1b[" in out.getvalue()) is redraws


def test_quiet_prints_nothing() -> None:
    out = io.StringIO()
    Progress(out, quiet=True).update("Container", "mysql", "Started")
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("argv", "service", "command"),
    [
        (["exec"], "app", []),
        (["exec", "db"], "db", []),
        (["exec", "db", "--", "mysql", "-e", "SELECT 1"], "db", ["mysql", "-e", "SELECT 1"]),
        (["exec", "--", "ls", "-l", "--", "x"], "app", ["ls", "-l", "--", "x"]),
        (["--project", "demo", "exec", "--", "db"], "app", ["db"]),
    ],
)
def test_exec_takes_everything_after_the_double_dash_as_the_command(
    argv: list[str], service: str, command: list[str]
) -> None:
    args = parse(argv)
    assert (args.command, args.service, args.argv) == ("exec", service, command)


def test_a_settled_block_stays_when_the_next_event_draws() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=True)
    progress.update("Change", "app/health.py", "Reloaded (0.41 s)")
    progress.settle()
    progress.update("Change", "app/pages.py", "Failed")
    assert "\x1b[1F" not in out.getvalue()  # the first event's line was not drawn over
    assert "✔ Change app/health.py" in out.getvalue() and "✘ Change app/pages.py" in out.getvalue()
