"""Campaigns: the campaign audience's control group (the configured share, stratified,
salted; stability across rebuilds is checked with every other mart in test_foundation),
and the measured campaigns of seeds/campaigns.csv (frozen audiences, results against the
demo's simulated truth, the activation export). The statistics themselves are tested in
test_campaign_measurement."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from dbt_project_runner import ROOT, WITHOUT_UNIT_TESTS, Warehouse, run_dbt, selecting

from scripts import marts

DEMO = ROOT / "data" / "demo" / "online_retail_demo.csv.gz"

SHARE_QUERY = "select avg(case when is_control_group then 1.0 else 0.0 end) from campaign_audience"


def test_control_share_is_the_configured_share_give_or_take_a_percentage_point(demo_warehouse):
    share = demo_warehouse.value(SHARE_QUERY)
    assert share == pytest.approx(0.10, abs=0.01)


def test_every_sizeable_segment_has_its_share_of_controls(demo_warehouse):
    shares = demo_warehouse.rows(
        "select rfm_segment, avg(case when is_control_group then 1.0 else 0.0 end), count(*) "
        "from campaign_audience group by 1 having count(*) >= 20"
    )
    assert shares
    for segment, share, customers in shares:
        assert abs(share - 0.10) <= 0.5 / customers + 1e-9, segment


def test_a_new_salt_draws_a_new_split_of_the_same_size(demo_warehouse, tmp_path):
    resalted = Warehouse(tmp_path, {"control_group_salt": "spring-campaign"})
    shutil.copy(demo_warehouse.path, resalted.path)
    resalted.dbt("run", "--select", "campaign_audience")
    query = "select customer_id from campaign_audience where is_control_group"
    before, after = set(demo_warehouse.rows(query)), set(resalted.rows(query))
    assert len(before) == len(after) and before != after


# ---------------------------------------------------------------- measured campaigns
# The bundled demo simulates the autumn campaign (scripts/demo_data/generate_transactions.py,
# DEMO_CAMPAIGN: treated customers buy twice as often over the measured window) and no
# effect for the June win-back.


def campaign_result(warehouse, campaign_id: str, metric: str) -> dict:
    frame = warehouse.frame(
        "select * from campaign_results"
        f" where campaign_id = '{campaign_id}' and metric = '{metric}'"
    )
    assert len(frame) == 1, (campaign_id, metric)
    return frame.iloc[0].to_dict()


def test_every_seeded_campaign_is_frozen_measured_and_complete(demo_warehouse):
    summary = demo_warehouse.frame("select * from campaign_summary order by campaign_id")
    assert summary["campaign_id"].tolist() == ["autumn_reactivation_2011_09", "win_back_2011_06"]
    assert summary["is_audience_frozen"].all()
    assert (summary["measurement_status"] == "complete").all()
    assert (summary["audience_snapshot_date"] == summary["start_date"]).all()
    assert (
        summary["treated_customers"] + summary["control_customers"] == summary["audience_customers"]
    ).all()
    results = demo_warehouse.value("select count(*) from campaign_results")
    assert results == 2 * 6


def test_the_control_group_is_the_campaigns_share_of_each_segment(demo_warehouse):
    strata = demo_warehouse.rows(
        """
        select members.campaign_id, members.rfm_segment, campaigns.control_share,
               count(*) as members, count(case when members.arm = 'control' then 1 end)
        from campaign_members as members
        inner join campaigns using (campaign_id)
        group by all
        """
    )
    assert len(strata) > 5
    for campaign_id, segment, share, members, control in strata:
        # round half to even or away from zero: within half a customer of the share.
        assert abs(control - share * members) <= 0.5 + 1e-9, (campaign_id, segment)


def test_the_measured_lift_contains_the_simulated_truth(demo_warehouse):
    from scripts.demo_data.generate_transactions import DEMO_CAMPAIGN_ID, DEMO_CAMPAIGN_UPLIFT

    autumn = campaign_result(demo_warehouse, DEMO_CAMPAIGN_ID, "orders_per_customer")
    assert autumn["relative_lift_lower"] <= DEMO_CAMPAIGN_UPLIFT <= autumn["relative_lift_upper"]
    assert autumn["conclusion"] == "significant lift"
    win_back = campaign_result(demo_warehouse, "win_back_2011_06", "orders_per_customer")
    assert win_back["absolute_lift_lower"] <= 0 <= win_back["absolute_lift_upper"]
    # About 50 customers per arm: only a lift over 100% would show, so it says underpowered.
    assert win_back["minimum_detectable_relative_lift"] > 1
    assert win_back["conclusion"] == "underpowered"


def test_the_simulated_treated_customers_are_the_projects_treated_arm(demo_warehouse):
    """The simulated truth holds for the measured arms: the demo's campaign effect went to
    exactly the customers the project puts in the treated arm (make demo-data draws them
    from the lines without the campaign; the audience only sees lines before the start)."""
    from scripts.demo_data.generate_transactions import DEMO_CAMPAIGN_ID, demo_campaign

    treated = demo_warehouse.rows(
        "select customer_id from campaign_members"
        f" where campaign_id = '{DEMO_CAMPAIGN_ID}' and arm = 'treated'"
    )
    simulated = demo_campaign(ROOT / "data" / "demo" / "demo_campaign_treated.csv")
    assert {int(customer) for (customer,) in treated} == set(simulated.treated_customers)


def test_the_export_writes_the_treated_members_only(demo_warehouse, tmp_path):
    from scripts.reporting import export_campaign

    out = tmp_path / "treated.csv"
    written = export_campaign.export(demo_warehouse.path, "win_back_2011_06", out)
    exported = pd.read_csv(out, dtype=str)
    treated = demo_warehouse.rows(
        "select customer_id from campaign_members"
        " where campaign_id = 'win_back_2011_06' and arm = 'treated' order by customer_id"
    )
    assert written == len(exported) == len(treated) > 0
    assert exported["customer_id"].tolist() == [customer for (customer,) in treated]
    assert list(exported.columns) == list(export_campaign.COLUMNS)
    assert exported["recommended_action"].notna().all()
    with pytest.raises(export_campaign.ExportError, match="defined campaigns: autumn"):
        export_campaign.export(demo_warehouse.path, "no_such_campaign", out)


@pytest.fixture(scope="module")
def appended(tmp_path_factory) -> dict:
    """The demo cut at 2011-10-15 (after both campaigns started), built; then the rest of
    the lines arrive and the same warehouse is built again, incrementally."""
    directory = tmp_path_factory.mktemp("campaign_appended")
    lines = pd.read_csv(DEMO, dtype=str, keep_default_na=False)
    dates = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M", errors="coerce")
    early = directory / "early.csv"
    lines[dates < "2011-10-15"].to_csv(early, index=False)
    warehouse = Warehouse(directory)
    # The campaign marts read here and what they are built from (other incremental models
    # have tests of their own: test_segment_history_incremental).
    campaigns = [*selecting("+campaign_members +campaign_summary"), *WITHOUT_UNIT_TESTS]
    run_dbt(directory, "build", *campaigns, env={"RAW_TRANSACTIONS_PATH": str(early)})
    before = warehouse.frame(MEMBERS_QUERY)
    before_summary = warehouse.frame("select * from campaign_summary order by campaign_id")
    run_dbt(directory, "build", *campaigns, env={"RAW_TRANSACTIONS_PATH": str(DEMO)})
    # The frozen audiences are the incremental model campaign_members reads, found in the
    # manifest rather than named here (tests look at the project through its marts).
    nodes = marts.load_manifest(directory / "target" / "manifest.json")["nodes"]
    members = next(node for node in nodes.values() if node["name"] == "campaign_members")
    frozen = [
        parent
        for parent in members["depends_on"]["nodes"]
        if nodes.get(parent, {}).get("config", {}).get("materialized") == "incremental"
    ]
    assert len(frozen) == 1, members["depends_on"]["nodes"]
    audiences = next(r for r in warehouse.run_results()["results"] if r["unique_id"] == frozen[0])
    return {
        "warehouse": warehouse,
        "before": before,
        "before_summary": before_summary,
        "audiences_run": audiences,
    }


MEMBERS_QUERY = "select * from campaign_members order by campaign_id, customer_id"


def test_audiences_do_not_change_when_later_data_arrives(appended):
    before, summary = appended["before"], appended["before_summary"]
    assert summary["is_audience_frozen"].all()
    assert (
        summary.set_index("campaign_id").loc["autumn_reactivation_2011_09", "measurement_status"]
        == "in progress"
    )
    after = appended["warehouse"].frame(MEMBERS_QUERY)
    pd.testing.assert_frame_equal(before, after)
    # Nothing was recomputed: the incremental run found no campaign to freeze.
    assert appended["audiences_run"]["adapter_response"].get("rows_affected", 0) == 0
    completed = appended["warehouse"].frame("select * from campaign_summary order by campaign_id")
    assert (completed["measurement_status"] == "complete").all()
