"""Gunicorn settings for the app's container; every number can be overridden by environment."""

from __future__ import annotations

import os
import sys

from app.config import ConfigError, load_settings

# Refuse a bad environment here, in the master, before any worker starts: a worker that
# fails in create_app() would print a traceback and be retried, burying the one line
# that matters.
try:
    _settings = load_settings()
except ConfigError as error:
    sys.exit(f"apl: configuration error: {error}")


def _env_int(name: str, default: int) -> int:
    """Read a positive whole number from the environment, or stop with one line naming it."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 6) or int(raw) < 1:
        sys.exit(f"apl: configuration error: {name} must be a whole number of at least 1")
    return int(raw)


def _usable_cpus() -> int:
    """Count the CPUs this process may run on (cpu_count() sees the whole host)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:80")
# gthread: a request mostly waits on a MySQL round trip, and threads wait cheaply; each
# thread keeps its own DB connection, so connections = workers x threads.
worker_class = "gthread"
workers = _env_int("GUNICORN_WORKERS", _usable_cpus())
threads = _env_int("GUNICORN_THREADS", 4)
# Docker sends SIGKILL 10 s after SIGTERM: finish in-flight requests well before that.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 8)
timeout = _env_int("GUNICORN_TIMEOUT", 30)
keepalive = 5
accesslog = "-"  # the access log is what `docker logs` shows, as Apache's was in the lesson
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No runtime control socket: nothing in the container uses it, and the app user has no home.
control_socket_disable = True


def when_ready(server: object) -> None:
    """Say once where the app will look for its database (never the password)."""
    s = _settings
    server.log.info("apl: database %s, name %s, user %s", s.address, s.database, s.user)  # type: ignore[attr-defined]
