"""The segmentation playbook: one self-contained HTML page for marketing.

    python -m scripts.reporting.report [--database PATH] [--out PATH]

Reads the published warehouse (the DuckDB file named by --database, else the
environment variable SEGMENTATION_DUCKDB_PATH, else `segmentation.duckdb` in the
current directory), read-only and marts only, and writes
`reports/segmentation_report.html` (or --out):

1. headline numbers: customers, revenue, contactable customers, high returners;
2. per RFM segment and per cluster: description, size, revenue share, median recency,
   frequency and spend (in the currency of `segmentation_settings`), the recommended
   action and the customers to contact outside the control group;
3. segment sizes against revenue shares; who returns too much; the campaign list;
4. segment sizes over time (mart `segment_history`), the migration between the last two
   snapshots with the customers who dropped from a valuable segment (`segment_migration`,
   `segment_moves_to_act_on`) and how stable the segments are from one snapshot to the next
   (`segment_stability`);
5. distributions of recency, frequency and spend, the R x FM heat map, and what happened
   to the raw lines, each reason in its plain text from the cleaning rules;
6. a collapsed appendix with the method: k selection (inertia, silhouette), the PCA map
   of customers coloured by cluster, and the inputs.

plotly.js is embedded once, so the file opens offline and can be mailed around.
Every chart and table is built by a pure function (DataFrame in, figure or HTML out); a
table that is missing or empty gives a section saying "No data" instead of an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup
from plotly.subplots import make_subplots

from scripts import marts
from scripts.devtools import publish

DEFAULT_OUT = Path("reports") / "segmentation_report.html"
TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("scripts.reporting", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)

# The scatter stays an SVG plot a laptop browser draws instantly (no WebGL needed).
PCA_SAMPLE_SIZE = 5_000
PCA_RANDOM_STATE = 42
PCA_FEATURES = ("recency_days", "frequency", "monetary")
# Heavy right tails would squash every other bar into the first one.
CLIP_QUANTILE = 0.99
HISTOGRAM_BINS = 40

STATUS_COLOURS = {"clean": "#059669", "returned": "#d97706", "quarantined": "#dc2626"}
SHARE_COLOURS = {"customer_share": "#94a3b8", "revenue_share": "#059669"}
CLUSTER_PALETTE = (
    "#2563eb",
    "#059669",
    "#d97706",
    "#dc2626",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#92400e",
    "#475569",
)
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


# What the report reads, declared with every other reader's in scripts/marts.py.
QUERIES = marts.REPORT


@dataclass
class WarehouseData:
    frames: dict[str, pd.DataFrame]
    missing_tables: list[str] = field(default_factory=list)


@dataclass
class Histogram:
    bins: pd.DataFrame  # left, right, customers, label (for hover)
    median: float | None
    clipped_at: float | None  # None when no value lay above the clip quantile
    n_clipped: int


@dataclass
class Projection:
    points: pd.DataFrame  # the sampled customers with pc1 and pc2
    explained: tuple[float, float]
    loadings: pd.DataFrame  # rows pc1, pc2; columns PCA_FEATURES
    population: int
    random_state: int


@dataclass
class Section:
    id: str
    title: str
    reading: str  # one sentence: what to read from the chart
    figure: go.Figure | None
    note: str = ""  # how the chart was drawn, in small print
    body: str = ""  # HTML shown before the chart (the playbook tables)


# ---------------------------------------------------------------- warehouse


def read_warehouse(path: Path) -> WarehouseData:
    """Every frame the report needs; the connection is closed when this returns."""
    with duckdb.connect(str(path), read_only=True) as connection:
        frames, missing = marts.read_all(connection, QUERIES)
    return WarehouseData(frames, missing)


# ---------------------------------------------------------------- pure data functions


def headline_numbers(
    customers: pd.DataFrame, k_selection: pd.DataFrame, cleaning: pd.DataFrame, as_of: pd.DataFrame
) -> dict:
    """Raw and clean line counts, customers, chosen k and the as-of date (None when unknown);
    `as_of` is the settings row (`segmentation_settings`)."""
    lines = pd.to_numeric(cleaning["lines"], errors="coerce").fillna(0)
    status = cleaning["line_status"]
    chosen = k_selection.loc[k_selection["is_chosen"].astype(bool), "k"]
    as_of_date = None
    if not as_of.empty and pd.notna(as_of["as_of_date"].iloc[0]):
        as_of_date = as_of["as_of_date"].iloc[0]
    elif not customers.empty:
        as_of_date = customers["as_of_date"].iloc[0]
    return {
        "raw_lines": int(lines.sum()),
        "clean_lines": int(lines[status == "clean"].sum()),
        "returned_lines": int(lines[status == "returned"].sum()),
        "quarantined_lines": int(lines[status == "quarantined"].sum()),
        "customers": len(customers),
        "chosen_k": int(chosen.iloc[0]) if not chosen.empty else None,
        "as_of_date": pd.Timestamp(as_of_date).date() if as_of_date is not None else None,
        "revenue": float(pd.to_numeric(customers["monetary"]).sum()),
        "high_returners": int(customers["is_high_returner"].fillna(False).astype(bool).sum())
        if "is_high_returner" in customers
        else 0,
    }


def histogram(
    values: pd.Series, clip_quantile: float | None = None, max_bins: int = HISTOGRAM_BINS
) -> Histogram:
    """Customer counts per bin; values above the clip quantile are counted in the last bin.

    Integer data gets integer-aligned bins so a bar never straddles two whole values.
    """
    values = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    if values.empty:
        empty = pd.DataFrame({"left": [], "right": [], "customers": [], "label": []})
        return Histogram(empty, None, None, 0)
    clipped_at, n_clipped = None, 0
    if clip_quantile is not None:
        # "higher" keeps the cap an observed value (a whole number of orders, say).
        cap = float(values.quantile(clip_quantile, interpolation="higher"))
        n_clipped = int((values > cap).sum())
        if n_clipped:
            clipped_at = cap
            values = values.clip(upper=cap)
    low, high = float(values.min()), float(values.max())
    integer = bool(np.allclose(values, np.round(values)))
    if integer:
        width = max(1, int(np.ceil((high - low + 1) / max_bins)))
        edges = np.arange(low - 0.5, high + 0.5 + width, width)
    elif high > low:
        edges = np.linspace(low, high, max_bins + 1)
    else:
        edges = np.array([low - 0.5, high + 0.5])
    counts, edges = np.histogram(values, bins=edges)
    bins = pd.DataFrame({"left": edges[:-1], "right": edges[1:], "customers": counts})
    bins["label"] = [
        _bin_label(left, right, integer) for left, right in zip(edges[:-1], edges[1:], strict=True)
    ]
    if clipped_at is not None:
        bins.loc[bins.index[-1], "label"] += " and above"
    return Histogram(bins, float(values.median()), clipped_at, n_clipped)


def _bin_label(left: float, right: float, integer: bool) -> str:
    if not integer:
        return f"{_format_number(left)} to {_format_number(right)}"
    first, last = int(np.ceil(left)), int(np.floor(right))
    return f"{first:,}" if first == last else f"{first:,} to {last:,}"


def _orient(components: np.ndarray) -> np.ndarray:
    """Points each component so its largest loading is positive, whatever the SVD returned."""
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    return components * np.where(signs == 0, 1, signs)[:, None]


def pca_projection(
    customers: pd.DataFrame,
    sample_size: int = PCA_SAMPLE_SIZE,
    random_state: int = PCA_RANDOM_STATE,
) -> Projection:
    """The first two principal components of standardised log1p(recency, frequency, monetary).

    The sample is drawn after sorting by customer id, so the same customers give the
    same picture whatever order the warehouse returned them in.
    """
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    frame = (
        customers.dropna(subset=list(PCA_FEATURES))
        .sort_values("customer_id", kind="stable")
        .reset_index(drop=True)
    )
    population = len(frame)
    empty_loadings = pd.DataFrame(columns=list(PCA_FEATURES), index=["pc1", "pc2"], dtype=float)
    if population < 3:
        return Projection(
            frame.iloc[:0].assign(pc1=0.0, pc2=0.0), (np.nan, np.nan), empty_loadings, population, 0
        )
    if population > sample_size:
        rows = np.random.default_rng(random_state).choice(population, sample_size, replace=False)
        frame = frame.iloc[np.sort(rows)].reset_index(drop=True)

    features = np.log1p(frame[list(PCA_FEATURES)].astype(float).clip(lower=0).to_numpy())
    scaled = StandardScaler().fit_transform(features)
    with warnings.catch_warnings():
        # Constant features leave zero variance to explain: the ratios are NaN, which is fine.
        warnings.simplefilter("ignore", RuntimeWarning)
        pca = PCA(n_components=2, svd_solver="full").fit(scaled)
    components = _orient(pca.components_)
    coordinates = (scaled - pca.mean_) @ components.T
    points = frame.assign(pc1=coordinates[:, 0], pc2=coordinates[:, 1])
    loadings = pd.DataFrame(components, index=["pc1", "pc2"], columns=list(PCA_FEATURES))
    explained = tuple(float(v) for v in pca.explained_variance_ratio_)
    return Projection(points, explained, loadings, population, random_state)


def rfm_heatmap_matrix(customers: pd.DataFrame) -> pd.DataFrame:
    """Customer counts with R score rows and FM score columns, every score from 1 shown."""
    scores = customers[["r_score", "fm_score"]].dropna().astype(int)
    if scores.empty:
        return pd.DataFrame(dtype=int)
    n_bins = int(max(scores["r_score"].max(), scores["fm_score"].max()))
    matrix = pd.crosstab(scores["r_score"], scores["fm_score"])
    full = range(1, n_bins + 1)
    matrix = matrix.reindex(index=full, columns=full, fill_value=0).astype(int)
    matrix.index.name, matrix.columns.name = "r_score", "fm_score"
    return matrix


def segment_shares(segments: pd.DataFrame, segment_type: str) -> pd.DataFrame:
    """One segment type's rows, smallest revenue share first (horizontal bars draw bottom-up)."""
    rows = segments[segments["segment_type"] == segment_type]
    return rows.sort_values(["revenue_share", "segment_name"], kind="stable").reset_index(drop=True)


def cluster_order(customers: pd.DataFrame) -> list[str]:
    """Cluster names in cluster id order, so colours follow the business order of clusters."""
    clusters = customers[["cluster_id", "cluster_name"]].dropna().drop_duplicates()
    return list(clusters.sort_values(["cluster_id", "cluster_name"])["cluster_name"])


PLAYBOOK_COLUMNS = (
    "segment_name",
    "description",
    "customers",
    "customer_share",
    "revenue_share",
    "median_recency_days",
    "median_frequency",
    "median_monetary",
    "recommended_action",
    "contactable",
)


def contactable_counts(audience: pd.DataFrame, by: str) -> pd.Series:
    """Customers in the campaign audience outside the control group, per `by` value."""
    if audience.empty:
        return pd.Series(dtype="int64")
    reachable = audience[~audience["is_control_group"].astype(bool)]
    return reachable.groupby(by)["customers"].sum().astype("int64")


def playbook(
    segments: pd.DataFrame,
    segment_type: str,
    descriptions: dict[str, str],
    contactable: pd.Series,
) -> pd.DataFrame:
    """One row per segment of `segment_type` (rfm_segment or cluster), highest revenue first:
    what it is, how big, what it is worth, how it buys, what to do and whom to contact."""
    rows = segments[segments["segment_type"] == segment_type].copy()
    if rows.empty:
        return pd.DataFrame(columns=list(PLAYBOOK_COLUMNS))
    rows["description"] = [descriptions.get(name) or "" for name in rows["segment_name"]]
    rows["contactable"] = rows["segment_name"].map(contactable).fillna(0).astype("int64")
    rows = rows.sort_values(["revenue_share", "segment_name"], ascending=[False, True])
    return rows[list(PLAYBOOK_COLUMNS)].reset_index(drop=True)


def rfm_descriptions(customers: pd.DataFrame) -> dict[str, str]:
    pairs = customers[["rfm_segment", "rfm_segment_description"]].dropna().drop_duplicates()
    return dict(zip(pairs["rfm_segment"], pairs["rfm_segment_description"]))


def returns_overview(customers: pd.DataFrame, audience: pd.DataFrame) -> dict:
    """High returners and the value returned (matched returns only, as in the return rate)."""
    flags = customers["is_high_returner"].fillna(False).astype(bool)
    gross = float(pd.to_numeric(customers["monetary"]).sum())
    returned = float(pd.to_numeric(customers["matched_return_amount"]).fillna(0).sum())
    in_audience = 0
    if not audience.empty:
        reachable = audience[
            audience["is_high_returner"].fillna(False).astype(bool)
            & ~audience["is_control_group"].astype(bool)
        ]
        in_audience = int(reachable["customers"].sum())
    return {
        "customers": len(customers),
        "high_returners": int(flags.sum()),
        "high_returner_share": float(flags.mean()) if len(customers) else 0.0,
        "returned_value": returned,
        "returned_share": returned / gross if gross else 0.0,
        "high_returners_contactable": in_audience,
    }


def returns_by_segment(customers: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Per RFM segment: customers, high returners and the segment's return rate, most
    high returners first."""
    rows = segments[segments["segment_type"] == "rfm_segment"][
        ["segment_name", "customers", "return_rate"]
    ]
    if rows.empty:
        return pd.DataFrame(columns=["segment_name", "customers", "high_returners", "return_rate"])
    flags = customers.assign(high=customers["is_high_returner"].fillna(False).astype(bool))
    high = flags.groupby("rfm_segment")["high"].sum()
    rows = rows.assign(high_returners=rows["segment_name"].map(high).fillna(0).astype("int64"))
    rows = rows.sort_values(["high_returners", "segment_name"], ascending=[False, True])
    return rows[["segment_name", "customers", "high_returners", "return_rate"]].reset_index(
        drop=True
    )


def top_high_returners(customers: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    rows = customers[customers["is_high_returner"].fillna(False).astype(bool)]
    columns = ["customer_id", "country", "rfm_segment", "monetary", "matched_return_amount"]
    return (
        rows.sort_values(["matched_return_amount", "customer_id"], ascending=[False, True])
        .head(n)[columns + ["return_rate"]]
        .reset_index(drop=True)
    )


def short_rule(rule: str, limit: int = 60) -> str:
    """A rule's plain text cut to a chart label (the full text is in the hover and table)."""
    text = (rule or "").strip().rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def money(value, currency: str, decimals: int = 2) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{currency} {value:,.{decimals}f}".strip()


def describe_component(loadings: pd.Series, threshold: float = 0.4) -> str:
    """Which way the component points, in words: e.g. 'more orders, more spend'."""
    words = {
        "recency_days": ("longer since last order", "more recent"),
        "frequency": ("more orders", "fewer orders"),
        "monetary": ("more spend", "less spend"),
    }
    strongest = loadings.abs().sort_values(ascending=False)
    parts = [
        words[name][0 if loadings[name] > 0 else 1]
        for name in strongest.index
        if abs(loadings[name]) >= threshold
    ]
    return ", ".join(parts)


# ---------------------------------------------------------------- figures


def _layout(figure: go.Figure, height: int, **overrides) -> go.Figure:
    layout = {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 60, "r": 30, "t": 60, "b": 50},
        "font": {"family": FONT, "size": 13},
        "legend": {"orientation": "h", "y": -0.2, "x": 0},
    }
    figure.update_layout(**{**layout, **overrides})
    return figure


def no_data_figure(message: str, height: int = 260) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(
        text=f"No data: {message}",
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 16, "color": "#6b7280"},
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return _layout(figure, height)


def _format_number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _notes(hist: Histogram) -> list[str]:
    """Two subtitle lines for a histogram panel (always two, so the panels line up)."""
    if hist.median is None:
        return ["no values", ""]
    if hist.clipped_at is None:
        return [f"median {_format_number(hist.median)} (dashed)", "every customer shown"]
    # Said on the chart itself: otherwise the last bar reads as a real peak.
    return [
        f"median {_format_number(hist.median)} (dashed)",
        f"clipped at 99th percentile ({_format_number(hist.clipped_at)}): rest in last bar",
    ]


def distributions_figure(customers: pd.DataFrame) -> go.Figure:
    if customers.empty:
        return no_data_figure("the customers table is empty")
    panels = [
        ("Recency (days since last order)", histogram(customers["recency_days"]), "#2563eb"),
        ("Frequency (orders)", histogram(customers["frequency"], CLIP_QUANTILE), "#7c3aed"),
        ("Monetary value (spend)", histogram(customers["monetary"], CLIP_QUANTILE), "#059669"),
    ]
    titles = [title + "".join(f"<br><sup>{n}</sup>" for n in _notes(h)) for title, h, _ in panels]
    figure = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.06)
    for column, (title, hist, colour) in enumerate(panels, start=1):
        bins = hist.bins
        figure.add_trace(
            go.Bar(
                x=(bins["left"] + bins["right"]) / 2,
                y=bins["customers"],
                width=bins["right"] - bins["left"],
                marker={"color": colour, "line": {"width": 0.5, "color": "white"}},
                customdata=bins[["label"]],
                hovertemplate="%{customdata[0]}<br>%{y:,} customers<extra></extra>",
                name=title.split(" (")[0],
                showlegend=False,
            ),
            row=1,
            col=column,
        )
        if hist.median is not None:
            figure.add_vline(
                x=hist.median,
                line={"dash": "dash", "color": "#111827", "width": 1},
                row=1,
                col=column,
            )
    figure.update_yaxes(title_text="customers", row=1, col=1)
    return _layout(figure, 420, bargap=0.02, margin={"l": 60, "r": 20, "t": 100, "b": 40})


def _add_to_panel(figure: go.Figure, trace, name: str, group: str, cell: tuple[int, int]):
    """A trace in subplot `cell` (row, column) with one legend entry per group: shown for the
    first panel only, toggling the group's traces in every panel."""
    trace.update(name=name, legendgroup=group, showlegend=cell == (1, 1))
    figure.add_trace(trace, row=cell[0], col=cell[1])


def k_selection_figure(k_selection: pd.DataFrame) -> go.Figure:
    if k_selection.empty:
        return no_data_figure("the cluster_k_selection table is empty")
    frame = k_selection.sort_values("k")
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "Inertia: lower is tighter; look for the bend",
            "Silhouette: higher is better separated",
        ),
        horizontal_spacing=0.1,
    )
    chosen = frame[frame["is_chosen"].astype(bool)]
    elbow = frame[frame["is_elbow"].astype(bool)]
    ineligible = frame[~frame["is_eligible"].astype(bool)]
    for column, metric, colour in ((1, "inertia", "#2563eb"), (2, "silhouette", "#7c3aed")):
        figure.add_trace(
            go.Scatter(
                x=frame["k"],
                y=frame[metric],
                mode="lines+markers",
                name=metric.capitalize(),
                line={"color": colour, "width": 2},
                marker={"size": 8},
                hovertemplate="k=%{x}<br>" + metric + "=%{y:,.3f}<extra></extra>",
            ),
            row=1,
            col=column,
        )
        marks = (
            (ineligible, "k leaving a cluster below the minimum share", "x", "#9ca3af", 12),
            (elbow, "Elbow", "diamond", "#d97706", 16),
            (chosen, "Chosen k", "star", "#dc2626", 20),
        )
        for rows, label, symbol, mark_colour, size in marks:
            if rows.empty:
                continue
            marker = {"symbol": symbol, "size": size, "color": mark_colour}
            trace = go.Scatter(x=rows["k"], y=rows[metric], mode="markers", marker=marker)
            trace.hovertemplate = label + ": k=%{x}<extra></extra>"
            _add_to_panel(figure, trace, label, label, (1, column))
    for rows, label, colour, position in (
        (chosen, "chosen", "#dc2626", "top right"),
        (elbow, "elbow", "#d97706", "bottom right"),
    ):
        if not rows.empty:
            k = int(rows["k"].iloc[0])
            for column in (1, 2):
                figure.add_vline(
                    x=k,
                    line={"dash": "dot", "color": colour, "width": 1.5},
                    annotation_text=f"{label} k = {k}",
                    annotation_position=position,
                    annotation_font={"color": colour, "size": 12},
                    row=1,
                    col=column,
                )
    figure.update_xaxes(title_text="number of clusters k", dtick=1)
    return _layout(figure, 420)


def projection_figure(projection: Projection, clusters: list[str]) -> go.Figure:
    points = projection.points
    if points.empty:
        return no_data_figure("fewer than three customers to project")
    names = points["cluster_name"].fillna("Unassigned")
    order = [c for c in clusters if c in set(names)] + sorted(set(names) - set(clusters))
    figure = go.Figure()
    for index, name in enumerate(order):
        rows = points[names == name]
        figure.add_trace(
            go.Scatter(
                x=rows["pc1"],
                y=rows["pc2"],
                mode="markers",
                name=f"{name} ({len(rows):,})",
                marker={
                    "size": 6,
                    "opacity": 0.65,
                    "color": CLUSTER_PALETTE[index % len(CLUSTER_PALETTE)],
                    "line": {"width": 0},
                },
                customdata=rows[["customer_id", "recency_days", "frequency", "monetary"]],
                hovertemplate=(
                    "customer %{customdata[0]}<br>" + html.escape(name) + "<br>"
                    "%{customdata[1]} days since last order<br>%{customdata[2]} orders<br>"
                    "spend %{customdata[3]:,.2f}<extra></extra>"
                ),
            )
        )
    axis_titles = []
    for index, component in enumerate(("pc1", "pc2")):
        share = projection.explained[index]
        title = f"PC{index + 1}" + (f" ({share:.0%} of variance)" if np.isfinite(share) else "")
        direction = describe_component(projection.loadings.loc[component])
        axis_titles.append(title + (f"<br><sup>higher = {direction}</sup>" if direction else ""))
    figure.update_xaxes(title_text=axis_titles[0], zeroline=False)
    figure.update_yaxes(title_text=axis_titles[1], zeroline=False)
    return _layout(
        figure,
        560,
        legend={"orientation": "v", "y": 1, "x": 1.02, "title": {"text": "cluster (customers)"}},
        margin={"l": 80, "r": 30, "t": 30, "b": 70},
    )


def projection_note(projection: Projection) -> str:
    shown, population = len(projection.points), projection.population
    if not shown:
        return ""
    who = (
        f"{shown:,} of {population:,} customers shown (seeded random sample, seed "
        f"{projection.random_state})"
        if shown < population
        else f"All {population:,} customers shown"
    )
    return f"{who}. Axes: principal components of standardised log1p(recency days, orders, spend)."


def segments_figure(segments: pd.DataFrame) -> go.Figure:
    panels = [("RFM segments", "rfm_segment"), ("K-Means clusters", "cluster")]
    frames = [segment_shares(segments, kind) for _, kind in panels]
    if all(frame.empty for frame in frames):
        return no_data_figure("the segment_summary table is empty")
    # Row heights follow the number of bars, so a bar is equally thick in both panels.
    sizes = [max(len(frame), 1) for frame in frames]
    figure = make_subplots(
        rows=2,
        cols=1,
        subplot_titles=[t for t, _ in panels],
        row_heights=sizes,
        shared_xaxes=True,
        vertical_spacing=0.12 * 12 / (sum(sizes) + 4),
    )
    # Revenue first: grouped horizontal bars stack upwards, so customers read first.
    measures = (("revenue_share", "Share of revenue"), ("customer_share", "Share of customers"))
    for row, frame in enumerate(frames, start=1):
        for measure, label in measures:
            _add_to_panel(
                figure,
                go.Bar(
                    y=frame["segment_name"],
                    x=frame[measure],
                    orientation="h",
                    marker={"color": SHARE_COLOURS[measure]},
                    text=[_share_label(v) for v in frame[measure]],
                    textposition="outside",
                    cliponaxis=False,
                    customdata=np.column_stack([frame["customers"], frame["revenue"]]),
                    hovertemplate="%{y}<br>" + label + ": %{x:.1%}"
                    "<br>%{customdata[0]:,} customers, revenue %{customdata[1]:,.0f}"
                    "<extra></extra>",
                ),
                label,
                measure,
                (row, 1),
            )
    top = max(
        float(frame[["customer_share", "revenue_share"]].max().max())
        for frame in frames
        if len(frame)
    )
    figure.update_xaxes(tickformat=".0%", range=[0, min(1.0, top * 1.15) or 1])
    figure.update_xaxes(title_text="share of all customers / of all revenue", row=2, col=1)
    return _layout(
        figure,
        170 + 36 * sum(sizes),
        barmode="group",
        bargap=0.25,
        legend={
            "orientation": "h",
            "y": 1.02,
            "x": 0,
            "yanchor": "bottom",
            "traceorder": "reversed",
        },
        margin={"l": 150, "r": 40, "t": 70, "b": 50},
    )


def _share_label(share: float) -> str:
    # "0%" next to a visible bar looks like an error; small shares get a decimal.
    if 0 < share < 0.001:
        return "<0.1%"
    return f"{share:.1%}" if 0 < share < 0.01 else f"{share:.0%}"


def rfm_heatmap_figure(matrix: pd.DataFrame) -> go.Figure:
    if matrix.empty:
        return no_data_figure("no customer has an R and FM score")
    total = matrix.to_numpy().sum()
    figure = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=[str(c) for c in matrix.columns],
            y=[str(r) for r in matrix.index],
            text=matrix.to_numpy(),
            texttemplate="%{text:,}",
            textfont={"size": 14},
            customdata=matrix.to_numpy() / total if total else matrix.to_numpy(),
            colorscale="Blues",
            colorbar={"title": {"text": "customers"}},
            hovertemplate="R %{y}, FM %{x}<br>%{z:,} customers (%{customdata:.1%})<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    figure.update_xaxes(title_text="FM score (orders and spend; 5 = most)", type="category")
    figure.update_yaxes(title_text="R score (5 = most recent)", type="category")
    return _layout(figure, 520, margin={"l": 70, "r": 30, "t": 30, "b": 60})


def crosstab_matrix(crosstab: pd.DataFrame, segment_order: list[str]) -> pd.DataFrame:
    """Customers per RFM segment (rows, in `segment_order`) and cluster (columns, by id)."""
    if crosstab.empty:
        return pd.DataFrame()
    clusters = crosstab.sort_values("cluster_id")["cluster_name"].drop_duplicates().tolist()
    matrix = crosstab.pivot_table(
        index="rfm_segment", columns="cluster_name", values="customers", aggfunc="sum", fill_value=0
    )
    rows = [s for s in segment_order if s in matrix.index] + [
        s for s in matrix.index if s not in segment_order
    ]
    return matrix.reindex(index=rows, columns=clusters).fillna(0).astype(int)


def _count_heatmap(matrix: pd.DataFrame, **options) -> go.Heatmap:
    """Customer counts per cell, each cell labelled with its count."""
    values = matrix.to_numpy()
    return go.Heatmap(
        z=values,
        x=list(matrix.columns),
        y=list(matrix.index),
        text=values,
        texttemplate="%{text:,}",
        **options,
    )


def crosstab_figure(matrix: pd.DataFrame) -> go.Figure:
    if matrix.empty:
        return no_data_figure("the segment_cluster_crosstab table is empty")
    values = matrix.to_numpy()
    row_totals = values.sum(axis=1, keepdims=True)
    figure = go.Figure(
        _count_heatmap(
            matrix,
            customdata=np.divide(
                values, row_totals, where=row_totals > 0, out=np.zeros(values.shape)
            ),
            colorscale="Greens",
            colorbar={"title": {"text": "customers"}},
            hovertemplate="%{y} in %{x}<br>%{z:,} customers (%{customdata:.0%} of the segment)"
            "<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    figure.update_xaxes(title_text="cluster", type="category")
    figure.update_yaxes(title_text="RFM segment", type="category", autorange="reversed")
    return _layout(
        figure, 80 + 34 * len(matrix.index), margin={"l": 150, "r": 30, "t": 30, "b": 60}
    )


def cleaning_figure(cleaning: pd.DataFrame) -> go.Figure:
    if cleaning.empty:
        return no_data_figure("the cleaning_summary table is empty")
    frame = cleaning.sort_values(["precedence", "reason_code"], kind="stable")
    frame = frame.assign(
        label=[short_rule(r) or c for r, c in zip(frame["rule"], frame["reason_code"])]
    )
    order = list(frame["label"])
    figure = go.Figure()
    statuses = list(STATUS_COLOURS) + sorted(set(frame["line_status"]) - set(STATUS_COLOURS))
    for status in statuses:
        rows = frame[frame["line_status"] == status]
        if rows.empty:
            continue
        labels = [
            f"{int(n):,} ({share:.1%})"
            for n, share in zip(rows["lines"], rows["line_share"].fillna(0), strict=True)
        ]
        figure.add_trace(
            go.Bar(
                y=rows["label"],
                x=rows["lines"],
                orientation="h",
                name=status,
                marker={"color": STATUS_COLOURS.get(status, "#6b7280")},
                text=labels,
                textposition="outside",
                cliponaxis=False,
                customdata=rows[["rule"]],
                hovertemplate="%{customdata[0]}<br>%{x:,} lines<extra></extra>",
            )
        )
    top = float(pd.to_numeric(frame["lines"]).max() or 1)
    figure.update_xaxes(title_text="lines", range=[0, top * 1.25])
    figure.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed")
    return _layout(
        figure,
        120 + 30 * len(order),
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom", "title": {"text": ""}},
        margin={"l": 420, "r": 30, "t": 40, "b": 50},
    )


def history_figure(history: pd.DataFrame) -> go.Figure:
    """Customers per RFM segment at each snapshot (mart segment_history)."""
    rows = history[history["segment_type"] == "rfm_segment"] if not history.empty else history
    if rows.empty or rows["snapshot_date"].nunique() < 2:
        return no_data_figure("no earlier snapshots are kept yet", height=160)
    figure = go.Figure()
    for name, group in rows.groupby("segment_name", sort=True):
        figure.add_trace(
            go.Scatter(
                x=group["snapshot_date"], y=group["customers"], mode="lines+markers", name=name
            )
        )
    figure.update_yaxes(title_text="customers")
    return _layout(figure, 420)


NEW_CUSTOMERS = "(new customer)"


def last_migration_matrix(migration: pd.DataFrame, segment_order: list[str]) -> pd.DataFrame:
    """Customers from-segment (rows, new customers last) x to-segment (columns) between the
    last two snapshots, RFM segments in playbook order; empty without two snapshots."""
    if migration.empty:
        return pd.DataFrame()
    rows = migration[migration["segment_type"] == "rfm_segment"]
    rows = rows[rows["snapshot_date"] == rows["snapshot_date"].max()]
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(from_segment=rows["from_segment"].fillna(NEW_CUSTOMERS))
    matrix = rows.pivot_table(
        index="from_segment", columns="to_segment", values="customers", aggfunc="sum", fill_value=0
    )
    seen = set(matrix.index) | set(matrix.columns)
    order = [s for s in segment_order if s in seen] + sorted(seen - set(segment_order))
    order = [s for s in order if s != NEW_CUSTOMERS]
    matrix = matrix.reindex(index=order + [NEW_CUSTOMERS], columns=order, fill_value=0)
    return matrix.loc[matrix.sum(axis=1) > 0].astype(int)


def migration_figure(matrix: pd.DataFrame, title: str = "") -> go.Figure:
    if matrix.empty:
        return no_data_figure("no two snapshots to compare yet", height=160)
    figure = go.Figure(
        _count_heatmap(
            matrix,
            colorscale="Blues",
            colorbar={"title": {"text": "customers"}},
            hovertemplate="%{y} → %{x}<br>%{z:,} customers<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    figure.update_xaxes(title_text=title or "segment now", type="category")
    figure.update_yaxes(title_text="segment before", type="category", autorange="reversed")
    return _layout(
        figure, 100 + 34 * len(matrix.index), margin={"l": 170, "r": 30, "t": 30, "b": 90}
    )


def migration_note(migration: pd.DataFrame) -> str:
    if migration.empty:
        return ""
    last = migration[migration["snapshot_date"] == migration["snapshot_date"].max()]
    return (
        f"From the snapshot of {pd.Timestamp(last['previous_snapshot_date'].iloc[0]):%d %b %Y} "
        f"to that of {pd.Timestamp(last['snapshot_date'].iloc[0]):%d %b %Y}; the diagonal "
        "holds the customers who kept their segment."
    )


def moves_html(moves: pd.DataFrame, currency: str, n: int = 15) -> str:
    if moves.empty:
        return (
            "<p>No customer dropped from a valuable segment to an at-risk one "
            "in the last period.</p>"
        )
    total = moves["value_at_stake"].sum()
    intro = (
        f"<p>{len(moves):,} customers dropped from a valuable segment to an at-risk one in the "
        f"last period, {money(total, currency)} of past spend at stake"
        f"{f'; the {n} most valuable' if len(moves) > n else ''}:</p>"
    )
    return intro + table_html(
        moves.sort_values("value_rank").head(n),
        [
            ("customer_id", "Customer", str),
            ("previous_rfm_segment", "Was", str),
            ("rfm_segment", "Is now", str),
            ("recency_days", "Days since last order", "{:,}".format),
            ("value_at_stake", f"Value at stake ({currency})", "{:,.2f}".format),
            ("recommended_action", "What to do", str),
        ],
        "moves-table",
    )


def stability_figure(stability: pd.DataFrame) -> go.Figure:
    """Per pair of consecutive snapshots: the share who kept their segment and the ARI."""
    if stability.empty:
        return no_data_figure("no two snapshots to compare yet", height=160)
    figure = go.Figure()
    for column, name, dash in (
        ("rfm_segment_kept_share", "kept their RFM segment", "solid"),
        ("cluster_kept_share", "kept their cluster", "solid"),
        ("rfm_segment_ari", "ARI, RFM segments", "dot"),
        ("cluster_ari", "ARI, clusters", "dot"),
    ):
        figure.add_trace(
            go.Scatter(
                x=stability["snapshot_date"],
                y=stability[column],
                mode="lines+markers",
                name=name,
                line={"dash": dash},
            )
        )
    figure.update_yaxes(title_text="share / adjusted Rand index", range=[0, 1.05])
    return _layout(figure, 380)


def settings_of(data: WarehouseData) -> dict:
    """The settings row as a dict; defaults when the table is missing (an old warehouse)."""
    settings = data.frames["settings"]
    if settings.empty:
        return {"currency": "", "high_returner_threshold": None, "control_group_share": None}
    return settings.iloc[0].to_dict()


def _esc(value) -> str:
    return html.escape(
        "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    )


def _number(value, decimals: int = 0) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{value:,.{decimals}f}"


def playbook_html(rows: pd.DataFrame, kind: str, currency: str) -> str:
    """One card per segment: description, the numbers, the action, who to contact."""
    if rows.empty:
        return '<p class="empty">No data: no customer is in a segment yet.</p>'
    cards = []
    for row in rows.itertuples(index=False):
        facts = [
            ("customers", "Customers", f"{row.customers:,}", f"{row.customer_share:.1%} of all"),
            ("revenue_share", "Revenue share", f"{row.revenue_share:.1%}", "of all spend"),
            (
                "median_recency_days",
                "Last order",
                _number(row.median_recency_days),
                "days ago (median)",
            ),
            (
                "median_frequency",
                "Orders",
                _number(row.median_frequency, 1),
                "per customer (median)",
            ),
            (
                "median_monetary",
                "Spend",
                money(row.median_monetary, currency),
                "per customer (median)",
            ),
            ("contactable", "Contactable", f"{row.contactable:,}", "outside the control group"),
        ]
        facts_html = "".join(
            f'<div class="fact"><dt>{label}</dt><dd data-field="{field}">{_esc(value)}</dd>'
            f'<div class="detail">{_esc(detail)}</div></div>'
            for field, label, value, detail in facts
        )
        cards.append(
            f'<article class="segment" data-kind="{kind}" data-segment="{_esc(row.segment_name)}">'
            f"<h3>{_esc(row.segment_name)}</h3>"
            f'<p class="description">{_esc(row.description)}</p>'
            f'<dl class="facts">{facts_html}</dl>'
            f'<p class="action"><strong>Do:</strong> '
            f'<span data-field="recommended_action">{_esc(row.recommended_action)}</span></p>'
            "</article>"
        )
    return f'<div class="playbook" id="playbook-{kind}">{"".join(cards)}</div>'


def table_html(frame: pd.DataFrame, columns: list[tuple[str, str, object]], table_id: str) -> str:
    """A plain table; `columns` are (column, header, formatter) triples."""
    head = "".join(f"<th>{_esc(header)}</th>" for _, header, _ in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td data-field="{column}">{_esc(fmt(row[column]))}</td>' for column, _, fmt in columns
        )
        + "</tr>"
        for _, row in frame.iterrows()
    )
    if frame.empty:
        body = f'<tr><td colspan="{len(columns)}">No data</td></tr>'
    return (
        f'<table class="data" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def returns_html(
    overview: dict, by_segment: pd.DataFrame, top: pd.DataFrame, settings: dict, currency: str
) -> str:
    threshold = settings.get("high_returner_threshold")
    rule = f"returned at least {threshold:.0%} of what they bought" if threshold else "return most"
    cards = "".join(
        [
            _card(
                "High returners",
                f"{overview['high_returners']:,}",
                f"{overview['high_returner_share']:.1%} of customers; {rule}",
            ),
            _card(
                "Value returned",
                money(overview["returned_value"], currency, 0),
                f"{overview['returned_share']:.1%} of gross spend (returns matched to purchases)",
            ),
            _card(
                "High returners in the campaign list",
                f"{overview['high_returners_contactable']:,}",
                "outside the control group: check offers before sending",
            ),
        ]
    )
    segment_table = table_html(
        by_segment,
        [
            ("segment_name", "RFM segment", str),
            ("customers", "Customers", "{:,}".format),
            ("high_returners", "High returners", "{:,}".format),
            ("return_rate", "Return rate", lambda v: "n/a" if pd.isna(v) else f"{v:.1%}"),
        ],
        "returns-by-segment",
    )
    top_table = table_html(
        top,
        [
            ("customer_id", "Customer", str),
            ("country", "Country", lambda v: "" if v is None or pd.isna(v) else str(v)),
            ("rfm_segment", "RFM segment", str),
            ("monetary", f"Bought ({currency})", "{:,.2f}".format),
            ("matched_return_amount", f"Returned ({currency})", "{:,.2f}".format),
            ("return_rate", "Return rate", "{:.1%}".format),
        ],
        "top-high-returners",
    )
    return (
        f'<div class="headline" id="returns-cards">{cards}</div>'
        f'<div class="two-columns"><div><h3>By RFM segment</h3>{segment_table}</div>'
        f"<div><h3>The 10 largest returners</h3>{top_table}</div></div>"
    )


def campaign_html(audience: pd.DataFrame, settings: dict) -> str:
    if audience.empty:
        return '<p class="empty">No data: the campaign list is empty.</p>'
    total = int(audience["customers"].sum())
    control = int(audience.loc[audience["is_control_group"].astype(bool), "customers"].sum())
    share = settings.get("control_group_share")
    share_text = f"{share:.0%} of each segment" if share is not None else "a share of each segment"
    cards = "".join(
        [
            _card("Campaign list", f"{total:,}", "every customer with a recommended action"),
            _card("Contact", f"{total - control:,}", "outside the control group"),
            _card(
                "Control group",
                f"{control:,}",
                f"held out: {share_text}, the same on every rebuild",
            ),
        ]
    )
    return (
        f'<div class="headline" id="campaign-cards">{cards}</div>'
        "<p>Send each customer the action of their segment, leave the control group out, and "
        "compare the two groups' purchases afterwards: the difference is what the campaign "
        "earned. The list is the <code>campaign_audience</code> table of the warehouse, also "
        "downloadable filtered by segment, cluster and country from the dashboard.</p>"
    )


def _signed_share(value, digits: int = 1, missing: str = "") -> str:
    """A signed percentage (+3.2%); `missing` for no value."""
    return missing if value is None or pd.isna(value) else f"{value:+.{digits}%}"


def lifetime_value_html(backtest: pd.DataFrame, fits: pd.DataFrame, churn: pd.DataFrame) -> str:
    """The churn-risk list and the backtest per calibration frequency group."""
    if backtest.empty or fits.empty:
        return '<p class="empty">No data: the lifetime-value marts are empty.</p>'
    as_of = fits[fits["fit_scope"] == "as_of"]
    problem = as_of["fit_problem"].iloc[0] if len(as_of) else None
    at_risk = int(churn["customers"].sum()) if not churn.empty else 0
    control = (
        int(churn.loc[churn["is_control_group"].astype(bool), "customers"].sum())
        if not churn.empty
        else 0
    )
    organic = backtest[backtest["population"] == "organic"]
    treated = backtest[(backtest["population"] == "campaign_treated") & backtest["is_total"]]
    total = organic[organic["is_total"].astype(bool)]
    error = total["relative_error"].iloc[0] if len(total) else np.nan
    first = backtest.iloc[0]
    cards = "".join(
        [
            _card("Churn-risk list", f"{at_risk:,}", "valuable customers likely to have left"),
            _card("Contact", f"{at_risk - control:,}", "outside the control group"),
            _card(
                "Backtest error",
                _signed_share(error) or "n/a",
                "predicted against actual purchases in the holdout period"
                + (f" (chance allows {_error_range(total.iloc[0])})" if len(total) else ""),
            ),
        ]
    )
    warning = (
        f'<p class="warning">The lifetime-value fit could not be made: {_esc(problem)}</p>'
        if isinstance(problem, str) and problem
        else ""
    )
    period = (
        f"Fitted on the purchases before {pd.Timestamp(first['calibration_date']):%Y-%m-%d}, "
        f"the model predicted the {int(first['holdout_days'])} days up to "
        f"{pd.Timestamp(first['as_of_date']):%Y-%m-%d}; "
    )
    table = table_html(
        organic.assign(error_range=organic.apply(_error_range, axis=1)),
        [
            ("frequency_group_label", "Repeat purchases before the split", str),
            ("customers", "Customers", "{:,}".format),
            ("predicted_purchases", "Predicted purchases", lambda v: _number(v, 1)),
            ("actual_purchases", "Actual purchases", lambda v: _number(v, 0)),
            ("error", "Error", lambda v: _number(v, 1)),
            ("relative_error", "Error share", _signed_share),
            ("error_range", "Chance alone allows", str),
        ],
        "clv-backtest-table",
    )
    campaign = (
        f"<p>{int(treated['customers'].iloc[0]):,} customers a campaign treated during the "
        f"holdout bought {_number(treated['actual_purchases'].iloc[0], 0)} times against "
        f"{_number(treated['predicted_purchases'].iloc[0], 1)} predicted "
        f"({_signed_share(treated['relative_error'].iloc[0], missing='n/a')}): what a purchase "
        "history cannot foresee, the campaign's effect (see the campaign results). They are "
        "left out of the check above.</p>"
        if len(treated)
        else ""
    )
    return (
        f'{warning}<div class="headline" id="clv-cards">{cards}</div>'
        "<p>The churn-risk list is the <code>churn_risk_audience</code> table: the customers "
        "with the highest spend whose probability of still being a customer has dropped; "
        "predicted CLV per customer is in <code>customers</code>. Whether to trust those "
        f"numbers: {period}per group of customers by their repeat purchases, predicted against "
        "what they actually bought, with the range chance alone allows at that many customers "
        "(a miss inside it is no evidence against the model).</p>" + table + campaign
    )


def _error_range(row) -> str:
    """The sampling interval of a backtest row's relative error, as "-32.8% to -8.8%"."""
    lower, upper = row["relative_error_lower"], row["relative_error_upper"]
    if pd.isna(lower) or pd.isna(upper):
        return "n/a"
    return f"{_signed_share(lower)} to {_signed_share(upper)}"


CAMPAIGN_METRICS = {
    "revenue_per_customer": ("Revenue per customer", "money"),
    "conversion_rate": ("Bought in the window", "share"),
    "orders_per_customer": ("Orders per customer", "number"),
    "average_order_value": ("Average order value", "money"),
    "repeat_purchase_rate": ("Bought twice or more", "share"),
    "returned_amount_per_customer": ("Returned per customer", "money"),
}


def _campaign_value(value, kind: str, currency: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "money":
        return money(value, currency)
    return f"{value:,.2f}"


def campaign_results_html(summary: pd.DataFrame, results: pd.DataFrame, currency: str) -> str:
    """Per campaign: its audience, the verdict on revenue and every metric with its interval."""
    if summary.empty:
        return (
            '<p class="empty">No data: no campaign is defined. Add one to '
            "<code>seeds/campaigns.csv</code> and <code>seeds/campaign_targets.csv</code> "
            "and build.</p>"
        )
    blocks = []
    for campaign in summary.itertuples():
        rows = results[results["campaign_id"] == campaign.campaign_id]
        revenue = ""
        if not pd.isna(campaign.incremental_revenue):
            revenue = (
                f"{money(campaign.incremental_revenue, currency, 0)} "
                f"(95% interval {money(campaign.incremental_revenue_lower, currency, 0)} to "
                f"{money(campaign.incremental_revenue_upper, currency, 0)})"
            )
        cards = "".join(
            [
                _card(
                    "Audience",
                    f"{campaign.treated_customers:,} + {campaign.control_customers:,}",
                    f"treated + control, segments of {campaign.audience_snapshot_date}",
                ),
                _card("Verdict", str(campaign.conclusion), "on revenue per customer"),
                _card("Incremental revenue", revenue or "–", str(campaign.measurement_status)),
            ]
        )
        table_rows = "".join(
            f'<tr data-metric="{_esc(metric)}"><td>{_esc(label)}</td>'
            f"<td>{_esc(_campaign_value(row.treated_value, kind, currency))}</td>"
            f"<td>{_esc(_campaign_value(row.control_value, kind, currency))}</td>"
            f'<td data-field="relative_lift">{_esc(_signed_share(row.relative_lift, 0, "–"))}</td>'
            f"<td>{_esc(_signed_share(row.relative_lift_lower, 0, '–'))} to "
            f"{_esc(_signed_share(row.relative_lift_upper, 0, '–'))}</td>"
            f"<td>{_esc('–' if pd.isna(row.p_value) else f'{row.p_value:.3f}')}</td>"
            f"<td>{_esc(_signed_share(row.minimum_detectable_relative_lift, 0, '–'))}</td>"
            f'<td data-field="conclusion">{_esc(row.conclusion)}</td></tr>'
            for metric, (label, kind) in CAMPAIGN_METRICS.items()
            for row in rows[rows["metric"] == metric].itertuples()
        )
        blocks.append(
            f'<article class="campaign" id="campaign-{_esc(campaign.campaign_id)}">'
            f"<h3>{_esc(campaign.campaign_name)} ({campaign.start_date} to {campaign.end_date}, "
            f"measured until {campaign.measured_until})</h3>"
            f'<div class="headline">{cards}</div>'
            '<table class="data"><thead><tr><th>Metric</th><th>Treated</th><th>Control</th>'
            "<th>Lift</th><th>95% interval</th><th>p-value</th><th>Detectable lift</th>"
            f"<th>Conclusion</th></tr></thead><tbody>{table_rows}</tbody></table></article>"
        )
    return "".join(blocks)


def cleaning_table(cleaning: pd.DataFrame, currency: str) -> pd.DataFrame:
    rows = cleaning[pd.to_numeric(cleaning["lines"]) > 0].sort_values("precedence")
    return rows.assign(
        status=rows["line_status"]
        .map({"clean": "used", "returned": "return, netted", "quarantined": "set aside"})
        .fillna(rows["line_status"])
    )


def build_sections(data: WarehouseData) -> tuple[list[Section], list[Section]]:
    """The playbook sections, and the method appendix (shown collapsed)."""
    frames = data.frames
    customers, segments, audience = frames["customers"], frames["segments"], frames["audience"]
    k_selection = frames["k_selection"]
    settings = settings_of(data)
    currency = settings.get("currency") or ""
    projection = pca_projection(customers)
    k_note = ""
    if not k_selection.empty:
        k_note = f"Rule: {k_selection['selection_rule'].iloc[0]}."
        extra = k_selection["note"].iloc[0]
        k_note += f" {extra}." if isinstance(extra, str) and extra else ""
    clusters = frames["clusters"]
    cluster_descriptions = dict(zip(clusters["cluster_name"], clusters["description"]))
    rfm_rows = playbook(
        segments,
        "rfm_segment",
        rfm_descriptions(customers),
        contactable_counts(audience, "rfm_segment"),
    )
    cluster_rows = playbook(
        segments, "cluster", cluster_descriptions, contactable_counts(audience, "cluster_name")
    )
    history = frames["history"]
    money_note = f"Money in {currency}." if currency else ""
    cleaning = frames["cleaning"]
    main = [
        Section(
            "playbook-rfm",
            "What to do with each RFM segment",
            "Segments by recency, frequency and spend, the most valuable first: who they are, "
            "what they are worth, and the action to take with the customers you can contact.",
            None,
            money_note,
            playbook_html(rfm_rows, "rfm_segment", currency),
        ),
        Section(
            "playbook-clusters",
            "What to do with each customer cluster",
            "Groups found by clustering the same three measures; they cut across the RFM segments "
            "and suit broader programmes (service levels, paid-media exclusions).",
            None,
            money_note,
            playbook_html(cluster_rows, "cluster", currency),
        ),
        Section(
            "crosstab",
            "How the RFM segments and the clusters relate",
            "Each row is an RFM segment split by cluster: a segment that falls mostly into one "
            "cluster is described the same way by both; one spread over several holds customers "
            "the clusters tell apart. Each customer's single action follows the rule in the "
            "playbook above.",
            crosstab_figure(
                crosstab_matrix(frames["crosstab"], rfm_rows["segment_name"].tolist())
                if "segment_name" in rfm_rows
                else pd.DataFrame()
            ),
        ),
        Section(
            "segments",
            "Segment sizes and revenue shares",
            "Segments whose green bar is longer than their grey bar bring more revenue than "
            "their head count suggests; those are where retention spend pays off.",
            segments_figure(segments),
        ),
        Section(
            "returns",
            "Who returns too much",
            "High returners cost margin: keep them out of discount-led campaigns and look at what "
            "they send back before offering more.",
            None,
            money_note,
            returns_html(
                returns_overview(customers, audience),
                returns_by_segment(customers, segments),
                top_high_returners(customers),
                settings,
                currency,
            ),
        ),
        Section(
            "campaign",
            "The campaign list",
            "Everyone with a purchase is on the list once, with their segment's action; a stable "
            "control group measures what campaigns change.",
            None,
            "",
            campaign_html(audience, settings),
        ),
        Section(
            "lifetime-value",
            "Who is about to churn, and can the predictions be trusted",
            "Predicted purchases and lifetime value come from a BG/NBD and Gamma-Gamma model; the "
            "backtest below fits it on the earlier purchases and compares its predictions with "
            "what customers bought afterwards.",
            None,
            "Purchases are days with positive net spend.",
            lifetime_value_html(frames["clv_backtest"], frames["clv_fit"], frames["churn_risk"]),
        ),
        Section(
            "campaign-results",
            "Did the campaigns work?",
            "Each campaign's treated customers against its control group over the campaign and "
            'its follow-up: a lift whose interval excludes 0 is real; "underpowered" means the '
            "test was too small to tell, not that the campaign did nothing.",
            None,
            "Welch 95% intervals; the detectable lift is what a test this size finds 80% of the "
            "time. " + money_note,
            campaign_results_html(frames["campaign_summary"], frames["campaign_results"], currency),
        ),
        Section(
            "history",
            "Segment sizes over time",
            "How many customers each segment held at each snapshot: a growing At Risk or "
            "Hibernating segment is the earliest warning.",
            history_figure(history),
            "" if not history.empty else "Appears once the warehouse keeps earlier snapshots.",
        ),
        Section(
            "migration",
            "Who moved between segments in the last period",
            "Each row is where customers were at the previous snapshot, each column where they "
            "are now: off-diagonal cells are moves; the list below is who slipped from a "
            "valuable segment and is worth a call before they are lost.",
            migration_figure(
                last_migration_matrix(
                    frames["migration"],
                    rfm_rows["segment_name"].tolist() if "segment_name" in rfm_rows else [],
                )
            ),
            migration_note(frames["migration"]),
            moves_html(frames["moves"], currency),
        ),
        Section(
            "stability",
            "Do the segments mean the same thing from one snapshot to the next",
            "High lines mean customers keep their segment and cluster from one snapshot to the "
            "next (ARI 1 = the same grouping, about 0 = no more alike than chance): the "
            "segmentation is stable enough to plan campaigns on.",
            stability_figure(frames["stability"]),
        ),
        Section(
            "distributions",
            "How recently, how often and how much customers buy",
            "Most customers sit in the first bars: few orders and modest spend; the long "
            "tails to the right are the customers worth protecting.",
            distributions_figure(customers),
            money_note,
        ),
        Section(
            "rfm-heatmap",
            "Recency against frequency and spend (R x FM)",
            "Top right are recent, frequent, high spenders; bottom right are valuable customers "
            "slipping away, the first candidates for a win-back campaign.",
            rfm_heatmap_figure(rfm_heatmap_matrix(customers)),
        ),
        Section(
            "cleaning",
            "What happened to the raw lines",
            "Only the green lines feed the segmentation; red lines were set aside for the "
            "reason shown, amber lines are returns netted against purchases.",
            cleaning_figure(cleaning),
            "",
            table_html(
                cleaning_table(cleaning, currency),
                [
                    ("rule", "Reason", str),
                    ("status", "What happened", str),
                    ("lines", "Lines", "{:,}".format),
                    ("line_share", "Share", "{:.1%}".format),
                    ("amount", f"Value ({currency})", "{:,.2f}".format),
                ],
                "cleaning-table",
            ),
        ),
    ]
    appendix = [
        Section(
            "k-selection",
            "How many customer clusters",
            "The red star is the number of clusters used; the orange diamond is where adding "
            "clusters stops paying off (the elbow of the inertia curve).",
            k_selection_figure(k_selection),
            k_note,
        ),
        Section(
            "projection",
            "Customers on a map: clusters",
            "Each dot is a customer placed by recency, frequency and spend combined into two "
            "axes; well separated colours mean the clusters describe really different customers.",
            projection_figure(projection, cluster_order(customers)),
            projection_note(projection),
        ),
    ]
    return main, appendix


# ---------------------------------------------------------------- HTML


def _card(label: str, value: str, detail: str = "") -> str:
    return str(TEMPLATES.get_template("_cards.html.j2").module.card(label, value, detail))


def headline_html(numbers: dict, contactable: int, currency: str) -> str:
    def count(value: int | None) -> str:
        return f"{value:,}" if value is not None else "n/a"

    customers = numbers["customers"]
    high = numbers["high_returners"]
    cards = [
        _card("Customers", count(customers), "with a clean purchase"),
        _card("Revenue", money(numbers["revenue"], currency, 0), "gross, before returns"),
        _card("Contactable", count(contactable), "campaign list outside the control group"),
        _card(
            "High returners",
            count(high),
            f"{high / customers:.1%} of customers" if customers else "",
        ),
        _card("As-of date", str(numbers["as_of_date"] or "n/a"), "recency counted from here"),
    ]
    return f'<div class="headline" id="headline">{"".join(cards)}</div>'


def figure_html(figure: go.Figure, div_id: str) -> str:
    # A fixed div id keeps the page byte-stable between runs on the same warehouse.
    return pio.to_html(
        figure,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        # Zoom buttons over a "No data" message only invite clicks that do nothing.
        config={**PLOTLY_CONFIG, "displayModeBar": bool(figure.data)},
        default_width="100%",
    )


def _section_view(section: Section) -> dict:
    """What the template's section block draws; body and graph are HTML already."""
    graph = figure_html(section.figure, f"{section.id}-graph") if section.figure else ""
    return {
        "id": section.id,
        "kind": "chart" if section.figure is not None else "table",
        "title": section.title,
        "reading": section.reading,
        "note": section.note,
        "body": Markup(section.body),
        "graph": Markup(graph),
    }


def render_page(
    sections: list[Section],
    appendix: list[Section],
    headline: str,
    subtitle: str,
    inputs: dict[str, str],
    missing_tables: list[str],
    plotlyjs: str,
    title_suffix: str = "",
) -> str:
    """The page from templates/report.html.j2 (its CSS and script beside it)."""
    return TEMPLATES.get_template("report.html.j2").render(
        sections=[_section_view(section) for section in sections],
        appendix=[_section_view(section) for section in appendix],
        headline=Markup(headline),
        subtitle=subtitle,
        inputs=inputs,
        missing_tables=missing_tables,
        plotlyjs=Markup(plotlyjs),
        title_suffix=title_suffix,
    )


def build_report(data: WarehouseData, database: Path, generated_at: dt.datetime) -> str:
    from plotly.offline import get_plotlyjs

    frames = data.frames
    settings = settings_of(data)
    currency = settings.get("currency") or ""
    numbers = headline_numbers(
        frames["customers"], frames["k_selection"], frames["cleaning"], frames["settings"]
    )
    sections, appendix = build_sections(data)
    population = len(frames["customers"])
    modified = dt.datetime.fromtimestamp(database.stat().st_mtime, dt.UTC)
    as_of_source = ""
    if not frames["settings"].empty:
        as_of_source = (
            "configured"
            if bool(settings["as_of_date_is_configured"])
            else "the day after the last transaction"
        )
    inputs = {
        "Warehouse published": modified.strftime("%Y-%m-%d %H:%M UTC"),
        "Report generated": generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "As-of date": f"{numbers['as_of_date'] or 'n/a'}"
        + (f", {as_of_source}" if as_of_source else ""),
        "Currency": currency or "n/a",
        "Lines": f"{numbers['raw_lines']:,} read, {numbers['clean_lines']:,} clean purchases, "
        f"{numbers['returned_lines']:,} returns, {numbers['quarantined_lines']:,} set aside",
        "Clusters": f"k = {numbers['chosen_k']}" if numbers["chosen_k"] else "n/a",
        "Map sample": f"{min(population, PCA_SAMPLE_SIZE):,} of {population:,} customers, "
        f"seed {PCA_RANDOM_STATE}; PCA of standardised log1p(recency, frequency, monetary)",
        "Tables read": ", ".join(
            sorted(
                q.mart
                for name, q in QUERIES.items()
                if q.mart not in data.missing_tables and (not q.optional or not frames[name].empty)
            )
        ),
    }
    contactable = int(contactable_counts(frames["audience"], "rfm_segment").sum())
    as_of = numbers["as_of_date"]
    subtitle = f"Snapshot as of {as_of}" if as_of else "No as-of date: the warehouse holds no data"
    if as_of and currency:
        subtitle += f" · money in {currency}"
    return render_page(
        sections,
        appendix,
        headline_html(numbers, contactable, currency),
        subtitle,
        inputs,
        data.missing_tables,
        get_plotlyjs(),
        f" - {as_of}" if as_of else "",
    )


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.reporting.report", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=publish.published_path(),
        help="the DuckDB file dbt built (default: $SEGMENTATION_DUCKDB_PATH or %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: %(default)s")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    database: Path = args.database
    if not database.is_file():
        print(
            f"error: no warehouse at {database}; run `make build` first or pass --database",
            file=sys.stderr,
        )
        return 2
    try:
        data = read_warehouse(database)
    except duckdb.Error as error:
        # Typically a `dbt build` run by hand on this very file (holding the write lock):
        # `make build` publishes a new file instead and never locks the published one.
        print(
            f"error: cannot read {database}: {error}; if a `dbt build` writes this file, point "
            "--database (or SEGMENTATION_DUCKDB_PATH) at the warehouse `make build` published",
            file=sys.stderr,
        )
        return 2
    page = build_report(data, database, dt.datetime.now(dt.UTC))

    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a reader never sees half a report.
    partial = out.with_name(out.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    for table in data.missing_tables:
        print(f"warning: table {table} is missing from the warehouse", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
