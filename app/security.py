"""Response headers every answer carries, and the checks that refuse cross-site posts.

Form posts carry two proofs, both needed: a token that must equal this browser's
``apl_csrf`` cookie (a double-submit token: another site can neither read nor set the
cookie, so no server-side secret is needed and any worker can check it), and, when the
browser says where the post came from (Sec-Fetch-Site, Origin or Referer), this site.
JSON posts need no token: a cross-site page cannot send ``application/json`` without a
CORS preflight, which this app never grants; an Origin naming another site is refused too.
"This site" is a host in the allowed list (app/hosts.py), on the scheme and port the request came
in on, never whatever Host the request carries; a reverse proxy in front must pass Host on.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Request, Response, g, request

from .hosts import is_own_origin

CSRF_COOKIE = "apl_csrf"
CSRF_FIELD = "csrf_token"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
# No script at all; styles and the icon only from this origin; never inside a frame.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Same-origin Referer keeps the origin check possible without leaking URLs elsewhere.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_HEADERS_BY_KEY = tuple((name.lower(), name, value) for name, value in SECURITY_HEADERS.items())


def csrf_token() -> str:
    """Return this browser's form token, minting one (set as a cookie on the way out) if needed."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if _TOKEN.fullmatch(token):
        return token
    if "csrf_new" not in g:
        g.csrf_new = secrets.token_urlsafe(32)
    new: str = g.csrf_new
    return new


def cross_site_reason(req: Request, submitted_token: str | None) -> str | None:
    """Return why a post must be refused as cross-site, or None if it comes from this site.

    :param submitted_token: the form's token, or None for JSON posts, which need none.
    """
    fetch_site = req.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"the browser reports a {fetch_site} request"
    origin = req.headers.get("Origin")
    if origin is None and submitted_token is not None and req.referrer:
        origin = req.referrer
    if origin is not None and not _is_own(origin, req):
        return "the post comes from another origin"
    if submitted_token is None:
        return None
    cookie = req.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), submitted_token.encode()):
        return "the form token is missing or does not match; reload the page and try again"
    return None


def _is_own(url: str, req: Request) -> bool:
    """Tell whether an Origin or Referer names this app ('null' and other non-URLs never do)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[" and other bracket or port shapes no browser sends
        return False
    return bool(parts.scheme and parts.netloc) and is_own_origin(parts.scheme, parts.netloc, req)


def _secure_response(response: Response) -> Response:
    """Add the security headers, keep dynamic answers out of caches, and set a new token cookie."""
    # One pass over the headers already set: werkzeug's own lookups raise (and build) an
    # exception for every header that is missing, which is most of them, on every request.
    present = {name.lower() for name, _ in response.headers}
    missing = [(name, value) for key, name, value in _HEADERS_BY_KEY if key not in present]
    if request.endpoint != "static" and "cache-control" not in present:
        missing.append(("Cache-Control", "no-store"))
    response.headers.extend(missing)
    if "csrf_new" in g:
        response.set_cookie(
            CSRF_COOKIE, g.csrf_new, httponly=True, samesite="Strict", secure=request.is_secure, path="/"
        )
    return response


def init_app(app: Flask) -> None:
    """Register the header hook."""
    app.after_request(_secure_response)
