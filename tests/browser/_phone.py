"""A real headless Chromium driving the sandbox's virtual phone, as a developer would.

Chromium and its driver are the system's (Debian: ``apt-get install chromium
chromium-driver``; elsewhere set ``KAKAOCERT_CHROMIUM`` and
``KAKAOCERT_CHROMEDRIVER``): Selenium is given both paths, so nothing is
downloaded. The browser starts with a fresh profile and without the background
traffic (updates, sync, QUIC probes) a closed network would only refuse.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import attrs

REBOUND_NAME = "rebound.example"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1100,900",
    # A name of an attacker's page that resolves to this machine: DNS rebinding, in one step.
    f"--host-resolver-rules=MAP {REBOUND_NAME} 127.0.0.1",
)
BROWSERS = ("chromium", "chromium-browser")
DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver")
WAIT = 15.0
"""Seconds a step may take in the page (it polls the sandbox every second)."""


class Unavailable(Exception):
    """No Chromium or no driver for it: why, and how to install them."""


def _first(variable: str, candidates: tuple[str, ...]) -> str | None:
    given = os.environ.get(variable)
    if given:
        return given if shutil.which(given) else None
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    return None


def find() -> tuple[str, str]:
    """The paths of Chromium and of its driver; :class:`Unavailable` says what is missing."""
    browser = _first("KAKAOCERT_CHROMIUM", BROWSERS)
    driver = _first("KAKAOCERT_CHROMEDRIVER", DRIVERS)
    missing = [
        name for name, path in (("chromium", browser), ("chromedriver", driver)) if path is None
    ]
    if browser is None or driver is None:
        raise Unavailable(
            f"{' and '.join(missing)} not found: apt-get install chromium chromium-driver "
            "(or set KAKAOCERT_CHROMIUM and KAKAOCERT_CHROMEDRIVER)"
        )
    return browser, driver


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A Selenium driver of a headless Chromium with a fresh profile, quit on exit."""
    browser, driver_path = find()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="kakaocert-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=driver_path, log_output=subprocess.DEVNULL)
        driver = webdriver.Chrome(options=options, service=service)
        try:
            yield driver
        finally:
            driver.quit()


@attrs.frozen
class Shown:
    """What the phone shows of an opened receipt."""

    title: str
    message: str
    sign_label: str
    text: str
    fields: dict[str, str]
    state: str


class Phone:
    """The page, operated through what a person sees and clicks."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def _wait(self, condition: Any, message: str) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, WAIT, poll_frequency=0.05).until(condition, message)

    def _element(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def load(self, url: str) -> None:
        """Open the page at the sandbox's root, waiting until it has read the receipts."""
        self.driver.get(f"{url}/")
        self._wait(
            lambda d: self._element("#settings").text.startswith("LinkID"),
            "the page did not read the sandbox's settings",
        )

    def open(self, receipt_id: str) -> Shown:
        """Tap the receipt in the list, as the receiver taps the message."""
        from selenium.webdriver.common.by import By

        row = f'li[data-receipt-id="{receipt_id}"] button'
        self._wait(lambda d: d.find_elements(By.CSS_SELECTOR, row), f"{receipt_id} is not listed")
        self._element(row).click()
        self._wait(
            lambda d: (
                self._element("#detail").get_attribute("data-receipt-id") == receipt_id
                and self._element("#detail").is_displayed()
                and self._element("#detail-state").text
            ),
            f"{receipt_id} did not open",
        )
        return self.shown()

    def shown(self) -> Shown:
        from selenium.webdriver.common.by import By

        names = self.driver.find_elements(By.CSS_SELECTOR, "#detail-fields dt")
        values = self.driver.find_elements(By.CSS_SELECTOR, "#detail-fields dd")
        return Shown(
            title=self._element("#detail-title").text,
            message=self._element("#detail-message").text,
            sign_label=self._element("#detail-sign-label").text,
            text=self._element("#detail-text").text,
            # The request's fields sit in a <details>; textContent reads them shown or not.
            fields={
                n.get_attribute("textContent"): v.get_attribute("textContent")
                for n, v in zip(names, values, strict=True)
            },
            state=self._element("#detail-state").text,
        )

    def buttons(self) -> dict[str, bool]:
        """The receiver's buttons on show, and whether each can be pressed."""
        from selenium.webdriver.common.by import By

        found = self.driver.find_elements(By.CSS_SELECTOR, "#detail [data-action]")
        return {b.get_attribute("data-action"): b.is_enabled() for b in found if b.is_displayed()}

    def press(self, action: str) -> None:
        """Press a receiver's button (``sign``, ``expire``, ``refuse``)."""
        self._element(f'#detail [data-action="{action}"]').click()

    def wait_state(self, state: int) -> None:
        """Wait until the opened receipt shows ``state``."""
        self._wait(
            lambda d: self._element("#detail").get_attribute("data-state") == str(state),
            f"the receipt never showed state {state}",
        )

    def signature(self) -> str:
        """The App to App signature the page shows, once it shows one."""
        self._wait(lambda d: self._element("#signature").text, "no signature shown")
        return str(self._element("#signature").text)

    def back(self) -> None:
        self._element("#back").click()
        self._wait(lambda d: self._element("#inbox").is_displayed(), "the list did not come back")

    def console(self) -> list[dict[str, Any]]:
        """The browser console's entries since the last call."""
        return list(self.driver.get_log("browser"))
