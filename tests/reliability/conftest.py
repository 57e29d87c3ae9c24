"""Fixtures for the reliability suite: its own stack, and the figures table printed at the end.

The stack is project ``aplrel-<run id>`` on a free port, brought up once for this folder and
removed afterwards (containers, network, volume, image, credentials file), even when tests fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest

from stack.ports import free_port
from tests.integration.support import remove_project

from .support import FIGURES, PROJECT, LiveStack, Record


@pytest.fixture(scope="package")
def stack(docker_client: docker.DockerClient) -> Iterator[LiveStack]:
    """The stack under test, shared by every module here; each leaves it up and serving."""
    live = LiveStack(docker_client, PROJECT, free_port())
    try:
        live.up()
        yield live
    finally:
        live.orchestrate("down", "--volumes", "--rmi")
        remove_project(docker_client, PROJECT)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Record:
    """Record this test's line of the figures table; its result is the test's outcome."""

    def record(**cells: str) -> None:
        FIGURES.record(request.node.nodeid, **cells)

    return record


@pytest.fixture(scope="module")
def module_figures(request: pytest.FixtureRequest) -> Record:
    """Record a line that sums up a whole module; its result is FAILED if any test there failed."""

    def record(**cells: str) -> None:
        FIGURES.record(request.node.nodeid, **cells)

    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        FIGURES.note(report.nodeid, report.outcome)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures, if any reliability test ran in this session."""
    if not FIGURES.rows:
        return
    terminalreporter.section("reliability figures")
    for line in FIGURES.table():
        terminalreporter.write_line(line)
