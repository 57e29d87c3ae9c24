"""Apple silicon and other non-amd64 engines: the lesson's mysql:5.7 has an amd64 image only.

No arm64 machine exists here, so the engine's answers are played by a fake client: what an
engine on Apple silicon says when asked to pull mysql:5.7, and what it reports about itself.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from docker.errors import ImageNotFound

from stack import engine
from stack.errors import StackError
from stack.progress import Progress

pytestmark = pytest.mark.unit

NO_ARM64 = "no matching manifest for linux/arm64/v8 in the manifest list entries"


class FakeImage:
    def __init__(self, architecture: str) -> None:
        self.attrs = {"Architecture": architecture, "Os": "linux"}


class FakeEngine:
    """An engine whose registry holds ``mysql:5.7`` for linux/amd64 only."""

    def __init__(self, architecture: str, operating_system: str) -> None:
        self._info = {"Architecture": architecture, "OperatingSystem": operating_system}
        self.pulls: list[str | None] = []
        self.pulled: FakeImage | None = None
        self.images = self
        self.api = self

    # the parts of docker.DockerClient that engine.py uses
    def info(self) -> dict[str, str]:
        return self._info

    def get(self, name: str) -> FakeImage:
        if self.pulled is None:
            raise ImageNotFound(name)
        return self.pulled

    def pull(self, repository: str, tag: str, stream: bool, decode: bool, platform: str | None = None) -> Any:
        self.pulls.append(platform)
        if platform != "linux/amd64":
            return iter([{"error": NO_ARM64}])
        self.pulled = FakeImage("amd64")
        return iter([{"status": "Downloaded newer image for mysql:5.7"}])

    base_url = "http+docker://localhost"


def pull(client: FakeEngine) -> tuple[FakeImage, str]:
    out = io.StringIO()
    image = engine.ensure_image(client, "mysql:5.7", Progress(stream=out, tty=False))  # type: ignore[arg-type]
    return image, out.getvalue()


def test_docker_desktop_on_apple_silicon_runs_the_amd64_image_emulated() -> None:
    client = FakeEngine("aarch64", "Docker Desktop")
    image, said = pull(client)
    assert client.pulls == [None, "linux/amd64"]
    assert (
        "note: mysql:5.7 has no image for this arm64 engine; running its linux/amd64 image under emulation"
        in said
    )
    # ... and the container is then created for that platform, not the engine's own.
    assert engine.run_platform(client, image) == "linux/amd64"  # type: ignore[arg-type]


def test_an_engine_that_cannot_emulate_keeps_the_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Linux arm64 engine with no x86-64 handler in binfmt_misc (no qemu-user-static).
    monkeypatch.setattr(engine, "_binfmt_runs_x86_64", lambda: False)
    client = FakeEngine("aarch64", "Debian GNU/Linux 12 (bookworm)")
    with pytest.raises(StackError) as caught:
        pull(client)
    assert client.pulls == [None]
    assert caught.value.problem.startswith("mysql:5.7 has no image for this machine")
    assert "--db-image" in caught.value.fix


def test_a_linux_engine_with_an_x86_64_emulator_registered_emulates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_binfmt_runs_x86_64", lambda: True)
    monkeypatch.setattr(engine.platform, "system", lambda: "Linux")
    client = FakeEngine("aarch64", "Ubuntu 24.04 LTS")
    pull(client)
    assert client.pulls == [None, "linux/amd64"]


def test_an_amd64_engine_never_retries_for_another_platform() -> None:
    client = FakeEngine("x86_64", "Docker Desktop")
    with pytest.raises(StackError):
        pull(client)
    assert client.pulls == [None]


def test_an_image_of_the_engines_own_platform_needs_no_platform() -> None:
    assert engine.run_platform(FakeEngine("x86_64", "Debian"), FakeImage("amd64")) is None  # type: ignore[arg-type]
    assert engine.run_platform(FakeEngine("aarch64", "Debian"), FakeImage("arm64")) is None  # type: ignore[arg-type]


def test_binfmt_handlers_are_read_from_the_kernels_list(tmp_path: Path) -> None:
    (tmp_path / "register").write_text("")
    (tmp_path / "status").write_text("enabled\n")
    assert not engine._binfmt_runs_x86_64(tmp_path)
    (tmp_path / "qemu-x86_64").write_text("disabled\ninterpreter /usr/bin/qemu-x86_64\n")
    assert not engine._binfmt_runs_x86_64(tmp_path)
    (tmp_path / "qemu-x86_64").write_text("enabled\ninterpreter /usr/bin/qemu-x86_64\n")
    assert engine._binfmt_runs_x86_64(tmp_path)
