"""What gunicorn itself does with our settings: one line for a bad environment, sane numbers."""

from __future__ import annotations

import http.client
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
from gunicorn.workers.ggevent import GeventWorker

from app import MAX_CONTENT_LENGTH
from stack.ports import free_port
from stack.spec import APP_PORT
from stack.waiting import wait_for

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "gunicorn.conf.py"
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", str(CONF), "app:create_app()"]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "GUNICORN_"))}
    env.update(GUNICORN_BIND="127.0.0.1:0", **extra)
    return env


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({}, "apl: configuration error: MYSQL_USER is not set"),
        (
            {"MYSQL_USER": "root", "MYSQL_PASSWORD": "Sw0rdfish", "MYSQL_PORT": "http"},
            "apl: configuration error: MYSQL_PORT must be a port number from 1 to 65535",
        ),
        (
            {"MYSQL_USER": "root", "MYSQL_PASSWORD": "Sw0rdfish", "GUNICORN_WORKERS": "many"},
            "apl: configuration error: GUNICORN_WORKERS must be a whole number of at least 1",
        ),
    ],
)
def test_bad_environment_stops_gunicorn_with_one_line(env: dict[str, str], line: str) -> None:
    result = subprocess.run(
        GUNICORN, cwd=REPO, env=_clean_env(**env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [line]
    assert result.stdout == ""
    assert "Sw0rdfish" not in result.stderr


def test_settings_fit_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYSQL_USER", "root")
    monkeypatch.setenv("MYSQL_PASSWORD", "qwerty")
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    conf = runpy.run_path(str(CONF))
    assert conf["bind"] == f"0.0.0.0:{APP_PORT}"
    assert conf["workers"] == 3
    assert issubclass(conf["worker_class"], GeventWorker)  # slow clients park greenlets, not threads
    assert conf["keepalive"] < conf["REQUEST_SECONDS"] < conf["timeout"]
    assert conf["graceful_timeout"] < 10  # Docker's stop timeout
    assert conf["accesslog"] == "-"


_ACCESS_CASES = [
    # (environ, status, bytes sent): what a browser, a script, a hostile client and a cut-off answer send.
    (
        {
            "REMOTE_ADDR": "172.18.0.1",
            "REQUEST_METHOD": "GET",
            "RAW_URI": "/?lang=ko",
            "PATH_INFO": "/",
            "QUERY_STRING": "lang=ko",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_REFERER": 'http://localhost:8080/"x"',
            "HTTP_USER_AGENT": "wrk",
            "HTTP_AUTHORIZATION": "Basic dXNlcjpwdw==",
            "HTTP_HOST": "localhost:8080",
        },
        "200 OK",
        9918,
    ),
    ({"REQUEST_METHOD": "POST", "RAW_URI": '/api/"m"', "SERVER_PROTOCOL": "HTTP/1.0"}, "413 X", 0),
    (
        {
            "REMOTE_ADDR": "",
            "REQUEST_METHOD": "GET",
            "RAW_URI": "/\u00e9\u200b",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_USER_AGENT": 'a "quoted" agent \u263a',
            "HTTP_REFERER": "",
            "HTTP_AUTHORIZATION": "Basic !!not-base64",
        },
        "400 Bad Request",
        None,
    ),
    ({"REQUEST_METHOD": "GET", "RAW_URI": "/healthz", "SERVER_PROTOCOL": "HTTP/1.1"}, 204, 0),
]


@pytest.mark.parametrize(("environ", "status", "sent"), _ACCESS_CASES)
def test_access_line_is_gunicorns_own(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environ: dict[str, str],
    status: str | int,
    sent: int | None,
) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    monkeypatch.setenv("MYSQL_USER", "root")
    monkeypatch.setenv("MYSQL_PASSWORD", "qwerty")
    cfg = Config()
    cfg.set("accesslog", "-")
    resp = SimpleNamespace(status=status, sent=sent, headers=[("Content-Type", "text/html")])
    req = SimpleNamespace(headers=[("HOST", "localhost:8080"), ("USER-AGENT", "wrk")])

    def written(logger_class: type[Logger]) -> str:
        logger = logger_class(cfg)  # after capsys took sys.stdout: its handler writes there
        monkeypatch.setattr(logger, "now", lambda: "[03/Dec/2026:04:54:09 +0000]")
        logger.access(resp, req, environ, timedelta(microseconds=1500))
        return capsys.readouterr().out

    access_logger = runpy.run_path(str(CONF))["AccessLogger"]
    assert access_logger(cfg)._stream is not None  # the direct line is what is compared here
    ours = written(access_logger)
    assert ours == written(Logger)
    assert ours.count("\n") == 1 and " [03/Dec/2026:04:54:09 +0000] " in ours


def test_access_line_with_a_format_of_ones_own_is_gunicorns_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    monkeypatch.setenv("MYSQL_USER", "root")
    monkeypatch.setenv("MYSQL_PASSWORD", "qwerty")
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", "%(m)s %({host}i)s %(D)s")
    logger = runpy.run_path(str(CONF))["AccessLogger"](cfg)
    resp = SimpleNamespace(status="200 OK", sent=1, headers=[])
    req = SimpleNamespace(headers=[("HOST", "localhost:8080")])
    logger.access(
        resp,
        req,
        {"REQUEST_METHOD": "GET", "RAW_URI": "/", "SERVER_PROTOCOL": "HTTP/1.1"},
        timedelta(microseconds=1500),
    )
    assert capsys.readouterr().out == "GET localhost:8080 1500\n"


class _RecordingSocket:
    """Records what is sent, in order, one entry per system call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    def sendall(self, data: bytes) -> None:
        self.calls.append(("sendall", data))

    def sendfile(self, data: bytes) -> None:
        self.calls.append(("sendfile", data))


def _headers_with_body(monkeypatch: pytest.MonkeyPatch) -> type:
    monkeypatch.setenv("MYSQL_USER", "root")
    monkeypatch.setenv("MYSQL_PASSWORD", "qwerty")
    return runpy.run_path(str(CONF))["HeadersWithBody"]  # type: ignore[no-any-return]


def test_headers_go_out_with_the_body_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    sock = _RecordingSocket()
    corked = _headers_with_body(monkeypatch)(sock)
    corked.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    assert sock.calls == []
    corked.sendall(b"<html>")
    corked.sendall(b"</html>")
    corked.flush()
    assert sock.calls == [("sendall", b"HTTP/1.1 200 OK\r\n\r\n<html>"), ("sendall", b"</html>")]


def test_held_headers_go_first_whatever_else_the_socket_does(monkeypatch: pytest.MonkeyPatch) -> None:
    sock = _RecordingSocket()
    corked = _headers_with_body(monkeypatch)(sock)
    corked.sendall(b"headers")
    corked.sendfile(b"file")  # gunicorn sends static files with sendfile, after the headers
    assert sock.calls == [("sendall", b"headers"), ("sendfile", b"file")]
    lone = _RecordingSocket()
    answer = _headers_with_body(monkeypatch)(lone)
    answer.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")  # no body: flushed at the end of the request
    answer.flush()
    assert lone.calls == [("sendall", b"HTTP/1.1 204 No Content\r\n\r\n")]


def test_stop_does_not_wait_for_idle_keep_alive_connections() -> None:
    port = free_port()
    env = _clean_env(MYSQL_USER="root", MYSQL_PASSWORD="qwerty", GUNICORN_WORKERS="1")
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    server = subprocess.Popen(GUNICORN, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        wait_for(lambda: _answers(port), timeout=30, what="gunicorn to answer /healthz")
        idle.request("GET", "/healthz")  # a keep-alive connection, then left idle
        assert idle.getresponse().read() == b'{"status":"ok"}\n'
        stopped = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        # keepalive is 5 s: waiting out the idle connection would take longer than this
        assert time.monotonic() - stopped < 4
    finally:
        idle.close()
        if server.poll() is None:
            server.kill()
            server.wait()
        assert server.stderr is not None
        server.stderr.close()


def test_stop_lets_the_request_under_way_finish() -> None:
    """A stop (SIGTERM) still waits for the request being answered: its answer goes out whole."""
    silent_db = socket.create_server(("127.0.0.1", 0))  # accepts, never greets: the app waits for it
    port = free_port()
    env = _clean_env(MYSQL_USER="root", MYSQL_PASSWORD="qwerty", GUNICORN_WORKERS="1")
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", MYSQL_HOST="127.0.0.1")
    env["MYSQL_PORT"] = str(silent_db.getsockname()[1])
    server = subprocess.Popen(GUNICORN, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    answers: list[tuple[int, bytes]] = []

    def ask_readiness() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", "/readyz")
            response = connection.getresponse()
            answers.append((response.status, response.read()))
        finally:
            connection.close()

    asking = threading.Thread(target=ask_readiness)
    try:
        wait_for(lambda: _answers(port), timeout=30, what="gunicorn to answer /healthz")
        asking.start()
        silent_db.settimeout(30)
        waiting_app, _ = silent_db.accept()  # the request is under way: its DB connect waits here
        server.send_signal(signal.SIGTERM)
        asking.join(timeout=30)
        assert server.wait(timeout=30) == 0
        waiting_app.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        silent_db.close()
        assert server.stderr is not None
        server.stderr.close()
    # Answered as a database that does not greet is answered: 503 with the reason, not a cut connection.
    assert [status for status, _ in answers] == [503]
    assert b'"status":"unavailable"' in answers[0][1]


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@pytest.fixture
def serving() -> Iterator[int]:
    """gunicorn with this config and one worker on a free port (no database: the body rules come first)."""
    port = free_port()
    env = _clean_env(MYSQL_USER="root", MYSQL_PASSWORD="qwerty", GUNICORN_WORKERS="1")
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.Popen(GUNICORN, cwd=REPO, env=env, **quiet)
    try:
        wait_for(lambda: _answers(port), timeout=30, what="gunicorn to answer /healthz")
        yield port
    finally:
        server.kill()
        server.wait()


def _exchange(port: int, head: bytes, body: bytes = b"", *, half_close: bool = False) -> bytes:
    """Send raw bytes, then read everything the server sends until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(head + body)
        if half_close:
            client.shutdown(socket.SHUT_WR)
        received = b""
        while data := client.recv(65536):
            received += data
        return received


def _post_head(content_length: int, *extra: bytes) -> bytes:
    return b"\r\n".join(
        [
            b"POST /api/messages HTTP/1.1",
            b"Host: localhost",
            b"Content-Type: application/json",
            b"Content-Length: %d" % content_length,
            *extra,
            b"",
            b"",
        ]
    )


def test_a_body_over_the_limit_is_not_invited_but_refused_at_once(serving: int) -> None:
    # The client waits for "100 Continue" and never sends the body: the 413 must come anyway,
    # then the connection closes (its body was never sent, so it cannot carry another request).
    answer = _exchange(serving, _post_head(MAX_CONTENT_LENGTH + 1, b"Expect: 100-continue"))
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"100 Continue" not in answer
    assert f"larger than {MAX_CONTENT_LENGTH} bytes".encode() in answer


def test_a_body_within_the_limit_is_still_invited(serving: int) -> None:
    body = b'{"text": "hi"}'
    with socket.create_connection(("127.0.0.1", serving), timeout=10) as client:
        client.sendall(_post_head(len(body), b"Expect: 100-continue", b"Connection: close"))
        assert client.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"


def test_a_body_that_ends_before_its_declared_length_is_400_never_stored(serving: int) -> None:
    body = b'{"text": "Please do not publish this until Friday"}'
    cut = body[: body.index(b" until")] + b'"}'  # still valid JSON: only the length tells
    answer = _exchange(serving, _post_head(len(body)), cut, half_close=True)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"the request body ended before its declared length" in answer


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"get /api/messages HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),  # a method in lower case
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
        (b"POST /api/messages HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n\r\n", 501),
    ],
    ids=["method", "long URL", "transfer coding"],
)
def test_what_gunicorn_refuses_itself_is_answered_like_the_apps_own_errors(
    serving: int, request_bytes: bytes, status: int
) -> None:
    head, _, body = _exchange(serving, request_bytes).partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (field.partition(": ") for field in fields)}
    phrase = HTTPStatus(status).phrase
    assert status_line == f"HTTP/1.1 {status} {phrase}"
    assert headers["content-type"] == "application/json"
    assert headers["content-security-policy"].startswith("default-src 'none'")
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"
    error = json.loads(body)
    assert (error["status"], error["error"]) == (status, phrase) and error["detail"]
