"""The marketing report (scripts/reporting/report.py).

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

from scripts.reporting import report

# The playbook's sections in page order; the method appendix's after them.
MAIN = (
    "playbook-rfm",
    "playbook-clusters",
    "crosstab",
    "segments",
    "returns",
    "campaign",
    "lifetime-value",
    "campaign-results",
    "history",
    "migration",
    "stability",
    "distributions",
    "rfm-heatmap",
    "cleaning",
)
APPENDIX = ("k-selection", "projection")
SECTIONS = MAIN + APPENDIX
# What each chart draws once it has data: plotly's SVG marks per trace type.
TRACE_MARKS = {
    "distributions": ".barlayer .bars .point",
    "k-selection": ".scatterlayer .trace .point",
    "projection": ".scatterlayer .trace .point",
    "segments": ".barlayer .bars .point",
    "rfm-heatmap": ".heatmaplayer .hm",
    "crosstab": ".heatmaplayer .hm",
    "cleaning": ".barlayer .bars .point",
    "history": ".scatterlayer .trace .point",
    "migration": ".heatmaplayer .hm",
    "stability": ".scatterlayer .trace .point",
}
CHARTS = tuple(TRACE_MARKS)
# The demo keeps a year of monthly snapshots: every chart has data.
NO_DATA_ON_DEMO: set[str] = set()
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
            "is_high_returner": rng.random(n) < 0.1,
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
    customers = customers_frame(9)
    assert numbers == {
        "raw_lines": 100,
        "clean_lines": 70,
        "returned_lines": 5,
        "quarantined_lines": 25,
        "customers": 9,
        "chosen_k": 3,
        "as_of_date": pd.Timestamp("2011-12-10").date(),
        "revenue": pytest.approx(customers["monetary"].sum()),
        "high_returners": int(customers["is_high_returner"].sum()),
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
    main, appendix = report.build_sections(report.WarehouseData(empty_frames()))
    assert [s.id for s in main] == list(MAIN)
    assert [s.id for s in appendix] == list(APPENDIX)
    charts = [s for s in main + appendix if s.figure is not None]
    assert sorted(s.id for s in charts) == sorted(CHARTS)
    assert all(is_no_data(s.figure) for s in charts)
    tables = [s for s in main if s.figure is None]
    assert all("No data" in s.body for s in tables), [s.id for s in tables]


SEGMENTS = pd.DataFrame(
    {
        "segment_type": ["rfm_segment", "rfm_segment", "rfm_segment", "cluster"],
        "segment_name": ["Lost", "Champions", "At Risk", "VIP"],
        "customers": [50, 10, 40, 10],
        "customer_share": [0.5, 0.1, 0.4, 0.1],
        "revenue": [100.0, 700.0, 200.0, 700.0],
        "revenue_share": [0.1, 0.7, 0.2, 0.7],
        "median_recency_days": [300.0, 5.0, 120.0, 5.0],
        "median_frequency": [1.0, 8.0, 2.0, 8.0],
        "median_monetary": [20.0, 500.0, 60.0, 500.0],
        "return_rate": [0.0, 0.05, 0.3, 0.05],
        "recommended_action": ["Let go", "Reward", "Win back", "VIP service"],
    }
)
AUDIENCE = pd.DataFrame(
    {
        "rfm_segment": ["Champions", "Champions", "At Risk", "At Risk", "Lost"],
        "cluster_name": ["VIP", "VIP", "VIP", "VIP", "VIP"],
        "is_high_returner": [False, False, True, True, False],
        "is_control_group": [False, True, False, True, True],
        "customers": [9, 1, 36, 4, 50],
    }
)


def test_playbook_orders_by_revenue_and_counts_only_customers_outside_the_control_group():
    contactable = report.contactable_counts(AUDIENCE, "rfm_segment")
    rows = report.playbook(SEGMENTS, "rfm_segment", {"Champions": "Best"}, contactable)
    assert list(rows["segment_name"]) == ["Champions", "At Risk", "Lost"]
    # Lost is all control group: nobody to contact, shown as 0, not missing.
    assert list(rows["contactable"]) == [9, 36, 0]
    assert list(rows["description"]) == ["Best", "", ""]
    assert list(rows["recommended_action"]) == ["Reward", "Win back", "Let go"]
    clusters = report.playbook(
        SEGMENTS, "cluster", {}, report.contactable_counts(AUDIENCE, "cluster_name")
    )
    assert list(clusters["contactable"]) == [45]
    page = report.playbook_html(rows, "rfm_segment", "EUR")
    assert page.count('<article class="segment"') == 3
    assert "EUR 500.00" in page and "70.0%" in page


def test_returns_overview_counts_matched_returns_and_high_returners_to_contact():
    customers = pd.DataFrame(
        {
            "monetary": [100.0, 300.0, 600.0],
            "matched_return_amount": [50.0, 0.0, None],
            "is_high_returner": [True, False, None],
            "rfm_segment": ["At Risk", "Champions", "Champions"],
        }
    )
    overview = report.returns_overview(customers, AUDIENCE)
    assert overview["high_returners"] == 1
    assert overview["high_returner_share"] == pytest.approx(1 / 3)
    assert overview["returned_value"] == 50.0
    assert overview["returned_share"] == pytest.approx(0.05)
    assert overview["high_returners_contactable"] == 36
    by_segment = report.returns_by_segment(customers, SEGMENTS)
    assert list(by_segment["segment_name"][:1]) == ["At Risk"]
    assert dict(zip(by_segment["segment_name"], by_segment["high_returners"])) == {
        "At Risk": 1,
        "Champions": 0,
        "Lost": 0,
    }


def test_history_is_drawn_only_from_two_snapshots_on():
    one = pd.DataFrame(
        {
            "snapshot_date": [pd.Timestamp("2011-12-10")] * 2,
            "segment_type": ["rfm_segment", "cluster"],
            "segment_name": ["Champions", "VIP"],
            "customers": [10, 12],
        }
    )
    assert is_no_data(report.history_figure(one))
    two = pd.concat([one, one.assign(snapshot_date=pd.Timestamp("2012-01-10"), customers=[11, 13])])
    figure = report.history_figure(two)
    assert [t.name for t in figure.data] == ["Champions"]
    assert list(figure.data[0].y) == [10, 11]


def test_last_migration_matrix_orders_segments_and_puts_new_customers_last():
    migration = pd.DataFrame(
        {
            "snapshot_date": [pd.Timestamp("2011-12-01")] * 4 + [pd.Timestamp("2011-11-01")],
            "previous_snapshot_date": [pd.Timestamp("2011-11-01")] * 4
            + [pd.Timestamp("2011-10-01")],
            "segment_type": ["rfm_segment"] * 3 + ["cluster", "rfm_segment"],
            "from_segment": ["Lost", "Champions", None, "VIP", "Lost"],
            "to_segment": ["Champions", "Lost", "Champions", "VIP", "Lost"],
            "movement": ["moved", "moved", "entry", "stayed", "stayed"],
            "customers": [2, 3, 4, 9, 100],
            "monetary": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    matrix = report.last_migration_matrix(migration, ["Champions", "Lost"])
    assert list(matrix.index) == ["Champions", "Lost", report.NEW_CUSTOMERS]
    assert list(matrix.columns) == ["Champions", "Lost"]
    assert matrix.loc["Lost", "Champions"] == 2
    assert matrix.loc["Champions", "Lost"] == 3
    assert matrix.loc[report.NEW_CUSTOMERS, "Champions"] == 4
    # Only the last pair: the earlier snapshot's 100 stayers are not counted.
    assert matrix.to_numpy().sum() == 9
    assert report.last_migration_matrix(migration.iloc[:0], []).empty
    assert is_no_data(report.migration_figure(pd.DataFrame()))


def test_crosstab_matrix_keeps_segment_order_and_cluster_ids_and_fills_gaps():
    crosstab = pd.DataFrame(
        {
            "rfm_segment": ["Lost", "Champions", "Champions"],
            "cluster_id": [2, 1, 2],
            "cluster_name": ["Dormant", "VIP", "Dormant"],
            "customers": [40, 9, 1],
            "revenue": [10.0, 90.0, 1.0],
        }
    )
    matrix = report.crosstab_matrix(crosstab, ["Champions", "Lost"])
    assert matrix.index.tolist() == ["Champions", "Lost"]
    assert matrix.columns.tolist() == ["VIP", "Dormant"]
    assert matrix.to_numpy().tolist() == [[9, 1], [0, 40]]


def test_rule_labels_are_plain_text_cut_at_a_word():
    assert report.short_rule("Quantity is zero.") == "Quantity is zero"
    label = report.short_rule("A " + "long " * 30 + "rule.", limit=20)
    assert len(label) <= 20 and label.endswith("…") and not label.endswith(" …")


# ---------------------------------------------------------------- the command in a browser


@pytest.fixture(scope="module")
def demo_report(published_demo, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report") / "nested" / "segmentation_report.html"
    # Another reader holds the file open throughout: a report that opened it read-write
    # would fail on DuckDB's lock.
    with duckdb.connect(str(published_demo), read_only=True) as reader:
        as_of = reader.sql("select as_of_date from segmentation_settings").fetchone()[0]
        customers = reader.sql("select count(*) from customers").fetchone()[0]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "scripts.reporting.report"]
            + ["--database", str(published_demo), "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    print(f"report on the demo warehouse: {seconds:.1f} s, {out.stat().st_size / 1e6:.1f} MB")
    return {
        "path": out,
        "as_of": str(as_of),
        "customers": customers,
        "stdout": result.stdout,
        "database": published_demo,
    }


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
        kind = "chart" if section in CHARTS else "table"
        assert f'<section class="{kind}" id="{section}">' in page
    # The method is an appendix, collapsed, after every playbook section.
    assert '<details class="appendix" id="method">' in page
    assert page.index('id="method"') > max(page.index(f'id="{s}"') for s in MAIN)
    assert all(page.index(f'id="{s}"') > page.index('id="method"') for s in APPENDIX)
    assert f"Snapshot as of {demo_report['as_of']} · money in GBP" in page
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
            len(CHARTS),
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
        section = browser.find_element(By.CSS_SELECTOR, f"section#{section_id}")
        assert section.find_element(By.TAG_NAME, "h2").get_attribute("textContent").strip()
        assert section.find_element(By.CSS_SELECTOR, "p.reading").get_attribute("textContent")
        if section_id not in CHARTS:
            continue
        graph = section.find_element(By.CSS_SELECTOR, ".js-plotly-plot")
        assert graph.find_elements(By.CSS_SELECTOR, ".main-svg")
        if section_id in NO_DATA_ON_DEMO:
            assert "No data" in graph.get_attribute("textContent"), section_id
            continue
        assert graph.find_elements(By.CSS_SELECTOR, TRACE_MARKS[section_id]), section_id
        assert "No data" not in graph.get_attribute("textContent"), section_id
    headline = browser.find_element(By.ID, "headline").text
    assert f"{demo_report['customers']:,}" in headline
    assert screenshot.stat().st_size > 50_000
    record_property("screenshot", str(screenshot))
    print(f"screenshot: {screenshot}")


def test_the_method_appendix_opens_and_draws_at_full_width(demo_report, browser):
    from selenium.webdriver.common.by import By

    render(browser, demo_report["path"])
    appendix = browser.find_element(By.ID, "method")
    assert appendix.get_attribute("open") is None
    assert not browser.find_element(By.ID, "k-selection").is_displayed()
    appendix.find_element(By.TAG_NAME, "summary").click()
    graph = browser.find_element(By.ID, "k-selection-graph")
    assert graph.is_displayed()
    from selenium.webdriver.support.ui import WebDriverWait

    section_width = browser.find_element(By.ID, "k-selection").size["width"]
    WebDriverWait(browser, 10).until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, "#k-selection-graph .main-svg").size["width"]
            > 0.8 * section_width
        )
    )


def card_values(browser, kind: str) -> dict[str, dict[str, str]]:
    """The shown text of every fact of every segment card of one kind."""
    return browser.execute_script(
        "const out = {};"
        "document.querySelectorAll(`article.segment[data-kind='${arguments[0]}']`).forEach(a => {"
        "  const facts = {};"
        "  a.querySelectorAll('[data-field]').forEach(e => facts[e.dataset.field] = e.textContent);"
        "  facts.description = a.querySelector('p.description').textContent;"
        "  out[a.dataset.segment] = facts; });"
        "return out;",
        kind,
    )


def test_every_playbook_number_equals_the_marts(demo_report, browser):
    render(browser, demo_report["path"])
    with duckdb.connect(str(demo_report["database"]), read_only=True) as marts:
        currency = marts.sql("select currency from segmentation_settings").fetchone()[0]
        descriptions = dict(
            marts.sql(
                "select distinct rfm_segment, rfm_segment_description from customers"
            ).fetchall()
            + marts.sql("select cluster_name, description from cluster_profiles").fetchall()
        )
        expected = {}
        for kind, column in (("rfm_segment", "rfm_segment"), ("cluster", "cluster_name")):
            rows = marts.sql(
                f"""
                select s.segment_name, s.customers, s.customer_share, s.revenue_share,
                       s.median_recency_days, s.median_frequency, s.median_monetary,
                       s.recommended_action,
                       (select count(*) from campaign_audience a
                        where a.{column} = s.segment_name and not a.is_control_group)
                from segment_summary s where s.segment_type = '{kind}'
                """
            ).fetchall()
            expected[kind] = {
                name: {
                    "customers": f"{customers:,}",
                    "revenue_share": f"{revenue_share:.1%}",
                    "median_recency_days": f"{recency:,.0f}",
                    "median_frequency": f"{frequency:,.1f}",
                    "median_monetary": f"{currency} {monetary:,.2f}",
                    "recommended_action": action,
                    "contactable": f"{contactable:,}",
                    "description": descriptions[name],
                }
                for (
                    name,
                    customers,
                    _,
                    revenue_share,
                    recency,
                    frequency,
                    monetary,
                    action,
                    contactable,
                ) in rows
            }
        high_returners = marts.sql(
            "select count(*) from customers where is_high_returner"
        ).fetchone()[0]
        reasons = marts.sql(
            "select rule, lines from cleaning_summary where lines > 0 order by precedence"
        ).fetchall()
    assert currency == "GBP"
    for kind in ("rfm_segment", "cluster"):
        shown = card_values(browser, kind)
        assert shown == expected[kind], kind
    assert len(expected["rfm_segment"]) >= 5 and len(expected["cluster"]) >= 2

    from selenium.webdriver.common.by import By

    returns = browser.find_element(By.ID, "returns-cards").text
    assert f"HIGH RETURNERS\n{high_returners:,}" in returns.upper()
    shown_reasons = [
        (
            row.find_element(By.CSS_SELECTOR, "[data-field=rule]").text,
            row.find_element(By.CSS_SELECTOR, "[data-field=lines]").text,
        )
        for row in browser.find_elements(By.CSS_SELECTOR, "#cleaning-table tbody tr")
    ]
    assert shown_reasons == [(rule, f"{lines:,}") for rule, lines in reasons]


def test_the_page_shows_no_local_path_or_internal_name(demo_report, browser):
    render(browser, demo_report["path"])
    text = browser.execute_script("return document.querySelector('main').textContent")
    page = demo_report["path"].read_text(encoding="utf-8")
    for path in (str(ROOT), str(demo_report["database"]), str(demo_report["database"].parent)):
        assert path not in text and path not in page
    assert not re.findall(r"\b(int|stg)_[a-z_]+", text)
    # Reason codes appear only as their plain text.
    assert "valid_purchase" not in text and "None of the rules above applies" in text


@pytest.fixture
def empty_warehouse(demo_warehouse, tmp_path) -> Path:
    """The demo warehouse's tables with no rows, and the settings table missing altogether."""
    path = tmp_path / "empty.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(f"attach '{demo_warehouse.path}' as demo (read_only)")
        for query in report.QUERIES.values():
            if query.mart != "segmentation_settings" and not query.optional:
                connection.execute(
                    f"create table {query.mart} as select * from demo.{query.mart} limit 0"
                )
    return path


def test_empty_warehouse_gives_a_page_of_no_data_charts(
    empty_warehouse, browser, tmp_path, monkeypatch, capsys
):
    # The warehouse comes from the environment, as with `make report` after `make build`.
    monkeypatch.setenv("SEGMENTATION_DUCKDB_PATH", str(empty_warehouse))
    out = tmp_path / "reports" / "empty.html"
    assert report.main(["--out", str(out)]) == 0
    assert "segmentation_settings is missing" in capsys.readouterr().err
    # The report let go of the file: a writer can open it again.
    duckdb.connect(str(empty_warehouse)).close()

    page = out.read_text(encoding="utf-8")
    # Each chart's figure says so once; each playbook table once.
    assert page.count("No data") >= len(SECTIONS)
    assert "Tables missing from the warehouse" in page
    assert "segment_history" not in page.split("Tables missing")[1].split("</p>")[0]
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


def test_lifetime_value_section_shows_the_backtest_per_group_and_its_total_error():
    backtest = pd.DataFrame(
        {
            "population": ["organic"] * 3 + ["campaign_treated"] * 3,
            "frequency_group": [0, 1, 2] * 2,
            "frequency_group_label": ["0", "1+", "total"] * 2,
            "is_total": [False, False, True] * 2,
            "customers": [10, 5, 15, 4, 4, 8],
            "predicted_purchases": [4.0, 12.0, 16.0, 2.0, 6.0, 8.0],
            "actual_purchases": [5.0, 15.0, 20.0, 5.0, 11.0, 16.0],
            "error": [-1.0, -3.0, -4.0, -3.0, -5.0, -8.0],
            "relative_error": [-0.2, -0.2, -0.2, -0.6, -0.45, -0.5],
            "relative_error_lower": [np.nan, -0.5, -0.35, np.nan, -0.8, -0.7],
            "relative_error_upper": [np.nan, 0.1, -0.05, np.nan, -0.1, -0.3],
            "calibration_date": pd.Timestamp("2011-08-07"),
            "as_of_date": pd.Timestamp("2011-12-10"),
            "holdout_days": 125,
        }
    )
    fits = pd.DataFrame({"fit_scope": ["as_of"], "fit_problem": [None]})
    churn = pd.DataFrame({"is_control_group": [False, True], "customers": [9, 1]})
    page = report.lifetime_value_html(backtest, fits, churn)
    assert page.count("<tr>") == 4  # header and the three organic rows
    assert '<td data-field="frequency_group_label">1+</td>' in page
    assert '<td data-field="relative_error">-20.0%</td>' in page
    assert '<td data-field="error_range">-35.0% to -5.0%</td>' in page
    assert '<td data-field="error_range">n/a</td>' in page
    assert "chance allows -35.0% to -5.0%" in page
    # The campaign-treated customers: one sentence, out of the check.
    assert "8 customers a campaign treated" in page and "(-50.0%)" in page
    assert "before 2011-08-07" in page and "125 days" in page
    assert ">10<" in page and ">9<" in page  # the list and those to contact
    assert "could not be made" not in page
    failed = report.lifetime_value_html(
        backtest, fits.assign(fit_problem="no customer has a repeat"), churn
    )
    assert "could not be made: no customer has a repeat" in failed
    assert "No data" in report.lifetime_value_html(backtest.iloc[0:0], fits, churn)
    untreated = report.lifetime_value_html(backtest.iloc[:3], fits, churn)
    assert "campaign treated" not in untreated


def test_demo_report_shows_every_organic_backtest_group_of_the_mart(demo_report, published_demo):
    page = demo_report["path"].read_text(encoding="utf-8")
    with duckdb.connect(str(published_demo), read_only=True) as reader:
        labels = [
            row[0]
            for row in reader.sql(
                "select frequency_group_label from clv_backtest where population = 'organic'"
                " order by frequency_group"
            ).fetchall()
        ]
        treated = reader.sql(
            "select customers from clv_backtest where population = 'campaign_treated' and is_total"
        ).fetchone()[0]
    table = page.split('id="clv-backtest-table"')[1].split("</table>")[0]
    assert [
        cell.split(">")[1] for cell in table.split('data-field="frequency_group_label"')[1:]
    ] == [f"{label}</td" for label in labels]
    assert f"{treated:,} customers a campaign treated during the holdout" in page


def test_page_template_escapes_text_keeps_html_parts_and_inlines_css_and_script():
    section = report.Section(
        "s1", "Churn <risk> & more", "Read <this>", None, note="n", body="<p id='b'>x</p>"
    )
    page = report.render_page(
        [section],
        [],
        report._card("Label", "<1>", "detail"),
        "Snapshot 'today'",
        {"Input <a>": "value & b"},
        ["segment_history"],
        "/*plotly*/",
        " - t",
    )
    assert "<h2>Churn &lt;risk&gt; &amp; more</h2>" in page
    assert "<p id='b'>x</p>" in page and '<div class="value">&lt;1&gt;</div>' in page
    assert "<dt>Input &lt;a&gt;</dt><dd>value &amp; b</dd>" in page
    assert "Tables missing from the warehouse: segment_history." in page
    css = (ROOT / "scripts/reporting/templates/report.css").read_text()
    assert css.strip() in page and "Plotly.Plots.resize" in page and "/*plotly*/" in page
    assert page.count('<section class="table" id="s1">') == 1


def test_signed_share_formats_one_way_for_every_table():
    assert report._signed_share(0.0321) == "+3.2%"
    assert report._signed_share(-0.5, 0, "–") == "-50%"
    assert report._signed_share(float("nan"), 0, "–") == "–"
    assert report._signed_share(None) == ""
