"""`customer360 report`: a static, self-contained HTML report with plots of a built warehouse.

The report reads the **published** warehouse (or any build DB) read-only, so it never
blocks or is blocked by a running build. It uses the pseudonymised ``analyst`` schema when
the file has one (the published file has only that) and the ``marts`` schema otherwise;
both hold the same table names. Plots are drawn with matplotlib's Agg renderer (no display
needed) and embedded as base64 PNG ``<img>`` tags, so the HTML file is one file with no
external resource. A section whose tables are missing is shown as "not built" instead of
failing, so the report works on a partial build.

A small inline script records, once the page has loaded, how many plot images decoded
(``document.body.dataset.plotsLoaded`` of ``plotsExpected``) and any JavaScript or
resource errors (``dataset.jsErrors``, a JSON list): what the headless-browser test reads.
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from customer360.console import cell, literal
from customer360.publish import PublishError, connect_read_only
from customer360.settings import Settings

REPORT_FILE = "customer360_report.html"

#: Schemas searched for the report's tables, first match wins: the published file holds
#: the pseudonymised analyst layer; a build DB also has the marts.
SOURCE_SCHEMAS: tuple[str, ...] = ("analyst", "marts")

ATTRIBUTION_MODELS: tuple[str, ...] = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
)
LIFECYCLE_STAGES: tuple[str, ...] = ("prospect", "first_time_buyer", "repeat", "at_risk", "churned")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


class ReportError(RuntimeError):
    """The report could not be written (no readable warehouse, unwritable output)."""


# ------------------------------------------------------------------ results


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


@dataclass
class Section:
    key: str
    title: str
    intro: str
    items: list[Plot | Missing] = field(default_factory=list)
    tables_html: list[str] = field(default_factory=list)

    @property
    def plots(self) -> list[Plot]:
        return [i for i in self.items if isinstance(i, Plot)]

    @property
    def missing(self) -> list[Missing]:
        return [i for i in self.items if isinstance(i, Missing)]


@dataclass(frozen=True)
class ReportResult:
    path: Path
    source_db: Path
    schema: str | None  # schema the tables were read from; None when none was found
    sections: tuple[Section, ...]
    seconds: float

    @property
    def plots(self) -> list[Plot]:
        return [p for s in self.sections for p in s.plots]

    @property
    def missing(self) -> list[Missing]:
        return [m for s in self.sections for m in s.missing]


# ------------------------------------------------------------------ reading


class _Source:
    """Read-only access to the report's tables in one schema of a DuckDB file."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        rows = con.execute(
            "select schema_name, table_name from duckdb_tables() where not internal "
            "union all select schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()
        self.relations = {(s, t) for s, t in rows}
        self.schema = next(
            (s for s in SOURCE_SCHEMAS if (s, "dim_customer") in self.relations),
            next((s for s in SOURCE_SCHEMAS if any(r[0] == s for r in self.relations)), None),
        )

    def has(self, table: str) -> bool:
        return self.schema is not None and (self.schema, table) in self.relations

    def missing(self, *tables: str) -> list[str]:
        return [t for t in tables if not self.has(t)]

    def columns(self, table: str) -> set[str]:
        cur = self.con.execute(f"select * from {self.ref(table)} limit 0")
        return {d[0] for d in cur.description or ()}

    def ref(self, table: str) -> str:
        return f'"{self.schema}"."{table}"'

    def df(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def scalar(self, sql: str) -> object:
        row = self.con.execute(sql).fetchone()
        return row[0] if row else None


def default_report_db(settings: Settings) -> Path:
    """The published warehouse if there is one, else the build DB."""
    return settings.published_db if settings.published_db.exists() else settings.build_db


# ------------------------------------------------------------------ figures


def _new_figure(width: float = 7.5, height: float = 3.6) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _hbar(
    labels: Sequence[str],
    values: Sequence[float],
    xlabel: str,
    fmt: str = "{:,.0f}",
    color: str = PALETTE[0],
    height: float | None = None,
) -> bytes:
    fig = _new_figure(height=height or max(2.2, 0.32 * len(labels) + 1.0))
    ax = fig.add_subplot()
    y = np.arange(len(labels))
    bars = ax.barh(y, values, color=color)
    ax.set_yticks(y, labels=list(labels), fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=8, padding=2)
    ax.margins(x=0.15)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


# ------------------------------------------------------------------ sections


PlotMaker = Callable[[_Source], tuple[bytes, str] | str]


def _item(
    src: _Source, key: str, title: str, tables: Sequence[str], make: PlotMaker
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


def _identity_section(src: _Source) -> Section:
    section = Section(
        "identity",
        "Identity resolution",
        "How the source records were resolved into customers: cluster sizes, which "
        "identifier types link records, which identifiers the guards excluded, and how IDs "
        "were minted, merged and split build by build.",
    )

    def cluster_sizes(s: _Source) -> tuple[bytes, str] | str:
        df = s.df(f"select n_records from {s.ref('dim_customer')}")
        if df.empty:
            return "no customers in dim_customer"
        sizes = df["n_records"].astype(int)
        edges = [1, 2, 3, 4, 5, 6, 11, 21, 51, 101]
        labels = ["1", "2", "3", "4", "5", "6-10", "11-20", "21-50", "51-100", ">100"]
        buckets = pd.cut(sizes, bins=[*edges, np.inf], right=False, labels=labels)
        counts = buckets.value_counts().reindex(labels, fill_value=0)
        fig = _new_figure()
        ax = fig.add_subplot()
        bars = ax.bar(labels, counts.to_numpy(), color=PALETTE[0])
        ax.bar_label(bars, labels=[f"{v:,}" for v in counts], fontsize=8, padding=2)
        ax.set_xlabel("source records per customer (cluster size)")
        ax.set_ylabel("customers")
        ax.margins(y=0.15)
        ax.spines[["top", "right"]].set_visible(False)
        caption = (
            f"{len(sizes):,} customers from {int(sizes.sum()):,} records; median cluster "
            f"{sizes.median():.0f}, 99th percentile {sizes.quantile(0.99):.0f}, largest "
            f"{sizes.max():,}; {(sizes == 1).mean():.1%} are single-record customers."
        )
        return _png(fig), caption

    def links_per_type(s: _Source) -> tuple[bytes, str] | str:
        df = s.df(
            f"""
            with types as (
                select unnest(string_split(linked_by_identifier_types, ',')) as identifier_type
                from {s.ref("customer_source_map")}
                where linked_by_identifier_types is not null
            )
            select identifier_type, count(*) as records
            from types group by 1 order by records desc, identifier_type
            """
        )
        total = int(s.scalar(f"select count(*) from {s.ref('customer_source_map')}") or 0)
        if df.empty:
            return "no linked records in customer_source_map"
        png = _hbar(df["identifier_type"], df["records"], "resolved records linked by the type")
        caption = (
            f"Of {total:,} resolved records, how many each identifier type links to their "
            "customer's other records (a record linked by several types counts under each)."
        )
        return png, caption

    def excluded(s: _Source) -> tuple[bytes, str] | str:
        df = s.df(
            f"""
            select identifier_type || ': ' || reason as label, count(*) as identifiers,
                   coalesce(sum(n_records), 0) as records
            from {s.ref("identity_audit")}
            where audit_kind = 'excluded_identifier'
            group by identifier_type, reason
            order by identifiers desc, label
            """
        )
        if df.empty:
            return "no identifier was excluded by the guards (identity_audit is empty)"
        df["label"] = df["label"].str.slice(0, 70)
        png = _hbar(df["label"], df["identifiers"], "excluded identifier values", color=PALETTE[3])
        caption = (
            f"{int(df['identifiers'].sum()):,} identifier values (carried by "
            f"{int(df['records'].sum()):,} records) were not used to link, by type and reason: "
            "blocklisted junk such as test@test.com, or values seen on more people than the "
            "type allows."
        )
        return png, caption

    def merges_splits(s: _Source) -> tuple[bytes, str] | str:
        cols = s.columns("customer_id_history")
        split_col = "split_from_customer_id" if "split_from_customer_id" in cols else "null"
        df = s.df(
            f"""
            with events as (
                select valid_from as event_at, case when {split_col} is not null then 'split'
                       else 'minted' end as event
                from {s.ref("customer_id_history")}
                union all
                select valid_to, case when status = 'merged' then 'merged'
                       when status = 'erased' then 'erased' else 'retired' end
                from {s.ref("customer_id_history")}
                where valid_to is not null
            )
            select date_trunc('minute', event_at) as build_at, event, count(*) as ids
            from events where event_at is not null group by 1, 2 order by 1
            """
        )
        if df.empty:
            return "customer_id_history is empty"
        pivot = df.pivot_table(index="build_at", columns="event", values="ids", fill_value=0)
        for event in ("minted", "merged", "split", "retired", "erased"):
            if event not in pivot.columns:
                pivot[event] = 0
        pivot = pivot.sort_index().tail(30)
        fig = _new_figure()
        ax = fig.add_subplot()
        x = np.arange(len(pivot))
        width = 0.16
        for i, event in enumerate(("minted", "merged", "split", "retired", "erased")):
            ax.bar(x + (i - 2) * width, pivot[event].values, width, label=event, color=PALETTE[i])
        ax.set_xticks(
            x,
            labels=[f"{t:%Y-%m-%d %H:%M}" for t in pivot.index],
            rotation=30,
            ha="right",
            fontsize=8,
        )
        if len(pivot) < 4:  # keep the bars narrow for the first builds
            ax.set_xlim(-1.5, 3.5)
        ax.set_yscale("symlog")
        ax.set_ylabel("customer IDs (symlog)")
        ax.legend(fontsize=8, ncols=5, loc="upper right")
        ax.spines[["top", "right"]].set_visible(False)
        totals = {e: int(pivot[e].sum()) for e in ("minted", "merged", "split", "retired")}
        caption = (
            f"ID registry events per build ({len(pivot)} build(s) shown): "
            + ", ".join(f"{n:,} {e}" for e, n in totals.items())
            + ". Merged IDs keep resolving to their survivor through customer_id_history."
        )
        return _png(fig), caption

    section.items += [
        _item(
            src,
            "identity-cluster-sizes",
            "Cluster size distribution",
            ["dim_customer"],
            cluster_sizes,
        ),
        _item(
            src,
            "identity-links-per-type",
            "Links per identifier type",
            ["customer_source_map"],
            links_per_type,
        ),
        _item(src, "identity-excluded", "Excluded junk identifiers", ["identity_audit"], excluded),
        _item(
            src,
            "identity-merges-splits",
            "Merges and splits over time",
            ["customer_id_history"],
            merges_splits,
        ),
    ]
    return section


def _clv_section(src: _Source) -> Section:
    section = Section(
        "clv",
        "Customer lifetime value",
        "Predicted CLV (BG/NBD purchases x Gamma-Gamma spend, discounted over the CLV "
        "horizon) of every customer with a purchase.",
    )

    def distribution(s: _Source) -> tuple[bytes, str] | str:
        df = s.df(f"select clv_base from {s.ref('customer_clv')} where clv_base is not null")
        if df.empty:
            return "no customer with a CLV (no purchases)"
        clv = df["clv_base"].astype(float)
        cap = float(clv.quantile(0.99))
        fig = _new_figure()
        ax = fig.add_subplot()
        ax.hist(clv.clip(upper=cap), bins=40, color=PALETTE[2])
        ax.axvline(float(clv.mean()), color="black", linestyle="--", linewidth=1, label="mean")
        ax.axvline(float(clv.median()), color="grey", linestyle=":", linewidth=1, label="median")
        ax.set_xlabel("predicted CLV (base currency; top 1% drawn at the 99th percentile)")
        ax.set_ylabel("customers")
        ax.legend(fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        caption = (
            f"{len(clv):,} customers with a CLV; mean {clv.mean():,.2f}, median "
            f"{clv.median():,.2f}, 99th percentile {cap:,.2f}, total {clv.sum():,.0f}."
        )
        return _png(fig), caption

    def deciles(s: _Source) -> tuple[bytes, str] | str:
        df = s.df(
            f"""
            with ranked as (
                select clv_base, net_revenue_base,
                       ntile(10) over (order by clv_base desc, customer_id) as decile
                from {s.ref("customer_clv")} where clv_base is not null
            )
            select decile, count(*) as customers, sum(clv_base) as clv,
                   avg(clv_base) as avg_clv, sum(net_revenue_base) as net_revenue
            from ranked group by decile order by decile
            """
        )
        if df.empty:
            return "no customer with a CLV (no purchases)"
        total = float(df["clv"].sum()) or 1.0
        df["share"] = df["clv"] / total
        labels = [f"top {int(d) * 10}%" if d == 1 else f"decile {int(d)}" for d in df["decile"]]
        png = _hbar(
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
        section.tables_html.append(
            _html_table(
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
        _item(src, "clv-distribution", "CLV distribution", ["customer_clv"], distribution),
        _item(src, "clv-deciles", "CLV by decile", ["customer_clv"], deciles),
    ]
    return section


def _churn_section(src: _Source) -> Section:
    section = Section(
        "churn",
        "Churn by segment",
        "Buying customers by RFM segment, with the churn rate observed in the last complete "
        "window and the predicted risk for the next one.",
    )

    def segments(s: _Source) -> tuple[bytes, str] | str:
        df = s.df(
            f"""
            select rfm_segment, count(*) as customers,
                   avg(case when churned_last_window then 1.0
                            when not churned_last_window then 0.0 end) as observed,
                   avg(churn_score_model) as predicted
            from {s.ref("customer_churn")} group by rfm_segment
            order by predicted desc nulls last, rfm_segment
            """
        )
        if df.empty:
            return "no buying customer in customer_churn"
        fig = _new_figure(height=max(3.0, 0.45 * len(df) + 1.2))
        left, right = fig.subplots(1, 2, sharey=True, width_ratios=[1, 1.2])
        y = np.arange(len(df))
        bars = left.barh(y, df["customers"], color=PALETTE[0])
        left.bar_label(bars, labels=[f"{v:,}" for v in df["customers"]], fontsize=8, padding=2)
        left.set_yticks(y, labels=list(df["rfm_segment"]), fontsize=9)
        left.invert_yaxis()
        left.set_xlabel("customers")
        left.margins(x=0.2)
        h = 0.38
        right.barh(
            y - h / 2,
            df["observed"].fillna(0) * 100,
            h,
            label="observed (last window)",
            color=PALETTE[3],
        )
        right.barh(
            y + h / 2,
            df["predicted"].fillna(0) * 100,
            h,
            label="predicted (next window)",
            color=PALETTE[1],
        )
        right.set_xlabel("churn rate (%)")
        right.set_xlim(0, 100)
        right.legend(fontsize=8, loc="lower right")
        for ax in (left, right):
            ax.spines[["top", "right"]].set_visible(False)
        n = int(df["customers"].sum())
        caption = f"{n:,} buying customers in {len(df)} segments, sorted by predicted churn risk."
        return _png(fig), caption

    section.items.append(
        _item(src, "churn-segments", "Churn by RFM segment", ["customer_churn"], segments)
    )
    return section


def _journey_section(src: _Source) -> Section:
    section = Section(
        "journey",
        "Customer journey",
        "The funnel from first contact to repeat purchase, and where customers are in the "
        "lifecycle.",
    )

    def funnel(s: _Source) -> tuple[bytes, str] | str:
        row = s.con.execute(
            f"""
            select count(*),
                   count(*) filter (where touchpoint_count > 0),
                   count(*) filter (where signed_up_at is not null),
                   count(*) filter (where purchase_count >= 1),
                   count(*) filter (where purchase_count >= 2)
            from {s.ref("customer_journey")}
            """
        ).fetchone()
        assert row is not None
        if not row[0]:
            return "customer_journey is empty"
        labels = ["customers", "with a touchpoint", "signed up", "bought", "bought again"]
        values = [int(v) for v in row]
        png = _hbar(labels, values, "customers", color=PALETTE[4])
        caption = (
            f"Of {values[0]:,} customers {values[3] / values[0]:.1%} bought at least once and "
            f"{values[4] / values[0]:.1%} bought again"
            + (f" ({values[4] / values[3]:.1%} of buyers)." if values[3] else ".")
        )
        return png, caption

    def lifecycle(s: _Source) -> tuple[bytes, str] | str:
        df = s.df(
            f"select lifecycle_stage, count(*) as customers from {s.ref('customer_journey')} "
            "group by 1"
        )
        if df.empty:
            return "customer_journey is empty"
        order = {stage: i for i, stage in enumerate(LIFECYCLE_STAGES)}
        df = df.sort_values("lifecycle_stage", key=lambda c: c.map(lambda v: order.get(v, 99)))
        as_of = s.scalar(f"select max(journey_as_of) from {s.ref('customer_journey')}")
        png = _hbar(df["lifecycle_stage"], df["customers"], "customers", color=PALETTE[4])
        caption = (
            f"Lifecycle stage of every customer as of {as_of:%Y-%m-%d}."
            if isinstance(as_of, datetime)
            else "Lifecycle stage of every customer."
        )
        return png, caption

    section.items += [
        _item(src, "journey-funnel", "Journey funnel", ["customer_journey"], funnel),
        _item(src, "journey-lifecycle", "Lifecycle stages", ["customer_journey"], lifecycle),
    ]
    return section


def _attribution_section(src: _Source) -> Section:
    section = Section(
        "attribution",
        "Attribution by channel",
        "Order revenue credited to marketing channels under each attribution model "
        "(fct_order_attribution; orders without a marketing touch are 'direct/none').",
    )

    def by_channel(s: _Source) -> tuple[bytes, str] | str:
        sums = ", ".join(f"sum({m}_credit_base) as {m}" for m in ATTRIBUTION_MODELS)
        df = s.df(
            f"select marketing_channel, {sums} from {s.ref('fct_order_attribution')} group by 1"
        )
        if df.empty:
            return "fct_order_attribution is empty"
        df = df.fillna(0).sort_values("linear", ascending=False)
        fig = _new_figure(height=max(3.2, 0.5 * len(df) + 1.2))
        ax = fig.add_subplot()
        y = np.arange(len(df))
        h = 0.8 / len(ATTRIBUTION_MODELS)
        for i, model in enumerate(ATTRIBUTION_MODELS):
            ax.barh(
                y + (i - 2.5) * h,
                df[model].astype(float),
                h,
                label=model,
                color=PALETTE[i % len(PALETTE)],
            )
        ax.set_yticks(y, labels=list(df["marketing_channel"]), fontsize=9)
        ax.invert_yaxis()
        ax.set_xlabel("attributed revenue (base currency)")
        ax.legend(fontsize=7, ncols=2, loc="lower right")
        ax.spines[["top", "right"]].set_visible(False)
        total = float(df["linear"].sum())
        caption = (
            f"{total:,.0f} of order revenue distributed over {len(df)} channels; every model "
            "credits the same total, differently."
        )
        section.tables_html.append(
            _html_table(
                ["marketing channel", *ATTRIBUTION_MODELS],
                [
                    [str(r["marketing_channel"])]
                    + [f"{float(r[m]):,.0f}" for m in ATTRIBUTION_MODELS]
                    for _, r in df.iterrows()
                ],
            )
        )
        return _png(fig), caption

    section.items.append(
        _item(
            src,
            "attribution-by-channel",
            "Attributed revenue by channel and model",
            ["fct_order_attribution"],
            by_channel,
        )
    )
    return section


SECTIONS: tuple[Callable[[_Source], Section], ...] = (
    _identity_section,
    _clv_section,
    _churn_section,
    _journey_section,
    _attribution_section,
)


# ------------------------------------------------------------------ overview and HTML


def _overview(src: _Source, db: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("warehouse file", str(db))]
    if ("main", "_publish") in src.relations:
        info = src.con.execute("select build_id, published_at from main._publish").fetchone()
        if info:
            rows += [("build", str(info[0])), ("published at", f"{info[1]:%Y-%m-%d %H:%M} UTC")]
    rows.append(("schema read", src.schema or "none found"))
    if src.has("dim_customer"):
        n = src.scalar(f"select count(*) from {src.ref('dim_customer')}")
        rows.append(("customers", f"{int(n or 0):,}"))  # type: ignore[call-overload]
    if src.has("fct_orders"):
        row = src.con.execute(
            f"select count(*) filter (where is_purchase), sum(net_revenue_base) "
            f"from {src.ref('fct_orders')}"
        ).fetchone()
        if row:
            rows += [
                ("purchases", f"{int(row[0] or 0):,}"),
                ("net revenue (base currency)", f"{float(row[1] or 0):,.2f}"),
            ]
    return rows


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_SCRIPT = """
window.c360Errors = [];
window.addEventListener('error', function (event) {
  var target = event.target;
  var what = (target && target !== window && target.tagName)
    ? 'failed to load ' + target.tagName.toLowerCase() + ' ' + (target.dataset.plot || '')
    : String(event.message || 'error');
  window.c360Errors.push(what);
  if (document.body) { document.body.dataset.jsErrors = JSON.stringify(window.c360Errors); }
}, true);
window.addEventListener('load', function () {
  var images = document.querySelectorAll('img.plot');
  var loaded = 0;
  var broken = [];
  images.forEach(function (img) {
    if (img.complete && img.naturalWidth > 0) { loaded += 1; }
    else { broken.push(img.dataset.plot); }
  });
  document.body.dataset.plotsExpected = String(images.length);
  document.body.dataset.plotsBroken = JSON.stringify(broken);
  document.body.dataset.jsErrors = JSON.stringify(window.c360Errors);
  document.body.dataset.plotsLoaded = String(loaded);
});
"""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1.5rem; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem;
       margin-top: 2.2rem; }
figure { margin: 1rem 0 1.6rem; } figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; }
.missing { background: #fff6e5; border-left: 4px solid #f0a020; padding: 0.6rem 0.9rem;
           margin: 1rem 0; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
nav a { margin-right: 1rem; } .meta { color: #666; font-size: 0.85rem; }
"""


def render_html(
    sections: Sequence[Section], overview: Sequence[tuple[str, str]], generated_at: datetime
) -> str:
    """The report page: one self-contained HTML document."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>customer360 report</title>",
        f"<style>{_STYLE}</style>",
        f"<script>{_SCRIPT}</script>",
        "</head><body>",
        "<h1>customer360 report</h1>",
        f'<p class="meta">generated {generated_at:%Y-%m-%d %H:%M} UTC by '
        "<code>customer360 report</code></p>",
        "<nav>" + "".join(f'<a href="#{s.key}">{esc(s.title)}</a>' for s in sections) + "</nav>",
        '<section id="overview"><h2>Overview</h2>',
        _html_table(["", ""], [[k, v] for k, v in overview]),
        "</section>",
    ]
    for s in sections:
        parts.append(f'<section id="{esc(s.key)}"><h2>{esc(s.title)}</h2><p>{esc(s.intro)}</p>')
        for item in s.items:
            if isinstance(item, Plot):
                data = base64.b64encode(item.png).decode("ascii")
                parts.append(
                    f'<figure id="{esc(item.key)}"><h3>{esc(item.title)}</h3>'
                    f'<img class="plot" data-plot="{esc(item.key)}" alt="{esc(item.title)}" '
                    f'src="data:image/png;base64,{data}">'
                    f"<figcaption>{esc(item.caption)}</figcaption></figure>"
                )
            else:
                parts.append(
                    f'<div class="missing" id="{esc(item.key)}" data-missing="{esc(item.key)}">'
                    f"<strong>{esc(item.title)}</strong>: {esc(item.reason)}</div>"
                )
        parts.extend(s.tables_html)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


# ------------------------------------------------------------------ entry points


def build_report(db: Path, out: Path) -> ReportResult:
    """Read ``db`` read-only and write the HTML report to ``out`` (atomically)."""
    started = time.perf_counter()
    try:
        con = connect_read_only(db, timeout=60)
    except PublishError as exc:
        raise ReportError(str(exc)) from exc
    try:
        src = _Source(con)
        sections = tuple(make(src) for make in SECTIONS)
        overview = _overview(src, db)
        schema = src.schema
    finally:
        con.close()
    page = render_html(sections, overview, datetime.now(UTC))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {out}: {exc}") from exc
    return ReportResult(out, db, schema, sections, time.perf_counter() - started)


def write_report(
    settings: Settings, db: Path | None = None, out: Path | None = None
) -> ReportResult:
    """The report of ``db`` (default: the published warehouse, else the build DB) at
    ``out`` (default: ``<reports_dir>/customer360_report.html``)."""
    return build_report(
        db or default_report_db(settings), out or settings.reports_dir / REPORT_FILE
    )


def print_report_result(result: ReportResult, console: Console) -> None:
    table = Table(
        title=f"report {literal(result.path.name)} from {literal(result.source_db.name)} "
        f"(schema {result.schema or '-'})"
    )
    table.add_column("section")
    table.add_column("plots", justify="right")
    table.add_column("not shown")
    for s in result.sections:
        table.add_row(
            cell(s.title),
            str(len(s.plots)),
            cell("; ".join(f"{m.title}: {m.reason}" for m in s.missing)),
        )
    console.print(table)
    console.print(
        f"wrote {literal(result.path)} ({result.path.stat().st_size / 1e6:.1f} MB, "
        f"{len(result.plots)} plots) in {result.seconds:.1f} s"
    )


__all__ = [
    "REPORT_FILE",
    "ReportError",
    "ReportResult",
    "build_report",
    "default_report_db",
    "print_report_result",
    "write_report",
]
