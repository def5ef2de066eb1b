"""The selectors of selectors.yml select what their descriptions promise (one parse,
then `dbt ls` per selector on the parsed manifest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from dbt.cli.main import dbtRunner

ROOT = Path(__file__).resolve().parents[2]

# Per selector: models it must hold, and models it must leave out.
EXPECTED = {
    "cleaning": ({"stg_shop__transactions", "purchase_lines", "cleaning_summary"}, {"customers"}),
    "segmentation": ({"cluster_k_selection", "cluster_profiles"}, {"clv_backtest"}),
    "history": ({"customer_segment_history", "segment_migration"}, {"campaign_results"}),
    "lifetime_value": ({"clv_fit", "clv_backtest", "clv_seasonality"}, {"segment_migration"}),
    "campaigns": ({"campaign_members", "campaign_results"}, {"clv_fit"}),
    "marketing": ({"customers", "campaign_audience", "segment_summary"}, set()),
}


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    work = tmp_path_factory.mktemp("selectors")
    os.environ.setdefault("DBT_PROFILES_DIR", str(ROOT))
    os.environ["SEGMENTATION_DUCKDB_PATH"] = str(work / "unused.duckdb")
    common = ["--project-dir", str(ROOT), "--target-path", str(work / "target")]
    parsed = dbtRunner().invoke(["parse", "--quiet", *common])
    assert parsed.success, parsed.exception
    return dbtRunner(manifest=parsed.result), common


def test_every_selector_is_covered_here():
    names = {s["name"] for s in yaml.safe_load((ROOT / "selectors.yml").read_text())["selectors"]}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("selector", sorted(EXPECTED))
def test_selector_selects_its_models(runner, selector):
    dbt, common = runner
    listed = dbt.invoke(
        ["ls", "--quiet", "--selector", selector, "--resource-type", "model", "--output", "name"]
        + common
    )
    assert listed.success, listed.exception
    models = set(listed.result)
    must, must_not = EXPECTED[selector]
    assert must <= models, must - models
    assert not (must_not & models), must_not & models
