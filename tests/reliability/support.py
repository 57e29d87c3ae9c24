"""What the reliability tests share: the live stack, a traffic generator, and the figures table.

Traffic goes to 127.0.0.1 only; the database is reached through ``docker exec`` inside its own
container, so its port stays unpublished even while the tests read it.
"""

from __future__ import annotations

import html
import http.client
import json
import random
import re
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import docker
import requests
from docker.models.containers import Container

from stack import readiness
from stack.resources import ProjectResources
from stack.settings import credentials_file
from stack.waiting import wait_for
from tests.integration.support import REPO, RUN_ID, run_orchestrate

# Named per run, as the integration tests are: runs side by side never share a resource.
PROJECT = f"aplrel-{RUN_ID}"
# Blank counts as unset (stack/credentials.py): the stack always generates its own credentials,
# whatever the caller's shell exports, so the security checks know which file holds them.
GENERATED_CREDENTIALS = {
    name: "" for name in ("MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "MYSQL_DATABASE")
}
# Written by the tests' traffic: varied scripts, so "stored byte for byte" means something.
SAMPLES = (
    "hello, world",
    "안녕하세요, 도커!",
    "🐳 👍🏽 👨‍👩‍👧‍👦 🇰🇷",
    "שלום עולם · مرحبا",
    "e\u0301 a\u200bb \u202edcba\u202c",
    "<b>bold</b> & 'single' \"double\"",
    "'; DROP TABLE messages; --",
    "back\\slash %_ `tick`",
)


def message_text(tag: str, serial: str) -> str:
    """A unique message mixing scripts; ``serial`` makes it unique within ``tag``."""
    return f"{tag} {serial} {SAMPLES[zlib.crc32(serial.encode()) % len(SAMPLES)]}"


# -- the stack ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveStack:
    """The reliability project's running stack, and ways to look inside it."""

    client: docker.DockerClient
    project: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def credentials_file(self) -> Path:
        return credentials_file(REPO, self.project)

    def orchestrate(self, *args: str) -> subprocess.CompletedProcess:
        """Run orchestrate.py on this project, as a user would."""
        return run_orchestrate(
            "--project", self.project, "--port", str(self.port), *args, env=GENERATED_CREDENTIALS
        )

    def up(self) -> subprocess.CompletedProcess:
        """Run `up` and insist that it worked."""
        result = self.orchestrate("up")
        assert result.returncode == 0, f"up failed:\n{result.stdout}\n{result.stderr}"
        return result

    def container(self, role: str) -> Container:
        """The project's ``role`` container as it is now (looked up afresh: `down` replaces them)."""
        found = ProjectResources(self.client, self.project).container(role)
        assert found, f"project {self.project} has no {role} container"
        return found

    def secrets(self) -> list[str]:
        """The passwords the DB container was started with."""
        env = dict(item.split("=", 1) for item in self.container("db").attrs["Config"]["Env"])
        return [env[name] for name in ("MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD") if env.get(name)]

    def mysql(self, sql: str, *, as_app_user: bool = False) -> tuple[int, str, str]:
        """Run ``sql`` with the mysql client inside the DB container; return (exit code, stdout, stderr).

        The statement travels in an environment variable, so no quoting can change it.
        """
        client = readiness.DB_APP_CLIENT if as_app_user else readiness.DB_ROOT_CLIENT
        command = f'{client} --batch --raw --skip-column-names "$MYSQL_DATABASE" -e "$APL_SQL"'
        result = self.container("db").exec_run(
            ["sh", "-c", command], environment={"APL_SQL": sql}, demux=True
        )
        out, err = (part.decode("utf-8", errors="replace") if part else "" for part in result.output)
        return result.exit_code, out, err

    def rows(self, sql: str) -> list[list[str]]:
        """Run a query as root and return its rows as lists of strings."""
        code, output, errors = self.mysql(sql)
        assert code == 0, f"{sql!r} failed: {errors}"
        return [line.split("\t") for line in output.splitlines()]

    def stored_messages(self) -> dict[int, str]:
        """Every message in the database, id -> text, decoded from the stored bytes themselves."""
        return {
            int(row_id): bytes.fromhex(hexed).decode("utf-8")
            for row_id, hexed in self.rows("SELECT id, HEX(text) FROM messages")
        }

    def db_answers(self) -> bool:
        """Whether the DB accepts a TCP query: the same probe `up` and the healthcheck use."""
        return readiness.db_answers(self.container("db"))

    def app_serves(self) -> bool:
        """Whether the API answers a read with 200 right now."""
        try:
            return requests.get(f"{self.base_url}/api/messages?limit=1", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def wait_until_serving(self, timeout: float = 60) -> float:
        """Poll until the API serves; return the monotonic time it first did."""
        return wait_for(lambda: self.app_serves() and time.monotonic(), timeout=timeout, interval=0.05)


def has_exited(container: Container) -> bool:
    """Whether ``container`` has stopped running (its state read afresh)."""
    container.reload()
    return container.status == "exited"


# -- talking to the app ------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection to the app on 127.0.0.1, reopened after any failure.

    http.client rather than requests: with 64 of these in one process the client's own CPU
    time bounds the load it can make, and requests costs several times more per call.
    """

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request; raise OSError or HTTPException when no answer came."""
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            self._conn.request(method, path, body=body, headers=headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(frozen=True)
class Exchange:
    """One request and what came of it; ``status`` 0 means no HTTP answer at all."""

    kind: str  # write, list, read, page or health
    started: float  # time.monotonic()
    elapsed: float
    status: int
    sent: str | None = None  # a write's text
    stored_id: int | None = None  # from a 201
    stored_text: str | None = None  # the text the 201 says was stored
    reason: str = ""  # an error answer's stated reason, or the client's own error
    body: bytes = b""  # kept for error answers only

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def reason_in(body: bytes) -> str:
    """The reason an error answer states: ``detail`` in JSON, the failure reason on the page."""
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        return str(decoded.get("detail") or decoded.get("reason") or "")
    match = re.search(rb'id="failure-reason">(.*?)</code>', body, re.DOTALL)
    return html.unescape(match.group(1).decode()).strip() if match else ""


def exchange(client: Client, kind: str, path: str, sent: str | None = None) -> Exchange:
    """Make one request (a POST of ``sent`` when given) and record it."""
    body = json.dumps({"text": sent}, ensure_ascii=False).encode() if sent is not None else None
    started = time.monotonic()
    try:
        status, data = client.send("POST" if body is not None else "GET", path, body)
    except (OSError, http.client.HTTPException) as error:
        return Exchange(kind, started, time.monotonic() - started, 0, sent, reason=repr(error))
    elapsed = time.monotonic() - started
    if status == 201:
        try:
            row = json.loads(data)
            return Exchange(kind, started, elapsed, status, sent, int(row["id"]), str(row["text"]))
        except (ValueError, KeyError, TypeError):  # a 201 without its row: counted as lost
            return Exchange(
                kind, started, elapsed, status, sent, reason="201 without the stored row", body=data
            )
    if status >= 400:
        return Exchange(kind, started, elapsed, status, sent, reason=reason_in(data), body=data)
    return Exchange(kind, started, elapsed, status, sent)


class Traffic:
    """Client threads sending a steady mix of reads and writes until stopped, recording every exchange.

    A context manager: the threads start on entry and are stopped and joined on exit, even when
    the test fails, so no request outlives the test.
    """

    def __init__(
        self,
        port: int,
        *,
        clients: int,
        tag: str,
        mix: Mapping[str, float],
        timeout: float,
        pause: float = 0.0,
    ) -> None:
        self.port, self.clients, self.tag, self.mix = port, clients, tag, mix
        self.timeout, self.pause = timeout, pause
        self._log: list[Exchange] = []  # list.append is atomic: threads share it without a lock
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), name=f"{tag}-{n}", daemon=True)
            for n in range(clients)
        ]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    @property
    def exchanges(self) -> list[Exchange]:
        return list(self._log)

    def count(self, predicate: Callable[[Exchange], bool]) -> int:
        return sum(1 for item in self._log if predicate(item))

    def _run(self, number: int) -> None:
        rng = random.Random(f"{self.tag}-{number}")  # the same mix on every run
        kinds, weights = list(self.mix), list(self.mix.values())
        client = Client(self.port, self.timeout)
        last_id, serial = 1, 0
        try:
            while not self._stop.is_set():
                kind = rng.choices(kinds, weights)[0]
                if kind == "write":
                    serial += 1
                    text = message_text(self.tag, f"{number}-{serial}")
                    done = exchange(client, kind, "/api/messages", text)
                    last_id = done.stored_id or last_id
                elif kind == "list":
                    done = exchange(client, kind, "/api/messages?limit=20")
                elif kind == "read":
                    done = exchange(client, kind, f"/api/messages/{last_id}")
                elif kind == "health":
                    done = exchange(client, kind, "/healthz")
                else:
                    done = exchange(client, kind, "/")
                self._log.append(done)
                if self.pause:
                    self._stop.wait(self.pause)  # pacing, so a few clients make steady traffic
        finally:
            client.close()


def lost_writes(exchanges: Iterable[Exchange], stored: Mapping[int, str]) -> list[Exchange]:
    """Writes acknowledged with 201 whose row is missing or differs from what was sent."""
    return [
        item
        for item in exchanges
        if item.status == 201
        and (item.stored_text != item.sent or stored.get(item.stored_id or -1) != item.sent)
    ]


def stored_anyway(exchanges: Iterable[Exchange], stored: Mapping[int, str]) -> tuple[int, int]:
    """Of the writes that got no 201, how many are in the database anyway: (stored, total)."""
    texts = set(stored.values())
    unacknowledged = [item for item in exchanges if item.kind == "write" and item.status != 201]
    return sum(1 for item in unacknowledged if item.sent in texts), len(unacknowledged)


def summarise_5xx(exchanges: Iterable[Exchange]) -> str:
    """Count the 5xx answers apart: 500 is a fault or a failed statement, 503 an unreachable DB."""
    statuses = [item.status for item in exchanges if item.status >= 500]
    other = len(statuses) - statuses.count(500) - statuses.count(503)
    return f"500s {statuses.count(500)}, 503s {statuses.count(503)}" + (
        f", other 5xx {other}" if other else ""
    )


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


# -- the figures table ---------------------------------------------------------------------


@dataclass
class Row:
    """One line of the figures table; ``key`` is the test (or module) whose outcome it reports."""

    key: str
    area: str
    tried: str
    often: str
    lost: str
    figures: str


COLUMNS = ("area", "what was tried", "how often", "lost", "figures", "result")
# What the ``figures`` fixtures hand a test: record(area=..., tried=..., often=..., lost=..., figures=...)
Record = Callable[..., None]


@dataclass
class Figures:
    """Rows the tests record, and the outcome of every test, for the summary at the end."""

    rows: list[Row] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)

    def record(self, key: str, *, area: str, tried: str, often: str, lost: str, figures: str = "") -> None:
        self.rows = [row for row in self.rows if not (row.key == key and row.area == area)]
        self.rows.append(Row(key, area, tried, often, lost, figures))

    def note(self, nodeid: str, outcome: str) -> None:
        """Remember a test phase's outcome; a failure in any phase sticks."""
        if self.outcomes.get(nodeid) != "failed":
            self.outcomes[nodeid] = outcome

    def result(self, row: Row) -> str:
        """passed, FAILED or skipped, over every test the row's key covers."""
        seen = [
            out for node, out in self.outcomes.items() if node == row.key or node.startswith(row.key + "::")
        ]
        if "failed" in seen:
            return "FAILED"
        if seen and all(out == "skipped" for out in seen):
            return "skipped"
        return "passed" if seen else "not run"

    def table(self) -> list[str]:
        """The rows as a Markdown table, in the issue's order."""
        cells = [(r.area, r.tried, r.often, r.lost, r.figures, self.result(r)) for r in self.rows]
        cells.sort(key=lambda row: row[0])
        widths = [max(len(row[i]) for row in [COLUMNS, *cells]) for i in range(len(COLUMNS))]

        def line(row: tuple[str, ...]) -> str:
            return (
                "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"
            )

        return [line(COLUMNS), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)]


FIGURES = Figures()
