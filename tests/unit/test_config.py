"""Configuration is read once from the environment; bad values stop start-up by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from app.config import ConfigError, load_settings
from app.db import mask

from .conftest import PASSWORD

pytestmark = pytest.mark.unit


def test_defaults_follow_the_lesson() -> None:
    settings = load_settings({"MYSQL_USER": "root", "MYSQL_PASSWORD": "qwerty"})
    assert (settings.host, settings.port, settings.database) == ("mysql", 3306, "apl")
    assert settings.address == "mysql:3306"


def test_password_is_kept_out_of_repr(environ: dict[str, str]) -> None:
    settings = load_settings(environ)
    assert settings.password == PASSWORD
    assert PASSWORD not in repr(settings)


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"MYSQL_USER": None}, "MYSQL_USER"),
        ({"MYSQL_USER": "  "}, "MYSQL_USER"),
        ({"MYSQL_PASSWORD": None}, "MYSQL_PASSWORD"),
        ({"MYSQL_PASSWORD": ""}, "MYSQL_PASSWORD"),
        ({"MYSQL_PORT": "abc"}, "MYSQL_PORT"),
        ({"MYSQL_PORT": "0"}, "MYSQL_PORT"),
        ({"MYSQL_PORT": "65536"}, "MYSQL_PORT"),
        ({"MYSQL_PORT": "-1"}, "MYSQL_PORT"),
        ({"MYSQL_PORT": "9" * 5000}, "MYSQL_PORT"),
        ({"MYSQL_PORT": "３３０６"}, "MYSQL_PORT"),  # full-width digits are decimal to Python, not to us
        ({"MYSQL_HOST": "my sql"}, "MYSQL_HOST"),
        ({"MYSQL_HOST": ""}, "MYSQL_HOST"),
        ({"MYSQL_DATABASE": "apl; DROP"}, "MYSQL_DATABASE"),
        ({"MYSQL_DATABASE": "x" * 65}, "MYSQL_DATABASE"),
        ({"MYSQL_PASSWORD_FILE": "/nonexistent/secret"}, "MYSQL_PASSWORD_FILE"),
    ],
)
def test_bad_values_name_their_variable(
    environ: dict[str, str], changes: dict[str, str | None], variable: str
) -> None:
    for name, value in changes.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    with pytest.raises(ConfigError) as caught:
        create_app({"ENVIRON": environ})
    assert caught.value.variable == variable
    message = str(caught.value)
    assert message.startswith(variable)
    assert "\n" not in message
    assert PASSWORD not in message


def test_password_file_is_read_without_its_trailing_newline(environ: dict[str, str], tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    del environ["MYSQL_PASSWORD"]
    environ["MYSQL_PASSWORD_FILE"] = str(secret)
    assert load_settings(environ).password == "from-a-file"


def test_password_and_password_file_together_are_refused(environ: dict[str, str], tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD)
    environ["MYSQL_PASSWORD_FILE"] = str(secret)
    with pytest.raises(ConfigError, match="MYSQL_PASSWORD_FILE and MYSQL_PASSWORD are both set"):
        load_settings(environ)


def test_empty_password_file_is_refused(environ: dict[str, str], tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("\n")
    del environ["MYSQL_PASSWORD"]
    environ["MYSQL_PASSWORD_FILE"] = str(secret)
    with pytest.raises(ConfigError, match="MYSQL_PASSWORD_FILE names an empty file"):
        load_settings(environ)


def test_the_factory_starts_without_touching_the_database(environ: dict[str, str]) -> None:
    # The port is closed: building the app must not try to connect.
    app = create_app({"ENVIRON": environ})
    assert app.config["DB_SETTINGS"].port == int(environ["MYSQL_PORT"])


@pytest.mark.parametrize(
    ("text", "secret", "shown"),
    [
        ("Access denied (using s3cr3t)", "s3cr3t", "Access denied (using ***)"),
        (
            "MySQL error 2003: Can't connect to MySQL server",
            "y",
            "MySQL error 2003: Can't connect to MySQL server",
        ),
        ("password=p@ss!", "p@ss!", "password=***"),
        ("user!!x", "!!x", "user***"),
        ("nothing to hide", "", "nothing to hide"),
    ],
)
def test_a_password_is_masked_as_a_word_not_inside_words(text: str, secret: str, shown: str) -> None:
    assert mask(text, secret) == shown
