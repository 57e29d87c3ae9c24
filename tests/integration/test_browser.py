"""A person's view: a real headless Chromium opens the page, posts through the form, sees the art."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from .support import Stack

pytestmark = pytest.mark.integration

# Without the background-networking flags Chromium keeps dialling hosts this machine cannot reach.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,1400",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "needs Debian's chromium and chromium-driver (scripts/test.sh installs them)"
    with tempfile.TemporaryDirectory() as profile:
        options = Options()
        options.binary_location = chromium
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        try:
            yield chrome
        finally:
            chrome.quit()


def post_through_the_form(browser: webdriver.Chrome, stack: Stack, text: str) -> None:
    browser.get(stack.base_url + "/?lang=en")
    assert browser.find_element(By.ID, "connection-result").get_attribute("data-ok") == "true"
    field = browser.find_element(By.ID, "message-text")
    field.clear()
    field.send_keys(text)
    browser.find_element(By.ID, "message-submit").click()


def message_item(browser: webdriver.Chrome, text: str):  # noqa: ANN201
    """The list item that shows ``text``, once the page after the post has loaded."""
    xpath = f"//li[contains(@class, 'message')][.//p[normalize-space(.)='{text}']]"
    return WebDriverWait(browser, 15).until(
        expected_conditions.presence_of_element_located((By.XPATH, xpath))
    )


def test_a_posted_message_appears_as_ascii_art(browser: webdriver.Chrome, stack: Stack) -> None:
    text = f"hi {uuid.uuid4().hex[:6]}"
    post_through_the_form(browser, stack, text)
    item = message_item(browser, text)
    art = item.find_element(By.CSS_SELECTOR, "pre.art").text
    assert len(art.splitlines()) >= 3  # FIGlet letters are several rows tall
    assert "_" in art or "|" in art or "#" in art


def test_non_ascii_text_is_shown_as_written(browser: webdriver.Chrome, stack: Stack) -> None:
    text = f"안녕 docker {uuid.uuid4().hex[:4]}"
    post_through_the_form(browser, stack, text)
    assert message_item(browser, text).text.count(text) == 1
