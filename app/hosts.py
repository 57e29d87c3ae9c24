"""Answer only for the hosts the app is meant to be reached by: a guard against DNS rebinding.

A page on any site can make a browser send requests to 127.0.0.1 under the site's own name
(its DNS answer switched to this machine): the browser then treats the app as that site. The
Host header still carries the site's name, so a request for a host not in ALLOWED_HOSTS
(localhost, 127.0.0.1, [::1] and APL_ALLOWED_HOSTS; app/config.py) is refused before any route
runs. The same list decides which origins count as this app (app/security.py). A request line
that names its host itself (``GET http://name/path``, the absolute form) is judged by that name
as well, since HTTP gives it precedence over the Host header.

The path is checked here too, while nothing has routed it: gunicorn decodes ``%2F`` into a slash
before routing, so ``/api%2Fmessages`` would be the message list under a second address.
"""

from __future__ import annotations

from flask import Flask, Request, abort, current_app, request

_DEFAULT_PORTS = {"http": 80, "https": 443}


def split_host(value: str) -> tuple[str, int | None] | None:
    """Split ``host[:port]`` (a Host header or a URL's netloc) into its lowercased name and port.

    Return None when it is malformed (a port that is not a number, an unbracketed IPv6 address).
    """
    if value.endswith("]"):  # [::1]: the colons are the address's own
        return value.lower(), None
    name, colon, port = value.rpartition(":")
    if not colon:
        return value.lower(), None
    if not (port.isascii() and port.isdigit() and len(port) <= 5) or ":" in name and not name.endswith("]"):
        return None
    return name.lower(), int(port)


def is_allowed_host(value: str, allowed: frozenset[str]) -> bool:
    """Tell whether a Host header names one of the ``allowed`` hosts (any port)."""
    parts = split_host(value)
    return parts is not None and parts[0] in allowed


def is_own_origin(scheme: str, netloc: str, req: Request) -> bool:
    """Tell whether an origin is this app: an allowed host, reached by this request's scheme and port."""
    parts, own = split_host(netloc), split_host(req.host)
    if parts is None or own is None or parts[0] not in current_app.config["ALLOWED_HOSTS"]:
        return False
    default = _DEFAULT_PORTS.get(scheme.lower())
    return scheme.lower() == req.scheme and (parts[1] or default) == (own[1] or default)


def _named_host(target: str) -> str | None:
    """The host an absolute-form request target names (``http://name:port/path``), else None."""
    scheme, slashes, rest = target.partition("://")
    if not slashes or scheme.lower() not in _DEFAULT_PORTS:
        return None
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    return rest[:end].rpartition("@")[2]


def init_app(app: Flask) -> None:
    """Register the host check; create_app registers it before every other hook."""
    allowed: frozenset[str] = app.config["ALLOWED_HOSTS"]  # read once: this runs on every request

    def refuse_other_hosts() -> None:
        """Answer 400 to a request for any host not in the list, before routing reaches a view."""
        environ = request.environ
        target = environ.get("RAW_URI", "")
        named = _named_host(target)
        if not is_allowed_host(environ.get("HTTP_HOST", ""), allowed) or (
            named is not None and not is_allowed_host(named, allowed)
        ):
            abort(400, description="this server does not answer for that host name (see APL_ALLOWED_HOSTS)")
        if "%2f" in target.partition("?")[0].lower():
            abort(404)  # a slash spelled %2F: no route has a second address

    app.before_request(refuse_other_hosts)
