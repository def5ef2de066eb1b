"""The marketing dashboard: the playbook, filters, and the customer list to download.

    make dashboard          # http://127.0.0.1:8501 (DASHBOARD_PORT=... to change)

Streamlit app over the Parquet export of the published warehouse (see
scripts/reporting/dashboard_data.py): read-only by construction, it never opens the DuckDB file,
so builds and the dashboard never wait for each other. Each page load checks which
publication is current and reads it (cached per publication).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run scripts/reporting/dashboard.py` puts scripts/ on the path, not the repository.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from scripts.reporting import dashboard_data as data  # noqa: E402
from scripts.reporting import report  # noqa: E402


@st.cache_data(show_spinner=False, max_entries=4)
def load(directory: str, build_id: str) -> data.Marts:
    return data.load(Path(directory), build_id)


def playbook_table(marts: data.Marts, kind: str, currency: str) -> pd.DataFrame:
    frames = marts.frames
    if kind == "rfm_segment":
        descriptions = report.rfm_descriptions(frames["customers"])
        contactable = report.contactable_counts(_audience(marts), "rfm_segment")
    else:
        clusters = frames["cluster_profiles"]
        descriptions = dict(zip(clusters["cluster_name"], clusters["description"]))
        contactable = report.contactable_counts(_audience(marts), "cluster_name")
    rows = report.playbook(frames["segment_summary"], kind, descriptions, contactable)
    return pd.DataFrame(
        {
            "Segment": rows["segment_name"],
            "Who they are": rows["description"],
            "Customers": rows["customers"].map("{:,}".format),
            "Revenue share": rows["revenue_share"].map("{:.1%}".format),
            "Last order (median days)": rows["median_recency_days"].map("{:,.0f}".format),
            "Orders (median)": rows["median_frequency"].map("{:,.1f}".format),
            f"Spend (median, {currency})": rows["median_monetary"].map("{:,.2f}".format),
            "Do": rows["recommended_action"],
            "Contactable": rows["contactable"].map("{:,}".format),
        }
    )


def _audience(marts: data.Marts) -> pd.DataFrame:
    audience = marts.frames["campaign_audience"]
    keys = ["rfm_segment", "cluster_name", "is_high_returner", "is_control_group"]
    return audience.groupby(keys, dropna=False).size().rename("customers").reset_index()


def main() -> None:
    st.set_page_config(page_title="Customer segmentation", layout="wide")
    try:
        directory, build_id = data.resolve(data.parquet_directory())
        marts = load(str(directory), build_id)
    except data.DashboardError as error:
        st.error(str(error))
        st.stop()
    settings = marts.settings
    currency = settings["currency"]
    everyone = data.customer_list(marts)

    st.title("Customer segmentation")
    st.caption(
        f"Snapshot as of {pd.Timestamp(settings['as_of_date']).date()} · money in {currency} · "
        f"publication {build_id}"
    )

    choices = {
        "segments": data.options(everyone, "rfm_segment"),
        "clusters": data.options(everyone, "cluster_name"),
        "countries": data.options(everyone, "country"),
    }
    initial = data.from_query({k: st.query_params.get_all(k) for k in st.query_params}, choices)
    with st.sidebar:
        st.header("Filters")
        segments = st.multiselect("RFM segment", choices["segments"], initial["segments"])
        clusters = st.multiselect("Cluster", choices["clusters"], initial["clusters"])
        countries = st.multiselect("Country", choices["countries"], initial["countries"])
        labels = {"all": "Everyone", "only": "Only high returners", "exclude": "No high returners"}
        high_returners = st.radio(
            "High returners",
            list(labels),
            index=list(labels).index(initial["high_returners"]),
            format_func=labels.get,
        )
        include_control = st.checkbox(
            "Include the control group",
            initial["include_control"],
            help="The control group is held out of campaigns to measure their effect.",
        )

    selected = data.filter_customers(
        everyone, segments, clusters, countries, high_returners, include_control
    )
    numbers = data.summary(selected)
    columns = st.columns(4)
    columns[0].metric("Customers in the list", f"{numbers['customers']:,}")
    columns[1].metric(f"Their revenue ({currency})", f"{numbers['revenue']:,.0f}")
    columns[2].metric("High returners", f"{numbers['high_returners']:,}")
    columns[3].metric("Control group in the list", f"{numbers['control_group']:,}")

    st.subheader("Customer list")
    st.download_button(
        f"Download {numbers['customers']:,} customers (CSV)",
        data=data.csv_bytes(selected),
        file_name=f"customers_{build_id}.csv",
        mime="text/csv",
        key="download",
    )
    st.dataframe(selected, hide_index=True, width="stretch", height=360)

    st.subheader("Playbook")
    rfm_tab, cluster_tab = st.tabs(["RFM segments", "Clusters"])
    with rfm_tab:
        st.table(playbook_table(marts, "rfm_segment", currency).set_index("Segment"))
    with cluster_tab:
        st.table(playbook_table(marts, "cluster", currency).set_index("Segment"))

    st.subheader("Campaign results")
    results = marts.frames.get("campaign_results")
    if results is None:
        st.info(
            "No campaign has been measured yet: results appear here once the warehouse "
            "holds a campaign_results table."
        )
    else:
        st.dataframe(results, hide_index=True, width="stretch")


main()
