"""The Streamlit dashboard (scripts/reporting/dashboard.py, scripts/reporting/dashboard_data.py).

The filters and the download are pure functions tested on small frames; the real app
is started on a free loopback port over the published demo and driven in headless
Chromium: no console errors, the numbers equal the marts, the CSV it downloads holds
exactly the filtered customers (control group left out unless asked), and it writes
nothing to the publication.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from browser import chromium, non_local, requested_urls, severe_console_messages
from dbt_project_runner import ROOT

from scripts.devtools import publish
from scripts.reporting import dashboard_data as data

CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c", "d", "e"],
        "country": ["France", "France", "Spain", "Spain", None],
        "rfm_segment": ["Champions", "Lost", "Champions", "Champions", "Lost"],
        "cluster_name": ["VIP", "Dormant", "VIP", "Dormant", "Dormant"],
        "monetary": [100.0, 5.0, 80.0, 60.0, 1.0],
        "is_high_returner": [False, True, True, None, False],
        "is_control_group": [False, False, False, True, False],
    }
)


def ids(frame: pd.DataFrame) -> list[str]:
    return list(frame["customer_id"])


def test_filters_combine_and_leave_the_control_group_out_by_default():
    assert ids(data.filter_customers(CUSTOMERS)) == ["a", "b", "c", "e"]
    assert ids(data.filter_customers(CUSTOMERS, include_control=True)) == list("abcde")
    assert ids(data.filter_customers(CUSTOMERS, segments=["Champions"])) == ["a", "c"]
    assert ids(
        data.filter_customers(CUSTOMERS, ["Champions"], ["Dormant"], include_control=True)
    ) == ["d"]
    assert ids(data.filter_customers(CUSTOMERS, countries=["Spain"])) == ["c"]
    assert ids(data.filter_customers(CUSTOMERS, high_returners="only")) == ["b", "c"]
    # An unknown flag counts as not a high returner.
    assert ids(data.filter_customers(CUSTOMERS, high_returners="exclude")) == ["a", "e"]
    with pytest.raises(ValueError, match="high_returners"):
        data.filter_customers(CUSTOMERS, high_returners="some")


def test_the_download_is_the_filtered_list_as_csv():
    selected = data.filter_customers(CUSTOMERS, segments=["Champions"])
    rows = list(csv.DictReader(io.StringIO(data.csv_bytes(selected).decode("utf-8"))))
    assert [row["customer_id"] for row in rows] == ["a", "c"]
    assert list(rows[0]) == list(CUSTOMERS.columns)


def test_filters_from_the_url_ignore_unknown_values():
    choices = {"segments": ["Champions", "Lost"], "clusters": ["VIP"], "countries": ["France"]}
    initial = data.from_query(
        {"segment": ["Champions", "Nope"], "country": ["France"], "returners": ["only"]}, choices
    )
    assert initial == {
        "segments": ["Champions"],
        "clusters": [],
        "countries": ["France"],
        "high_returners": "only",
        "include_control": False,
    }
    assert data.from_query({"returners": ["x"], "control": ["1"]}, choices)["include_control"]


def test_no_publication_is_a_clear_error(tmp_path):
    link = data.parquet_directory({"SEGMENTATION_DUCKDB_PATH": str(tmp_path / "w.duckdb")})
    assert link == tmp_path / "w_parquet"
    with pytest.raises(data.DashboardError, match="make build.*SEGMENTATION_DUCKDB_PATH"):
        data.resolve(link)


# ---------------------------------------------------------------- the app in a browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fingerprint(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def app(published_demo, tmp_path_factory):
    port = free_port()
    publication = published_demo.resolve().parent
    before = fingerprint(publication)
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "scripts/reporting/dashboard.py"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    command += ["--client.toolbarMode", "viewer", "--server.fileWatcherType", "none"]
    with log.open("w") as output:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "SEGMENTATION_DUCKDB_PATH": str(published_demo)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    break
        except OSError:
            pass
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"streamlit did not start:\n{log.read_text()}"
        time.sleep(0.3)
    yield {"url": url, "published": published_demo, "log": log}
    server.terminate()
    server.wait(timeout=30)
    # It read the publication and wrote nothing there.
    assert fingerprint(publication) == before
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    with chromium(tmp_path_factory.mktemp("chromium-profile"), 1400, 1800, downloads) as driver:
        driver.downloads = downloads
        yield driver


def open_page(driver, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    requested_urls(driver)
    driver.get_log("browser")
    driver.get(url)
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script(
            "return document.querySelectorAll('[data-testid=stMetricValue]').length === 4"
            " && document.querySelector('[data-testid=stTable]') !== null"
            " && !document.querySelector('[data-testid=stStatusWidget] [data-testid=stSpinner]')"
        )
    )


def metrics(driver) -> dict[str, str]:
    return driver.execute_script(
        "const out = {};"
        "document.querySelectorAll('[data-testid=stMetric]').forEach(m => {"
        "  out[m.querySelector('[data-testid=stMetricLabel]').textContent.trim()] ="
        "    m.querySelector('[data-testid=stMetricValue]').textContent.trim(); });"
        "return out;"
    )


def marts_rows(published: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(published), read_only=True) as connection:
        return connection.sql(sql).fetchall()


FILTERED = (
    "select c.customer_id from customers c join campaign_audience a using (customer_id)"
    " where c.rfm_segment = 'Champions' and c.country = 'United Kingdom' {control}"
    " order by c.customer_id"
)


def test_dashboard_loads_without_errors_and_shows_the_marts(app, browser):
    open_page(browser, app["url"])
    severe = severe_console_messages(browser)
    print(f"console messages: {severe}")
    assert severe == []
    elsewhere = [u for u in non_local(requested_urls(browser)) if not u.startswith(app["url"])]
    assert elsewhere == []

    published = app["published"]
    ((customers, revenue),) = marts_rows(
        published,
        "select count(*), sum(monetary) from customers join campaign_audience using (customer_id)"
        " where not is_control_group",
    )
    currency = marts_rows(published, "select currency from segmentation_settings")[0][0]
    shown = metrics(browser)
    assert shown["Customers in the list"] == f"{customers:,}"
    assert shown[f"Their revenue ({currency})"] == f"{float(revenue):,.0f}"
    assert shown["Control group in the list"] == "0"

    # The playbook: a table per tab (RFM segments, clusters) with the marts' sizes and actions.
    # Streamlit renders the tabs' tables one after the other: wait for both (CI once read one).
    deadline = time.monotonic() + 30
    while True:
        tables = browser.execute_script(
            "return [...document.querySelectorAll('[data-testid=stTable]')].map(t =>"
            " [...t.querySelectorAll('tbody tr')].map("
            "  r => [...r.querySelectorAll('th, td')].map(c => c.textContent.trim())));"
        )
        if len(tables) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(tables) == 2
    for rows, kind in zip(tables, ("rfm_segment", "cluster")):
        expected = marts_rows(
            published,
            "select segment_name, customers, recommended_action from segment_summary"
            f" where segment_type = '{kind}'",
        )
        by_name = {row[0]: row for row in rows}
        assert set(by_name) == {name for name, _, _ in expected}, kind
        for name, size, action in expected:
            assert by_name[name][2] == f"{size:,}" and by_name[name][7] == action, name


def test_the_download_holds_the_filtered_customers_without_the_control_group(app, browser):
    from selenium.webdriver.common.by import By

    open_page(browser, f"{app['url']}/?segment=Champions&country=United%20Kingdom")
    expected = [
        c
        for (c,) in marts_rows(
            app["published"], FILTERED.format(control="and not a.is_control_group")
        )
    ]
    assert len(expected) > 0
    assert metrics(browser)["Customers in the list"] == f"{len(expected):,}"

    button = browser.find_element(By.CSS_SELECTOR, "[data-testid=stDownloadButton] button")
    assert button.text == f"Download {len(expected):,} customers (CSV)"
    button.click()
    deadline = time.monotonic() + 30
    files: list[Path] = []
    while time.monotonic() < deadline:
        files = [p for p in browser.downloads.glob("*.csv")]
        if files and not list(browser.downloads.glob("*.crdownload")):
            break
        time.sleep(0.2)
    assert len(files) == 1, list(browser.downloads.iterdir())
    rows = list(csv.DictReader(files[0].open(encoding="utf-8")))
    assert [row["customer_id"] for row in rows] == expected
    assert {row["is_control_group"] for row in rows} == {"False"}
    assert {row["rfm_segment"] for row in rows} == {"Champions"}
    build_id = app["published"].resolve().parent.name
    assert files[0].name == f"customers_{build_id}.csv"
    files[0].unlink()


def test_including_the_control_group_adds_exactly_it(app, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, f"{app['url']}/?segment=Champions&country=United%20Kingdom")
    everyone = marts_rows(app["published"], FILTERED.format(control=""))
    control = marts_rows(app["published"], FILTERED.format(control="and a.is_control_group"))
    assert control
    browser.find_element(By.CSS_SELECTOR, "[data-testid=stCheckbox] label").click()
    WebDriverWait(browser, 30).until(
        lambda d: metrics(d).get("Control group in the list") == f"{len(control):,}"
    )
    assert metrics(browser)["Customers in the list"] == f"{len(everyone):,}"
    assert severe_console_messages(browser) == []


def test_the_dashboard_reads_only_the_published_parquet(published_demo):
    directory, build_id = data.resolve(
        data.parquet_directory({"SEGMENTATION_DUCKDB_PATH": str(published_demo)})
    )
    assert directory == publish.parquet_path(published_demo).resolve()
    assert build_id == published_demo.resolve().parent.name
    marts = data.load(directory, build_id)
    listed = data.customer_list(marts)
    assert len(listed) == marts_rows(published_demo, "select count(*) from customers")[0][0]
    assert listed["monetary"].dtype == float
