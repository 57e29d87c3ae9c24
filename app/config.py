"""Read the app's settings from the environment, once, and refuse bad ones by name."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_HOST = "mysql"  # the DB container's name on apl-net
DEFAULT_PORT = 3306
DEFAULT_DATABASE = "apl"
# Unquoted MySQL identifiers: the name is interpolated nowhere, but a typo is caught at start-up.
_DATABASE_NAME = re.compile(r"[A-Za-z0-9_$]{1,64}")
_HOST_NAME = re.compile(r"[A-Za-z0-9._:-]{1,255}")
# The hosts the app always answers for, on any port: this machine, by name and by address.
DEFAULT_ALLOWED_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
# A DNS name or IPv4 address (letters, digits, '.', '-', '_'), or an IPv6 address in brackets; no port.
_ALLOWED_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9._-]{0,252})|\[[0-9a-f:.]{2,45}\]")


class ConfigError(Exception):
    """A required setting is missing or malformed; the message names the variable, never its value."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable


@dataclass(frozen=True)
class DBSettings:
    """Where and how to reach MySQL; the password stays out of repr() and logs."""

    host: str
    port: int
    user: str
    database: str
    password: str = field(repr=False)
    # Short timeouts: a dead or unreachable DB must cost a request seconds, never hang it.
    connect_timeout: float = 2.0
    read_timeout: float = 3.0
    write_timeout: float = 3.0

    @property
    def address(self) -> str:
        """Return ``host:port`` as the page shows it."""
        return f"{self.host}:{self.port}"


def load_settings(environ: Mapping[str, str] | None = None) -> DBSettings:
    """Build DBSettings from MYSQL_* variables or raise ConfigError naming the bad one."""
    env = os.environ if environ is None else environ
    host = env.get("MYSQL_HOST", DEFAULT_HOST).strip()
    if not _HOST_NAME.fullmatch(host):
        raise ConfigError("MYSQL_HOST", "must be a host name or IP address")
    user = env.get("MYSQL_USER", "").strip()
    if not user:
        raise ConfigError("MYSQL_USER", "is not set")
    database = env.get("MYSQL_DATABASE", DEFAULT_DATABASE).strip()
    if not _DATABASE_NAME.fullmatch(database):
        raise ConfigError("MYSQL_DATABASE", "must be 1-64 letters, digits, '_' or '$'")
    return DBSettings(
        host=host,
        port=_read_port(env),
        user=user,
        database=database,
        password=_read_password(env),
    )


def load_allowed_hosts(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """Return the hosts the app answers for: the defaults plus APL_ALLOWED_HOSTS (commas or spaces)."""
    env = os.environ if environ is None else environ
    extra = env.get("APL_ALLOWED_HOSTS", "").replace(",", " ").lower().split()
    if not all(_ALLOWED_HOST.fullmatch(name) for name in extra):
        raise ConfigError(
            "APL_ALLOWED_HOSTS", "must list host names or addresses without ports, separated by commas"
        )
    return DEFAULT_ALLOWED_HOSTS | frozenset(extra)


def _read_port(env: Mapping[str, str]) -> int:
    """Parse MYSQL_PORT as a TCP port number."""
    raw = env.get("MYSQL_PORT", str(DEFAULT_PORT)).strip()
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 5) or not 1 <= int(raw) <= 65535:
        raise ConfigError("MYSQL_PORT", "must be a port number from 1 to 65535")
    return int(raw)


def _read_password(env: Mapping[str, str]) -> str:
    """Take the password from MYSQL_PASSWORD or the file named by MYSQL_PASSWORD_FILE, not both."""
    direct = env.get("MYSQL_PASSWORD")
    path = env.get("MYSQL_PASSWORD_FILE")
    if direct is not None and path is not None:
        raise ConfigError("MYSQL_PASSWORD_FILE", "and MYSQL_PASSWORD are both set; use one")
    if path is not None:
        try:
            with open(path, encoding="utf-8") as secret:
                # Secret files usually end with a newline that is not part of the password.
                direct = secret.read().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            # strerror only: the exception's text could quote the file's contents on decode errors.
            reason = exc.strerror if isinstance(exc, OSError) else "is not UTF-8 text"
            raise ConfigError("MYSQL_PASSWORD_FILE", f"cannot be read ({path}): {reason}") from None
        if not direct:
            raise ConfigError("MYSQL_PASSWORD_FILE", "names an empty file")
        return direct
    if not direct:
        # An empty password is almost always an unset shell variable passed through -e.
        raise ConfigError("MYSQL_PASSWORD", "is not set (or set MYSQL_PASSWORD_FILE)")
    return direct
