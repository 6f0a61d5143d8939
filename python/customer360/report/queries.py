"""The report's SQL: read-only access to one schema of a DuckDB file, one query per plot.

Every function here reads; none draws. Each returns the rows one plot needs (a frame, a
series or a tuple), already shaped for drawing; :mod:`customer360.report.figures` turns
them into images and :mod:`customer360.report.sections` writes the captions.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

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
ID_EVENTS: tuple[str, ...] = ("minted", "merged", "split", "retired", "erased")
CLUSTER_SIZE_EDGES = (1, 2, 3, 4, 5, 6, 11, 21, 51, 101)
CLUSTER_SIZE_LABELS = ("1", "2", "3", "4", "5", "6-10", "11-20", "21-50", "51-100", ">100")
MAX_BUILDS_SHOWN = 30


class ReportSource:
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


# ------------------------------------------------------------------ identity


def cluster_sizes(s: ReportSource) -> pd.Series:
    """Source records per customer (``n_records`` of every ``dim_customer`` row)."""
    return s.df(f"select n_records from {s.ref('dim_customer')}")["n_records"].astype(int)


def cluster_size_counts(sizes: pd.Series) -> pd.Series:
    """Customers per cluster-size bucket (``CLUSTER_SIZE_LABELS``), empty buckets as 0."""
    labels = list(CLUSTER_SIZE_LABELS)
    buckets = pd.cut(sizes, bins=[*CLUSTER_SIZE_EDGES, np.inf], right=False, labels=labels)
    return buckets.value_counts().reindex(labels, fill_value=0)


def links_per_type(s: ReportSource) -> tuple[pd.DataFrame, int]:
    """Resolved records linked by each identifier type (``identifier_type``, ``records``),
    and the number of resolved records."""
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
    return df, total


def excluded_identifiers(s: ReportSource) -> pd.DataFrame:
    """Identifier values the guards excluded, by ``label`` (type: reason, at most 70
    characters), with the ``identifiers`` and the ``records`` carrying them."""
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
    df["label"] = df["label"].str.slice(0, 70)
    return df


def id_events_per_build(s: ReportSource) -> pd.DataFrame:
    """ID registry events (``ID_EVENTS`` columns) per build minute, the last
    ``MAX_BUILDS_SHOWN`` builds; an empty frame when the history is empty."""
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
        return df
    pivot = df.pivot_table(index="build_at", columns="event", values="ids", fill_value=0)
    for event in ID_EVENTS:
        if event not in pivot.columns:
            pivot[event] = 0
    return pivot.sort_index().tail(MAX_BUILDS_SHOWN)


# ------------------------------------------------------------------ CLV and churn


def clv_values(s: ReportSource) -> pd.Series:
    """``clv_base`` of every customer with a CLV."""
    df = s.df(f"select clv_base from {s.ref('customer_clv')} where clv_base is not null")
    return df["clv_base"].astype(float)


def clv_deciles(s: ReportSource) -> pd.DataFrame:
    """Customers ranked by CLV in ten groups: ``decile``, ``customers``, ``clv``,
    ``avg_clv``, ``net_revenue`` and ``share`` (of the total CLV)."""
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
    if not df.empty:
        total = float(df["clv"].sum()) or 1.0
        df["share"] = df["clv"] / total
    return df


def churn_by_segment(s: ReportSource) -> pd.DataFrame:
    """Per RFM segment: ``customers``, ``observed`` churn in the last window and
    ``predicted`` risk, sorted by predicted risk."""
    return s.df(
        f"""
        select rfm_segment, count(*) as customers,
               avg(case when churned_last_window then 1.0
                        when not churned_last_window then 0.0 end) as observed,
               avg(churn_score_model) as predicted
        from {s.ref("customer_churn")} group by rfm_segment
        order by predicted desc nulls last, rfm_segment
        """
    )


# ------------------------------------------------------------------ journey and attribution


def journey_funnel(s: ReportSource) -> list[int]:
    """Customers; with a touchpoint; signed up; bought; bought again."""
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
    return [int(v) for v in row]


def lifecycle_stages(s: ReportSource) -> tuple[pd.DataFrame, object]:
    """Customers per ``lifecycle_stage`` in ``LIFECYCLE_STAGES`` order, and the journey's
    as-of time."""
    df = s.df(
        f"select lifecycle_stage, count(*) as customers from {s.ref('customer_journey')} group by 1"
    )
    order = {stage: i for i, stage in enumerate(LIFECYCLE_STAGES)}
    df = df.sort_values("lifecycle_stage", key=lambda c: c.map(lambda v: order.get(v, 99)))
    as_of = s.scalar(f"select max(journey_as_of) from {s.ref('customer_journey')}")
    return df, as_of


def attribution_by_channel(s: ReportSource) -> pd.DataFrame:
    """Revenue credited to each ``marketing_channel`` under every model in
    ``ATTRIBUTION_MODELS`` (one column per model), sorted by the linear model's credit."""
    sums = ", ".join(f"sum({m}_credit_base) as {m}" for m in ATTRIBUTION_MODELS)
    df = s.df(f"select marketing_channel, {sums} from {s.ref('fct_order_attribution')} group by 1")
    if df.empty:
        return df
    return df.fillna(0).sort_values("linear", ascending=False)


# ------------------------------------------------------------------ overview


def overview(s: ReportSource, db: str) -> list[tuple[str, str]]:
    """(label, value) rows of the report's first table: file, build, schema, totals."""
    rows: list[tuple[str, str]] = [("warehouse file", db)]
    if ("main", "_publish") in s.relations:
        info = s.con.execute("select build_id, published_at from main._publish").fetchone()
        if info:
            rows += [("build", str(info[0])), ("published at", f"{info[1]:%Y-%m-%d %H:%M} UTC")]
    rows.append(("schema read", s.schema or "none found"))
    if s.has("dim_customer"):
        n = s.scalar(f"select count(*) from {s.ref('dim_customer')}")
        rows.append(("customers", f"{int(n or 0):,}"))  # type: ignore[call-overload]
    if s.has("fct_orders"):
        row = s.con.execute(
            f"select count(*) filter (where is_purchase), sum(net_revenue_base) "
            f"from {s.ref('fct_orders')}"
        ).fetchone()
        if row:
            rows += [
                ("purchases", f"{int(row[0] or 0):,}"),
                ("net revenue (base currency)", f"{float(row[1] or 0):,.2f}"),
            ]
    return rows
