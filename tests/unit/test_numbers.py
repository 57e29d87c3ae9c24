"""Ids and paging values: ASCII digits only, one range, and the page and the API agree on every value."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.numbers import MAX_ID, parse_number

pytestmark = pytest.mark.unit

# Each must be refused everywhere: other scripts' digits, signs, spaces, leading zeros, out of range.
REFUSED = [
    "٣",  # Arabic-Indic 3
    "３",  # fullwidth 3
    "३",  # Devanagari 3
    "𝟑",  # mathematical bold 3
    "1٣",
    "0",
    "-1",
    "+1",
    " 1",
    "1 ",
    "01",
    "1.0",
    "1e3",
    "0x10",
    "1_000",
    str(MAX_ID + 1),
    "9" * 5000,
]
ACCEPTED = ["1", "42", str(MAX_ID)]


@pytest.mark.parametrize("raw", REFUSED)
def test_refused_values(raw: str) -> None:
    assert parse_number(raw, 1, MAX_ID) is None


@pytest.mark.parametrize("raw", ACCEPTED)
def test_accepted_values(raw: str) -> None:
    assert parse_number(raw, 1, MAX_ID) == int(raw)


@settings(derandomize=True, database=None, max_examples=500)
@given(st.text(max_size=22) | st.integers(-5, 2**65).map(str))
def test_a_value_is_a_number_exactly_when_it_is_its_own_ascii_spelling(raw: str) -> None:
    canonical = raw.isascii() and raw.isdigit() and str(int(raw)) == raw and 1 <= int(raw) <= MAX_ID
    assert (parse_number(raw, 1, MAX_ID) is not None) == canonical


@pytest.mark.parametrize("raw", REFUSED + ACCEPTED)
def test_the_page_and_the_api_agree_on_before(client: FlaskClient, raw: str) -> None:
    # The database is down here: a value both accept meets 503, one both refuse 400.
    page = client.get("/", query_string={"before": raw}).status_code
    api = client.get("/api/messages", query_string={"before": raw}).status_code
    assert page == api == (503 if raw in ACCEPTED else 400)


@pytest.mark.parametrize("segment", ["%D9%A3", "%EF%BC%93", "03", "0", "-3", str(MAX_ID + 1), "3.0"])
def test_an_id_in_another_spelling_is_404_not_that_message(client: FlaskClient, segment: str) -> None:
    response = client.get(f"/api/messages/{segment}")
    assert response.status_code == 404 and response.mimetype == "application/json"


def test_a_plain_id_reaches_the_database(client: FlaskClient) -> None:
    assert client.get(f"/api/messages/{MAX_ID}").status_code == 503  # past routing; the DB is down
