"""The campaign audience's control group: the configured share, stratified, salted.
Stability across rebuilds is checked with every other mart in test_foundation."""

from __future__ import annotations

import shutil

import pytest
from dbt_project_runner import Warehouse

SHARE_QUERY = "select avg(case when is_control_group then 1.0 else 0.0 end) from campaign_audience"


def test_control_share_is_within_one_point_of_the_configured_share(demo_warehouse):
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
