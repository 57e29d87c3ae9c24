"""`exec` without a terminal: the engine's framed output split back into stdout and stderr."""

from __future__ import annotations

import struct

import pytest

from stack.console import split_frames

pytestmark = pytest.mark.unit


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_complete_frames_are_split_and_a_partial_one_is_kept() -> None:
    data = frame(1, b"out\n") + frame(2, b"err\n") + frame(1, b"partial")[:10]
    frames, rest = split_frames(data)
    assert frames == [(1, b"out\n"), (2, b"err\n")]
    assert split_frames(rest + frame(1, b"partial")[10:]) == ([(1, b"partial")], b"")
