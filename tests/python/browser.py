"""A real headless Chromium for tests, driven by Selenium through the system chromedriver.

CI installs the Debian packages `chromium` and `chromium-driver`. Both paths are passed
to Selenium explicitly, so Selenium Manager never runs (it would try to download a
driver). A test that needs the browser fails, rather than skips, when either is missing:
a skipped rendering test would pass CI without anything being rendered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER_BINARY", "/usr/bin/chromedriver"))

ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    # Any host name resolves to nothing: a page that tries the network cannot reach it,
    # and the attempt still shows in the performance log the tests inspect. Loopback
    # stays reachable for the servers tests start themselves (the dashboard).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)

# Schemes that never leave the machine.
# chrome: pages are the browser's own (its start page loads them), not network.
LOCAL_SCHEMES = (
    "file:",
    "data:",
    "blob:",
    "about:",
    "chrome:",
    "chrome-untrusted:",
    "chrome-error:",
)


def require_chromium() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        pytest.fail(
            f"headless browser tests need {' and '.join(missing)}: install the Debian packages "
            "with `apt-get install -y chromium chromium-driver` (or set CHROMIUM_BINARY / "
            "CHROMEDRIVER_BINARY)",
            pytrace=False,
        )


@contextmanager
def chromium(
    profile_dir: Path, width: int = 1400, height: int = 3000, download_dir: Path | None = None
) -> Iterator:
    """A Chrome WebDriver with browser console and network (performance) logging; files
    the page downloads go to `download_dir` without a prompt."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    if download_dir is not None:
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(download_dir),
                "download.prompt_for_download": False,
                "download.directory_upgrade": True,
            },
        )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call (the log is drained on read)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def non_local(urls: list[str]) -> list[str]:
    return [url for url in urls if not url.startswith(LOCAL_SCHEMES)]


def severe_console_messages(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
