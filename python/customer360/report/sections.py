"""The report's content: seven sections, each plot drawn from one query with its caption.

A plot whose tables are not built, or hold no rows, becomes a :class:`Missing` item that
says why, so the report works on a partial build.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from customer360.report import figures, prediction, queries
from customer360.report.figures import PALETTE
from customer360.report.queries import ATTRIBUTION_MODELS, ID_EVENTS, ReportSource


@dataclass(frozen=True)
class Plot:
    """One embedded figure."""

    key: str  # stable id, also the <img data-plot=...> attribute
    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Missing:
    """A plot that could not be drawn: its tables are not built, or they hold no rows."""

    key: str
    title: str
    reason: str


@dataclass(frozen=True)
class DataTable:
    """A small table of figures shown under a section's plots."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class Section:
    key: str
    title: str
    intro: str
    items: list[Plot | Missing] = field(default_factory=list)
    tables: list[DataTable] = field(default_factory=list)

    @property
    def plots(self) -> list[Plot]:
        return [i for i in self.items if isinstance(i, Plot)]

    @property
    def missing(self) -> list[Missing]:
        return [i for i in self.items if isinstance(i, Missing)]


def data_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> DataTable:
    return DataTable(tuple(header), tuple(tuple(r) for r in rows))


PlotMaker = Callable[[ReportSource], tuple[bytes, str] | str]


def item(
    src: ReportSource, key: str, title: str, tables: Sequence[str], make: PlotMaker
) -> Plot | Missing:
    """Draw one plot, or say why not: tables not built, or no rows to plot."""
    absent = src.missing(*tables)
    if absent:
        if src.schema is None:
            return Missing(key, title, f"not built: {', '.join(absent)} (no analyst/marts schema)")
        return Missing(key, title, "not built: " + ", ".join(f"{src.schema}.{t}" for t in absent))
    out = make(src)
    if isinstance(out, str):
        return Missing(key, title, out)
    png, caption = out
    return Plot(key, title, caption, png)


# ------------------------------------------------------------------ identity


def cluster_sizes(s: ReportSource) -> tuple[bytes, str] | str:
    sizes = queries.cluster_sizes(s)
    if sizes.empty:
        return "no customers in dim_customer"
    counts = queries.cluster_size_counts(sizes)
    caption = (
        f"{len(sizes):,} customers from {int(sizes.sum()):,} records; median cluster "
        f"{sizes.median():.0f}, 99th percentile {sizes.quantile(0.99):.0f}, largest "
        f"{sizes.max():,}; {(sizes == 1).mean():.1%} are single-record customers."
    )
    return figures.cluster_sizes(queries.CLUSTER_SIZE_LABELS, counts), caption


def links_per_type(s: ReportSource) -> tuple[bytes, str] | str:
    df, total = queries.links_per_type(s)
    if df.empty:
        return "no linked records in customer_source_map"
    png = figures.hbar(df["identifier_type"], df["records"], "resolved records linked by the type")
    caption = (
        f"Of {total:,} resolved records, how many each identifier type links to their "
        "customer's other records (a record linked by several types counts under each)."
    )
    return png, caption


def excluded(s: ReportSource) -> tuple[bytes, str] | str:
    df = queries.excluded_identifiers(s)
    if df.empty:
        return "no identifier was excluded by the guards (identity_audit is empty)"
    png = figures.hbar(
        df["label"], df["identifiers"], "excluded identifier values", color=PALETTE[3]
    )
    caption = (
        f"{int(df['identifiers'].sum()):,} identifier values (carried by "
        f"{int(df['records'].sum()):,} records) were not used to link, by type and reason: "
        "blocklisted junk such as test@test.com, or values seen on more people than the "
        "type allows."
    )
    return png, caption


def merges_splits(s: ReportSource) -> tuple[bytes, str] | str:
    pivot = queries.id_events_per_build(s)
    if pivot.empty:
        return "customer_id_history is empty"
    totals = {e: int(pivot[e].sum()) for e in ("minted", "merged", "split", "retired")}
    caption = (
        f"ID registry events per build ({len(pivot)} build(s) shown): "
        + ", ".join(f"{n:,} {e}" for e, n in totals.items())
        + ". Merged IDs keep resolving to their survivor through customer_id_history."
    )
    return figures.id_events(pivot, ID_EVENTS), caption


def identity_section(src: ReportSource) -> Section:
    section = Section(
        "identity",
        "Identity resolution",
        "How the source records were resolved into customers: cluster sizes, which "
        "identifier types link records, which identifiers the guards excluded, and how IDs "
        "were minted, merged and split build by build.",
    )
    section.items += [
        item(
            src,
            "identity-cluster-sizes",
            "Cluster size distribution",
            ["dim_customer"],
            cluster_sizes,
        ),
        item(
            src,
            "identity-links-per-type",
            "Links per identifier type",
            ["customer_source_map"],
            links_per_type,
        ),
        item(src, "identity-excluded", "Excluded junk identifiers", ["identity_audit"], excluded),
        item(
            src,
            "identity-merges-splits",
            "Merges and splits over time",
            ["customer_id_history"],
            merges_splits,
        ),
    ]
    return section


# ------------------------------------------------------------------ CLV


def clv_section(src: ReportSource) -> Section:
    section = Section(
        "clv",
        "Customer lifetime value",
        "Predicted CLV (BG/NBD purchases x Gamma-Gamma spend, discounted over the CLV "
        "horizon) of every customer with a purchase.",
    )

    def distribution(s: ReportSource) -> tuple[bytes, str] | str:
        clv = queries.clv_values(s)
        if clv.empty:
            return "no customer with a CLV (no purchases)"
        cap = float(clv.quantile(0.99))
        caption = (
            f"{len(clv):,} customers with a CLV; mean {clv.mean():,.2f}, median "
            f"{clv.median():,.2f}, 99th percentile {cap:,.2f}, total {clv.sum():,.0f}."
        )
        return figures.clv_distribution(clv, cap), caption

    def deciles(s: ReportSource) -> tuple[bytes, str] | str:
        df = queries.clv_deciles(s)
        if df.empty:
            return "no customer with a CLV (no purchases)"
        labels = [f"top {int(d) * 10}%" if d == 1 else f"decile {int(d)}" for d in df["decile"]]
        png = figures.hbar(
            labels,
            (df["share"] * 100).round(1),
            "share of total predicted CLV (%)",
            fmt="{:.1f}%",
            color=PALETTE[2],
        )
        caption = (
            f"Customers ranked by CLV in ten equal groups: the top decile holds "
            f"{df['share'].iloc[0]:.1%} of the predicted value (mean CLV "
            f"{df['avg_clv'].iloc[0]:,.2f} against {df['avg_clv'].iloc[-1]:,.2f} in the last)."
        )
        section.tables.append(
            data_table(
                ["decile", "customers", "mean CLV", "share of CLV", "historical net revenue"],
                [
                    [
                        lab,
                        f"{int(r.customers):,}",
                        f"{r.avg_clv:,.2f}",
                        f"{r.share:.1%}",
                        f"{r.net_revenue:,.0f}",
                    ]
                    for lab, r in zip(labels, df.itertuples(), strict=True)
                ],
            )
        )
        return png, caption

    section.items += [
        item(src, "clv-distribution", "CLV distribution", ["customer_clv"], distribution),
        item(src, "clv-deciles", "CLV by decile", ["customer_clv"], deciles),
    ]
    return section


# ------------------------------------------------------------------ churn


def churn_segments(s: ReportSource) -> tuple[bytes, str] | str:
    df = queries.churn_by_segment(s)
    if df.empty:
        return "no buying customer in customer_churn"
    n = int(df["customers"].sum())
    caption = f"{n:,} buying customers in {len(df)} segments, sorted by predicted churn risk."
    return figures.churn_segments(df), caption


def churn_section(src: ReportSource) -> Section:
    section = Section(
        "churn",
        "Churn by segment",
        "Buying customers by RFM segment, with the churn rate observed in the last complete "
        "window and the predicted risk for the next one.",
    )
    section.items.append(
        item(src, "churn-segments", "Churn by RFM segment", ["customer_churn"], churn_segments)
    )
    return section


# ------------------------------------------------------------------ journey


def funnel(s: ReportSource) -> tuple[bytes, str] | str:
    values = queries.journey_funnel(s)
    if not values[0]:
        return "customer_journey is empty"
    labels = ["customers", "with a touchpoint", "signed up", "bought", "bought again"]
    png = figures.hbar(labels, values, "customers", color=PALETTE[4])
    caption = (
        f"Of {values[0]:,} customers {values[3] / values[0]:.1%} bought at least once and "
        f"{values[4] / values[0]:.1%} bought again"
        + (f" ({values[4] / values[3]:.1%} of buyers)." if values[3] else ".")
    )
    return png, caption


def lifecycle(s: ReportSource) -> tuple[bytes, str] | str:
    df, as_of = queries.lifecycle_stages(s)
    if df.empty:
        return "customer_journey is empty"
    png = figures.hbar(df["lifecycle_stage"], df["customers"], "customers", color=PALETTE[4])
    caption = (
        f"Lifecycle stage of every customer as of {as_of:%Y-%m-%d}."
        if isinstance(as_of, datetime)
        else "Lifecycle stage of every customer."
    )
    return png, caption


def journey_section(src: ReportSource) -> Section:
    section = Section(
        "journey",
        "Customer journey",
        "The funnel from first contact to repeat purchase, and where customers are in the "
        "lifecycle.",
    )
    section.items += [
        item(src, "journey-funnel", "Journey funnel", ["customer_journey"], funnel),
        item(src, "journey-lifecycle", "Lifecycle stages", ["customer_journey"], lifecycle),
    ]
    return section


# ------------------------------------------------------------------ attribution


def attribution_section(src: ReportSource) -> Section:
    section = Section(
        "attribution",
        "Attribution by channel",
        "Order revenue credited to marketing channels under each attribution model "
        "(fct_order_attribution; orders without a marketing touch are 'direct/none').",
    )

    def by_channel(s: ReportSource) -> tuple[bytes, str] | str:
        df = queries.attribution_by_channel(s)
        if df.empty:
            return "fct_order_attribution is empty"
        total = float(df["linear"].sum())
        caption = (
            f"{total:,.0f} of order revenue distributed over {len(df)} channels; every model "
            "credits the same total, differently."
        )
        section.tables.append(
            data_table(
                ["marketing channel", *ATTRIBUTION_MODELS],
                [
                    [str(r["marketing_channel"])]
                    + [f"{float(r[m]):,.0f}" for m in ATTRIBUTION_MODELS]
                    for _, r in df.iterrows()
                ],
            )
        )
        return figures.attribution_by_channel(df, ATTRIBUTION_MODELS), caption

    section.items.append(
        item(
            src,
            "attribution-by-channel",
            "Attributed revenue by channel and model",
            ["fct_order_attribution"],
            by_channel,
        )
    )
    return section


def prediction_section(src: ReportSource) -> Section:
    """How good the churn scores and CLV models are (queries and figures in
    :mod:`customer360.report.prediction`)."""
    section = Section(
        "prediction",
        "How good are the predictions",
        "Churn scores on the time-based holdout of churn_model_metrics (gains and "
        "calibration for every score), the CLV purchase models on the holdout of "
        "clv_model_fit by calibration frequency, and the per-customer intervals.",
    )

    def frames(queries: dict[str, str], s: ReportSource) -> dict[str, pd.DataFrame]:
        refs = {
            t: s.ref(t)
            for t in ("churn_model_metrics", "clv_model_fit", "customer_clv")
            if s.has(t)
        }
        return {name: s.df(q.format(**refs)) for name, q in queries.items()}

    def gains(s: ReportSource) -> tuple[bytes, str] | str:
        f = frames({"d": prediction.CHURN_DECILES_QUERY, "s": prediction.CHURN_SUMMARY_QUERY}, s)
        return prediction.churn_gains_figure(f["d"], f["s"], figures.new_figure, figures.png)

    def calibration(s: ReportSource) -> tuple[bytes, str] | str:
        f = frames({"d": prediction.CHURN_DECILES_QUERY, "s": prediction.CHURN_SUMMARY_QUERY}, s)
        return prediction.churn_calibration_figure(f["d"], f["s"], figures.new_figure, figures.png)

    def holdout(s: ReportSource) -> tuple[bytes, str] | str:
        f = frames({"b": prediction.CLV_BUCKETS_QUERY, "o": prediction.CLV_OVERALL_QUERY}, s)
        return prediction.clv_holdout_figure(f["b"], f["o"], figures.new_figure, figures.png)

    def intervals(s: ReportSource) -> tuple[bytes, str] | str:
        f = frames({"c": prediction.CLV_INTERVALS_QUERY}, s)
        return prediction.clv_intervals_figure(f["c"], figures.new_figure, figures.png)

    section.items += [
        item(
            src,
            "churn-gains",
            "Churn scores: cumulative gains and lift",
            ["churn_model_metrics"],
            gains,
        ),
        item(
            src,
            "churn-calibration",
            "Churn scores: calibration",
            ["churn_model_metrics"],
            calibration,
        ),
        item(
            src,
            "clv-holdout-by-frequency",
            "CLV models: holdout fit by frequency",
            ["clv_model_fit"],
            holdout,
        ),
        item(
            src,
            "clv-intervals",
            "CLV: predicted purchases with 80% intervals",
            ["customer_clv"],
            intervals,
        ),
    ]
    return section


# ------------------------------------------------------------------ data used


def data_section(src: ReportSource) -> Section:
    """Which raw tables the build used (its project config) and which marts it left empty
    for want of their inputs: ``_publish_systems`` / ``_publish_skipped`` of a published
    file (customer360.coverage)."""
    from customer360.coverage import read_coverage

    section = Section(
        "data",
        "Data used",
        "The raw tables this build read, as declared in its project config "
        "(docs/bring-your-own-data.md), and the marts that are empty because none of their "
        "inputs was declared.",
    )
    systems, skipped = read_coverage(src.con)
    if not systems:
        section.intro += " Not recorded in this file (publishing records it)."
        return section
    used = sorted({s.system for s in systems if s.status == "used"})
    section.intro += f" Systems used: {', '.join(used) or 'none'}."
    section.tables.append(
        data_table(
            ["system", "table", "status", "raw rows"],
            [
                [s.system, s.table, s.status, "" if s.rows is None else f"{s.rows:,}"]
                for s in systems
            ],
        )
    )
    if skipped:
        section.tables.append(
            data_table(["mart skipped", "why"], [[s.model, s.reason] for s in skipped])
        )
    return section


SECTIONS: tuple[Callable[[ReportSource], Section], ...] = (
    data_section,
    identity_section,
    clv_section,
    churn_section,
    prediction_section,
    journey_section,
    attribution_section,
)
