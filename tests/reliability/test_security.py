"""6. Security posture, asserted on the running stack rather than read off its configuration."""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from .support import LiveStack, Record

pytestmark = pytest.mark.reliability

OTHER_ORIGIN = "http://attacker.example"
# Answers that could carry a secret by mistake: the page, probes, the API, errors.
PAGES = (
    "/",
    "/?lang=ko",
    "/healthz",
    "/readyz",
    "/api/messages",
    "/api/openapi.json",
    "/api/messages/0",
    "/nope",
)


@pytest.fixture(scope="module")
def checks(module_figures: Record) -> Iterator[Counter[str]]:
    """Counts what was checked, summed up in one line of the figures table."""
    counts: Counter[str] = Counter()
    yield counts
    module_figures(
        area="6 Security posture",
        tried="process user, DB port, DB grants, secrets, credentials file, cross-origin posts, headers",
        often=(
            f"{counts['processes']} app processes, {counts['grants']} grants, {counts['places']} places"
            f" searched for passwords, {counts['posts']} posts, {counts['responses']} responses' headers"
        ),
        lost=f"{counts['leaks']} passwords found; {counts['accepted_cross_site']} cross-origin posts stored",
        figures=f"{counts['refused']} cross-origin posts refused with 403",
    )


def test_app_processes_run_as_a_non_root_user(stack: LiveStack, checks: Counter[str]) -> None:
    top = stack.container("app").top()
    uid = top["Titles"].index("UID")
    users = [process[uid] for process in top["Processes"]]
    checks["processes"] += len(users)
    assert users and all(user not in ("0", "root") for user in users), users


def test_db_port_is_not_published(stack: LiveStack, checks: Counter[str]) -> None:
    db = stack.container("db")
    assert not db.attrs["HostConfig"].get("PortBindings")
    exposed = db.attrs["NetworkSettings"]["Ports"] or {}
    assert exposed and all(binding is None for binding in exposed.values()), exposed
    checks["db_port"] += 1


def test_app_db_user_has_privileges_on_its_own_database_only(stack: LiveStack, checks: Counter[str]) -> None:
    code, output, errors = stack.mysql("SHOW GRANTS", as_app_user=True)
    assert code == 0, errors
    grants = output.splitlines()
    assert grants, "SHOW GRANTS listed nothing"
    checks["grants"] += len(grants)
    ((database,),) = stack.rows("SELECT DATABASE()")
    for grant in grants:
        assert grant.startswith("GRANT USAGE ON *.*") or f" ON `{database}`.* " in grant, grant
    code, output, errors = stack.mysql("SHOW DATABASES", as_app_user=True)
    assert code == 0, errors
    assert set(output.split()) == {"information_schema", database}
    for forbidden in (
        "SELECT user FROM mysql.user",
        "CREATE DATABASE apl_probe",
        "SHOW GRANTS FOR root@localhost",
    ):
        code, _, errors = stack.mysql(forbidden, as_app_user=True)
        assert code != 0 and "denied" in errors, (forbidden, errors)


def test_no_password_in_image_history_logs_or_answers(stack: LiveStack, checks: Counter[str]) -> None:
    secrets = stack.secrets()
    assert len(secrets) == 2
    places: dict[str, str] = {}
    for role in ("app", "db"):
        container = stack.container(role)
        image = container.image
        places[f"{role} image history"] = str(image.history())
        places[f"{role} image config"] = str(image.attrs["Config"])
        places[f"{role} logs"] = container.logs().decode(errors="replace")
    for path in PAGES:
        places[f"GET {path}"] = requests.get(stack.base_url + path, timeout=10).text
    checks["places"] += len(places)
    leaks = [place for place, text in places.items() if any(secret in text for secret in secrets)]
    checks["leaks"] += len(leaks)
    assert leaks == []


def test_credentials_file_is_readable_by_its_owner_only(stack: LiveStack, checks: Counter[str]) -> None:
    info = stack.credentials_file.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.getuid()
    held = stack.credentials_file.read_text()
    secrets = stack.secrets()
    assert secrets and all(s in held for s in secrets), "the file is not the one the stack runs with"
    checks["files"] += 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": OTHER_ORIGIN},
        {"Referer": f"{OTHER_ORIGIN}/page"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
    ids=["Origin", "Referer", "Sec-Fetch-Site"],
)
def test_form_posts_from_another_origin_are_refused(
    stack: LiveStack, checks: Counter[str], headers: dict[str, str]
) -> None:
    with requests.Session() as browser:
        browser.get(stack.base_url + "/", timeout=10)  # the page sets the form token's cookie
        token = browser.cookies["apl_csrf"]
        text = f"cross-site post via {next(iter(headers))}"
        refused = browser.post(
            f"{stack.base_url}/messages",
            data={"csrf_token": token, "text": text},
            headers=headers,
            allow_redirects=False,
            timeout=10,
        )
        # The same post from the page itself goes through: the refusal is about origin alone.
        same_site = browser.post(
            f"{stack.base_url}/messages",
            data={"csrf_token": token, "text": f"same-origin twin of: {text}"},
            headers={"Origin": stack.base_url},
            allow_redirects=False,
            timeout=10,
        )
    # A browser sends a cross-site JSON post only after a CORS preflight the app never grants, and
    # with an Origin; a Referer alone does not come from a browser, so it is no test for the API.
    as_json = None
    if "Referer" not in headers:
        json_text = f"{text} (JSON)"
        as_json = requests.post(
            f"{stack.base_url}/api/messages", json={"text": json_text}, headers=headers, timeout=10
        )
    stored = set(stack.stored_messages().values())
    checks["posts"] += 2 + (as_json is not None)
    checks["refused"] += (refused.status_code == 403) + (as_json is not None and as_json.status_code == 403)
    checks["accepted_cross_site"] += (text in stored) + (as_json is not None and json_text in stored)
    assert refused.status_code == 403
    assert same_site.status_code == 303
    assert text not in stored
    if as_json is not None:
        assert as_json.status_code == 403 and as_json.json()["detail"]
        assert json_text not in stored


@pytest.mark.parametrize(
    "path", ["/", "/api/messages", "/api/messages/0", "/nope", "/healthz", "/static/style.css"]
)
def test_responses_carry_security_headers(stack: LiveStack, checks: Counter[str], path: str) -> None:
    headers = requests.get(stack.base_url + path, timeout=10).headers
    checks["responses"] += 1
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
