"""`exec` without a terminal: the engine's framed output split back into stdout and stderr."""

from __future__ import annotations

import struct

import pytest

from stack.console import PODMAN_INPUT_LOST, command, split_frames
from stack.settings import read_settings
from stack.spec import build_spec

pytestmark = pytest.mark.unit


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_complete_frames_are_split_and_a_partial_one_is_kept() -> None:
    data = frame(1, b"out\n") + frame(2, b"err\n") + frame(1, b"partial")[:10]
    frames, rest = split_frames(data)
    assert frames == [(1, b"out\n"), (2, b"err\n")]
    assert split_frames(rest + frame(1, b"partial")[10:]) == ([(1, b"partial")], b"")


def test_options_alone_go_to_the_default_command() -> None:
    spec = build_spec(read_settings({}, project="demo", generate_credentials=True, store_credentials=False))
    assert command(spec, "app", ()) == ("sh",)
    assert command(spec, "app", ("-c", "exit 7")) == ("sh", "-c", "exit 7")
    assert command(spec, "app", ("ls", "-l")) == ("ls", "-l")
    mysql = command(spec, "db", ("-e", "SELECT 1"))
    assert mysql[:2] == ("sh", "-c") and mysql[3:] == ("sh", "-e", "SELECT 1")
    assert '"$@" "$MYSQL_DATABASE"' in mysql[2] and "MYSQL_PWD=" in mysql[2]


def test_only_podmans_note_on_input_a_command_did_not_read_is_held_back() -> None:
    # As Podman 4.3 sent it, on the command's standard error, after `exec -- true` with input.
    seen = b"Error: read unixpacket @->/proc/self/fd/16/attach: read: connection reset by peer\n"
    assert PODMAN_INPUT_LOST.fullmatch(seen)
    assert PODMAN_INPUT_LOST.fullmatch(seen.replace(b"read", b"write"))  # seen too
    assert PODMAN_INPUT_LOST.fullmatch(b"Error: write unixpacket @->/run/x/attach: write: broken pipe\r\n")
    for the_commands in (
        b"Error: read unixpacket: connection reset by peer\n",
        b"Error: connection reset by peer\n",
        seen + b"more output\n",
        b"log: " + seen,
    ):
        assert not PODMAN_INPUT_LOST.fullmatch(the_commands)
