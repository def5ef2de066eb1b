"""The marketing report (scripts/report.py).

The pure functions are checked on small frames built here; the real command runs on
the demo warehouse and its page is opened in a real headless Chromium, which must draw
every chart without console errors and without touching the network.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from browser import chromium, non_local, requested_urls, severe_console_messages
from dbt_project_runner import ROOT

from scripts import report

SECTIONS = ("distributions", "k-selection", "projection", "segments", "rfm-heatmap", "cleaning")
# What each chart draws once it has data: plotly's SVG marks per trace type.
TRACE_MARKS = {
    "distributions": ".barlayer .bars .point",
    "k-selection": ".scatterlayer .trace .point",
    "projection": ".scatterlayer .trace .point",
    "segments": ".barlayer .bars .point",
    "rfm-heatmap": ".heatmaplayer .hm",
    "cleaning": ".barlayer .bars .point",
}
CLUSTERS = {1: "VIP", 2: "Loyal", 3: "Dormant"}


def customers_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cluster_id = rng.integers(1, 4, n)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "as_of_date": pd.Timestamp("2011-12-10"),
            "recency_days": rng.integers(0, 365, n),
            "frequency": rng.geometric(0.4, n),
            "monetary": rng.lognormal(6, 1, n).round(2),
            "r_score": rng.integers(1, 6, n),
            "fm_score": rng.integers(1, 6, n),
            "rfm_segment": rng.choice(["Champions", "At Risk", "Lost"], n),
            "cluster_id": cluster_id,
            "cluster_name": [CLUSTERS[c] for c in cluster_id],
        }
    )


def empty_frames() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(columns=list(q.columns)) for name, q in report.QUERIES.items()}


def is_no_data(figure) -> bool:
    return any(a.text.startswith("No data") for a in figure.layout.annotations)


# ---------------------------------------------------------------- pure functions


def test_pca_projection_is_a_seeded_sample_of_at_most_5000_customers():
    customers = customers_frame(12_000)
    first = report.pca_projection(customers)
    # Row order must not matter: the warehouse gives no order guarantee.
    shuffled = report.pca_projection(customers.sample(frac=1, random_state=7))

    assert len(first.points) == report.PCA_SAMPLE_SIZE == 5_000
    assert first.population == 12_000
    assert first.points["customer_id"].is_unique
    pd.testing.assert_frame_equal(first.points, shuffled.points)
    assert np.isfinite(first.points[["pc1", "pc2"]].to_numpy()).all()
    assert 0 < sum(first.explained) <= 1 + 1e-9
    assert "seeded random sample" in report.projection_note(first)


def test_pca_projection_shows_every_customer_of_a_small_table():
    projection = report.pca_projection(customers_frame(40))
    assert len(projection.points) == 40
    assert report.projection_note(projection).startswith("All 40 customers")
    figure = report.projection_figure(projection, report.cluster_order(customers_frame(40)))
    assert [t.name.split(" (")[0] for t in figure.data] == ["VIP", "Loyal", "Dormant"]


def test_pca_projection_needs_three_customers():
    projection = report.pca_projection(customers_frame(2))
    assert projection.points.empty
    assert is_no_data(report.projection_figure(projection, []))


def test_heat_map_matrix_counts_every_customer_once_on_a_full_grid():
    customers = customers_frame(500)
    customers = customers[customers["fm_score"] != 1]  # an empty column must still show
    matrix = report.rfm_heatmap_matrix(customers)

    assert matrix.to_numpy().sum() == len(customers)
    assert list(matrix.index) == list(matrix.columns) == [1, 2, 3, 4, 5]
    assert (matrix[1] == 0).all()
    expected = customers.groupby(["r_score", "fm_score"]).size()
    assert all(matrix.loc[r, f] == n for (r, f), n in expected.items())


def test_histogram_clips_at_the_99th_percentile_into_the_last_bar():
    values = pd.Series(np.arange(1, 1001, dtype=float) * 1.5)
    hist = report.histogram(values, clip_quantile=0.99)

    assert hist.bins["customers"].sum() == 1000
    assert hist.clipped_at == values.quantile(0.99, interpolation="higher")
    # The cap is an observed value (the 991st), so the 9 values above it are clipped.
    assert hist.clipped_at == 991 * 1.5
    assert hist.n_clipped == 9
    assert hist.bins["label"].iloc[-1].endswith("and above")
    assert hist.median == values.median()


def test_histogram_of_whole_numbers_has_whole_number_bins():
    hist = report.histogram(pd.Series([1, 1, 2, 3, 3, 3, 7]))
    assert list(hist.bins["label"]) == ["1", "2", "3", "4", "5", "6", "7"]
    assert list(hist.bins["customers"]) == [2, 1, 3, 0, 0, 0, 1]
    assert hist.clipped_at is None


def test_headline_numbers():
    cleaning = pd.DataFrame(
        {
            "line_status": ["clean", "returned", "quarantined", "quarantined"],
            "lines": [70, 5, 20, 5],
        }
    )
    k_selection = pd.DataFrame({"k": [2, 3, 4], "is_chosen": [False, True, False]})
    as_of = pd.DataFrame({"as_of_date": [pd.Timestamp("2011-12-10")]})
    numbers = report.headline_numbers(customers_frame(9), k_selection, cleaning, as_of)
    assert numbers == {
        "raw_lines": 100,
        "clean_lines": 70,
        "returned_lines": 5,
        "quarantined_lines": 25,
        "customers": 9,
        "chosen_k": 3,
        "as_of_date": pd.Timestamp("2011-12-10").date(),
    }


def test_k_selection_figure_marks_chosen_k_and_elbow():
    k_selection = pd.DataFrame(
        {
            "k": [2, 3, 4, 5],
            "inertia": [100.0, 60.0, 45.0, 40.0],
            "silhouette": [0.3, 0.45, 0.4, 0.35],
            "is_eligible": [True, True, True, False],
            "is_elbow": [False, False, True, False],
            "is_chosen": [False, True, False, False],
        }
    )
    figure = report.k_selection_figure(k_selection)
    marked = {(t.name, t.xaxis): list(t.x) for t in figure.data if t.mode == "markers"}
    assert marked[("Chosen k", "x")] == marked[("Chosen k", "x2")] == [3]
    assert marked[("Elbow", "x")] == [4]
    assert marked[("k leaving a cluster below the minimum share", "x")] == [5]


def test_every_chart_says_no_data_on_empty_tables():
    sections = report.build_sections(report.WarehouseData(empty_frames()))
    assert [s.id for s in sections] == list(SECTIONS)
    assert all(is_no_data(s.figure) for s in sections)


# ---------------------------------------------------------------- the command in a browser


@pytest.fixture(scope="module")
def demo_report(demo_warehouse, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report") / "nested" / "segmentation_report.html"
    # Another reader holds the file open throughout: a report that opened it read-write
    # would fail on DuckDB's lock.
    with duckdb.connect(str(demo_warehouse.path), read_only=True) as reader:
        as_of = reader.sql("select as_of_date from int_as_of_date").fetchone()[0]
        customers = reader.sql("select count(*) from customers").fetchone()[0]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "scripts.report"]
            + ["--database", str(demo_warehouse.path), "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    print(f"report on the demo warehouse: {seconds:.1f} s, {out.stat().st_size / 1e6:.1f} MB")
    return {"path": out, "as_of": str(as_of), "customers": customers, "stdout": result.stdout}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


class ExternalReferences(HTMLParser):
    """Collects script, stylesheet, image and frame references and the inline scripts."""

    def __init__(self):
        super().__init__()
        self.references: list[str] = []
        self.inline_scripts: list[int] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            if attributes.get(name) and tag in ("script", "link", "img", "iframe", "source"):
                self.references.append(attributes[name])
        self._in_script = tag == "script" and not attributes.get("src")
        if self._in_script:
            self.inline_scripts.append(0)

    def handle_data(self, data):
        if self._in_script:
            self.inline_scripts[-1] += len(data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def test_report_is_one_self_contained_file(demo_report):
    page = demo_report["path"].read_text(encoding="utf-8")
    parser = ExternalReferences()
    parser.feed(page)

    assert parser.references == []
    # Also by pattern, in case a tag hid from the parser (plotly.js itself holds links to
    # plotly.com and map tiles in strings, which is why a bare "http" search cannot work).
    assert not re.search(r"<(script|link)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", page, re.I)
    # plotly.js (several MB) is embedded exactly once, whatever the number of charts.
    assert sum(size > 1_000_000 for size in parser.inline_scripts) == 1
    for section in SECTIONS:
        assert f'<section class="chart" id="{section}">' in page
    assert f"Snapshot as of {demo_report['as_of']}" in page
    assert "wrote" in demo_report["stdout"]


def render(driver, page: Path, screenshot: Path | None = None) -> tuple[list[str], list[str]]:
    """Loads the page, waits for every chart; returns (severe console messages, non-local URLs)."""
    from selenium.webdriver.support.ui import WebDriverWait

    requested_urls(driver)  # drains what the browser's start page logged
    driver.get_log("browser")
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "const g = document.querySelectorAll('.js-plotly-plot');"
            "return g.length === arguments[0]"
            " && [...g].every(e => e.querySelector('.main-svg'));",
            len(SECTIONS),
        )
    )
    if screenshot is not None:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(max(height + 40, 3000), 8000))
        driver.save_screenshot(str(screenshot))
    return severe_console_messages(driver), non_local(requested_urls(driver))


def test_report_renders_in_headless_chromium(demo_report, browser, record_property):
    from selenium.webdriver.common.by import By

    screenshot = demo_report["path"].with_name("segmentation_report.png")
    severe, network = render(browser, demo_report["path"], screenshot)

    assert severe == []
    assert network == []
    for section_id in SECTIONS:
        section = browser.find_element(By.CSS_SELECTOR, f"section.chart#{section_id}")
        assert section.find_element(By.TAG_NAME, "h2").text.strip()
        assert section.find_element(By.CSS_SELECTOR, "p.reading").text.strip()
        graph = section.find_element(By.CSS_SELECTOR, ".js-plotly-plot")
        assert graph.find_elements(By.CSS_SELECTOR, ".main-svg")
        assert graph.find_elements(By.CSS_SELECTOR, TRACE_MARKS[section_id]), section_id
        assert "No data" not in graph.text, section_id
    headline = browser.find_element(By.ID, "headline").text
    assert f"{demo_report['customers']:,}" in headline
    assert screenshot.stat().st_size > 50_000
    record_property("screenshot", str(screenshot))
    print(f"screenshot: {screenshot}")


@pytest.fixture
def empty_warehouse(demo_warehouse, tmp_path) -> Path:
    """The demo warehouse's tables with no rows, and the as-of table missing altogether."""
    path = tmp_path / "empty.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(f"attach '{demo_warehouse.path}' as demo (read_only)")
        for query in report.QUERIES.values():
            if query.table != "int_as_of_date":
                connection.execute(
                    f"create table {query.table} as select * from demo.{query.table} limit 0"
                )
    return path


def test_empty_warehouse_gives_a_page_of_no_data_charts(
    empty_warehouse, browser, tmp_path, monkeypatch, capsys
):
    # The warehouse comes from the environment, as with `make report` after `make build`.
    monkeypatch.setenv("SEGMENTATION_DUCKDB_PATH", str(empty_warehouse))
    out = tmp_path / "reports" / "empty.html"
    assert report.main(["--out", str(out)]) == 0
    assert "int_as_of_date is missing" in capsys.readouterr().err
    # The report let go of the file: a writer can open it again.
    duckdb.connect(str(empty_warehouse)).close()

    page = out.read_text(encoding="utf-8")
    assert page.count("No data: ") == len(SECTIONS)
    assert "Tables missing from the warehouse" in page
    severe, network = render(browser, out)
    assert severe == []
    assert network == []


def test_missing_warehouse_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert report.main(["--database", str(tmp_path / "none.duckdb"), "--out", str(out)]) == 2
    assert "make build" in capsys.readouterr().err
    assert not out.exists()


def test_default_paths(monkeypatch):
    monkeypatch.delenv("SEGMENTATION_DUCKDB_PATH", raising=False)
    args = report.parse_args([])
    assert args.database == Path("segmentation.duckdb")
    assert args.out == Path("reports/segmentation_report.html")
    monkeypatch.setenv("SEGMENTATION_DUCKDB_PATH", os.path.join("w", "x.duckdb"))
    assert report.parse_args([]).database == Path("w/x.duckdb")
