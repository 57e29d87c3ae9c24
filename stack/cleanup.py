"""Removing things without being stopped halfway: by a failing step, or by a second Ctrl-C."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

import docker

from .resources import listed_containers


def quietly(step: Callable[[], object]) -> None:
    """Run a cleanup step; one that fails (an API error, a timeout) must not stop the ones after it."""
    with suppress(Exception):
        step()


@contextmanager
def signals_handled_by(
    signals: tuple[signal.Signals, ...], handler: Callable[[int, object], None] | int
) -> Iterator[None]:
    """Let ``handler`` take ``signals`` for the block, then restore the handlers before."""
    try:
        previous = {each: signal.signal(each, handler) for each in signals}
    except ValueError:  # not the main thread: signals are not ours to change
        yield
        return
    try:
        yield
    finally:
        for each, before in previous.items():
            signal.signal(each, before)


# Signals that end a command as Ctrl-C does: `kill`, `timeout`, a closed terminal, `docker stop`
# of a CI job. Each is turned into Stopped, a KeyboardInterrupt, so every rollback and cleanup
# written for Ctrl-C runs for them too.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
INTERRUPTS = (signal.SIGINT, *STOP_SIGNALS)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled as Ctrl-C is, ending with the exit code a shell gives for it."""

    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signal_name = signal.Signals(signum).name.removeprefix("SIG")
        self.exit_code = 128 + signum


def interruption(signum: int) -> KeyboardInterrupt:
    """The exception a signal of INTERRUPTS stands for."""
    return KeyboardInterrupt() if signum == signal.SIGINT else Stopped(signum)


def stop_signals_interrupt() -> AbstractContextManager[None]:
    """Turn SIGTERM and SIGHUP into Stopped for the block."""

    def stop(signum: int, _frame: object) -> None:
        raise Stopped(signum)

    return signals_handled_by(STOP_SIGNALS, stop)


def sigint_ignored() -> AbstractContextManager[None]:
    """Let cleanup finish even if Ctrl-C is pressed again (or another stop signal comes)."""
    return signals_handled_by(INTERRUPTS, signal.SIG_IGN)


@contextmanager
def sigint_deferred(notice: str) -> Iterator[None]:
    """Hold a Ctrl-C (or SIGTERM, SIGHUP) back until the block ends, saying ``notice`` once; then raise it.

    For a change to the engine and the record of how to undo it: interrupted between the two (a
    request sent, its answer not yet read), the change would be made and never undone.
    """
    pressed: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        if not pressed:
            print(notice, file=sys.stderr)
        pressed.append(signum)

    with signals_handled_by(INTERRUPTS, hold):
        yield
    if pressed:
        raise interruption(pressed[0])


def remove_labelled(client: docker.DockerClient, label: str, value: str) -> None:
    """Force-remove every container, network, volume and image carrying ``label=value``."""
    filters = {"label": f"{label}={value}"}
    for container in listed_containers(client, filters):
        quietly(lambda c=container: c.remove(force=True, v=True))
    for network in client.networks.list(filters=filters):
        quietly(network.remove)
    for volume in client.volumes.list(filters=filters):
        quietly(lambda v=volume: v.remove(force=True))
    for image in client.images.list(filters=filters):
        quietly(lambda i=image: client.images.remove(i.id, force=True))
