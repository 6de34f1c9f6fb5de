"""The console in a real browser (headless Chromium, no JavaScript needed): an analyst signs
in, filters the list, acknowledges an alert, silences alerts like it and approves the one
held for review; then the deliverer drains the outbox and the review channel's receiver got
exactly the approved alert. Every page is saved as a screenshot under tests/screenshots/,
at a desktop and a phone width; on a phone no page scrolls sideways as a whole."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as loaded
from selenium.webdriver.support.ui import Select, WebDriverWait

from monitor.service.runtime import Runtime
from monitor.web import auth, site
from monitor.web.app import Console
from tests.channel_servers import HttpReceiver, http_receiver
from tests.feedfiles import TWO_RULES, rss, story, write_config
from tests.feedserver import FeedServer
from tests.runtimes import poll, runtime_of

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SHOTS = Path(__file__).parent / "screenshots"
PHONE, DESKTOP = (390, 844), (1280, 900)
PASSWORD = "correct horse"
GENOCIDE = 'UN warns of genocide in Kenya & "Somalia"'
MASSACRE = "Massacre reported in Peru highlands"

CHANNELS = """[[channels]]
name = "partners"
type = "webhook"
url_env = "REVIEW_HOOK_URL"
min_severity = "low"
review = true

[model]
enabled = false
"""


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Debian's Chromium and its driver, headless; skipped when either is missing (never
    downloaded: the driver's path is given, so selenium-manager does not run)."""
    for path in (CHROMIUM, DRIVER):
        if not shutil.which(path):
            pytest.skip(f"{path} is missing: apt-get install chromium chromium-driver")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_window_size(*DESKTOP)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def newsroom(
    tmp_path: Path, feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Runtime, HttpReceiver, str]]:
    """The runtime `monitor run` builds, its feed (a critical and a high story) polled once
    and the outbox drained; the review channel's receiver; the console's URL."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(TWO_RULES, encoding="utf-8")
    published = datetime.now(UTC) - timedelta(minutes=30)
    url = feeds.publish("news", rss(
        story("g1", GENOCIDE, "Officials fear genocide in the north.", published),
        story("m1", MASSACRE, "Villagers said a massacre took place.", published),
    ))  # fmt: skip
    config = write_config(tmp_path, {"news": url}, rules=tmp_path / "rules", channels=CHANNELS)
    with http_receiver() as partners:
        monkeypatch.setenv("REVIEW_HOOK_URL", partners.url())
        with runtime_of(config) as rt:
            poll(rt)
            rt.deliverer.drain()
            rt.store.add_user("amina", "analyst", auth.hash_password(PASSWORD), rt.now())
            server = site.start("127.0.0.1:0", Console(rt.store, lambda: rt.config, now=rt.now))
            try:
                yield rt, partners, server.url.rstrip("/")
            finally:
                server.shutdown()
                server.server_close()


def shoot(driver: WebDriver, name: str) -> None:
    """The whole page as tests/screenshots/<name>.png at a desktop width, and
    <name>-phone.png as a phone shows it; on the phone the page must not be wider than the
    screen (wide tables scroll inside their own box)."""
    SHOTS.mkdir(exist_ok=True)
    for (width, height), suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        screen = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": bool(suffix)}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", screen)
        wide = measure(driver, "document.documentElement.scrollWidth")
        tall = measure(driver, "document.documentElement.scrollHeight")
        assert wide <= width, f"{name} is {wide}px wide on a {width}px screen"
        clip = {"x": 0, "y": 0, "width": width, "height": max(tall, height), "scale": 1}
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
        (SHOTS / f"{name}{suffix}.png").write_bytes(base64.b64decode(shot["data"]))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def measure(driver: WebDriver, expression: str) -> int:
    """A number read through the DevTools protocol (the pages run no script: the CSP)."""
    answer = driver.execute_cdp_cmd("Runtime.evaluate", {"expression": expression,
                                                         "returnByValue": True})  # fmt: skip
    return int(answer["result"]["value"])


def press(driver: WebDriver, element: WebElement) -> None:
    """Click a link or a submit button and wait for the next page to be there (a click
    returns before the navigation it starts has ended)."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 15).until(lambda _: gone(old))
    WebDriverWait(driver, 15).until(loaded.presence_of_element_located((By.TAG_NAME, "main")))


def gone(element: WebElement) -> bool:
    """Whether the page holding `element` has been replaced. Chromium reports a node of a
    page being torn down either as stale or, mid-navigation, as an inspector error ("Node
    with given id does not belong to the document"); both mean the old page is going."""
    try:
        element.is_enabled()  # any call on the node asks the browser whether it is still there
    except WebDriverException:
        return True
    return False


def text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "main").text)


def sign_in(driver: WebDriver, base: str) -> None:
    driver.get(base + "/")  # not signed in: sent to the sign-in page, and back after it
    assert "/login" in driver.current_url
    shoot(driver, "login")
    driver.find_element(By.NAME, "username").send_keys("amina")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    press(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert "amina (analyst)" in driver.find_element(By.CLASS_NAME, "who").text


def filter_list(driver: WebDriver) -> None:
    form = driver.find_element(By.CSS_SELECTOR, "form.filters")
    Select(form.find_element(By.NAME, "severity")).select_by_value("critical")
    press(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert "severity=critical" in driver.current_url
    titles = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "table.list td.title a")]
    assert titles == [GENOCIDE]
    shoot(driver, "list")


def acknowledge(driver: WebDriver) -> None:
    press(driver, driver.find_element(By.LINK_TEXT, GENOCIDE))
    marks = [m.text for m in driver.find_elements(By.TAG_NAME, "mark")]
    assert "genocide" in marks
    form = driver.find_element(By.CSS_SELECTOR, "form[action$='/state']")
    Select(form.find_element(By.NAME, "state")).select_by_value("acknowledged")
    form.find_element(By.NAME, "note").send_keys("Desk informed")
    press(driver, form.find_element(By.CSS_SELECTOR, "button"))
    assert "Done: acknowledged" in text(driver) and "Desk informed" in text(driver)
    shoot(driver, "detail")


def silence_like_it(driver: WebDriver) -> None:
    press(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Silence alerts like this"))
    form = driver.find_element(By.CSS_SELECTOR, "form[action='/silences']")
    assert form.find_element(By.NAME, "rule").get_attribute("value") == "genocide"
    form.find_element(By.NAME, "reason").send_keys("Known story, followed by the desk")
    press(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert "Done: silence" in text(driver)
    assert "Known story, followed by the desk" in text(driver) and "Expire now" in text(driver)
    shoot(driver, "silences")


def test_analyst_triages_in_a_browser_and_only_the_approved_alert_is_sent(
    browser: WebDriver, newsroom: tuple[Runtime, HttpReceiver, str]
) -> None:
    """Sign in, filter, acknowledge, silence, approve one of two held alerts: the review
    channel then gets that one alone, and the other keeps waiting."""
    rt, partners, base = newsroom
    sign_in(browser, base)
    shoot(browser, "list-all")
    filter_list(browser)
    acknowledge(browser)
    silence_like_it(browser)
    browser.get(base + "/feeds")
    assert "news" in text(browser) and "never" not in text(browser)  # polled once
    shoot(browser, "feeds")
    browser.get(base + "/outbox")
    shoot(browser, "outbox")
    assert partners.requests == []  # both alerts wait for review
    waiting = {w.title: w.alert_id for w in rt.store.waiting_reviews()}
    assert set(waiting) == {GENOCIDE, MASSACRE}
    browser.get(base + "/reviews")
    shoot(browser, "reviews")
    row = browser.find_element(By.XPATH, f"//tr[.//a[text()='{MASSACRE}']]")
    press(browser, row.find_element(By.CSS_SELECTOR, "button[value=approve]"))
    assert "Done: approved for partners" in text(browser) and MASSACRE not in text(browser)
    assert [w.title for w in rt.store.waiting_reviews()] == [GENOCIDE]  # still waiting
    rt.deliverer.drain()
    [sent] = partners.requests
    body = json.loads(sent.body)
    assert body["id"] == sent.headers["webhook-id"] == waiting[MASSACRE]
    assert body["title"] == MASSACRE
    browser.get(base + "/outbox")
    shoot(browser, "outbox-after")
