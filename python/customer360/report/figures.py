"""The report's figures: matplotlib (Agg, no display) drawings of query results as PNG bytes.

Every function takes the rows :mod:`customer360.report.queries` returned and draws one
plot; none reads the warehouse or writes captions.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def new_figure(width: float = 7.5, height: float = 3.6) -> Figure:
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def hbar(
    labels: Sequence[str],
    values: Sequence[float],
    xlabel: str,
    fmt: str = "{:,.0f}",
    color: str = PALETTE[0],
    height: float | None = None,
) -> bytes:
    """Labelled horizontal bars, largest first as given, each with its value."""
    fig = new_figure(height=height or max(2.2, 0.32 * len(labels) + 1.0))
    ax = fig.add_subplot()
    y = np.arange(len(labels))
    bars = ax.barh(y, values, color=color)
    ax.set_yticks(y, labels=list(labels), fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=8, padding=2)
    ax.margins(x=0.15)
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def cluster_sizes(labels: Sequence[str], counts: pd.Series) -> bytes:
    """Customers per cluster-size bucket (``labels``, in order)."""
    fig = new_figure()
    ax = fig.add_subplot()
    bars = ax.bar(list(labels), counts.to_numpy(), color=PALETTE[0])
    ax.bar_label(bars, labels=[f"{v:,}" for v in counts], fontsize=8, padding=2)
    ax.set_xlabel("source records per customer (cluster size)")
    ax.set_ylabel("customers")
    ax.margins(y=0.15)
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def id_events(pivot: pd.DataFrame, events: Sequence[str]) -> bytes:
    """Grouped bars of ID registry events per build (rows: build minute, columns: events)."""
    fig = new_figure()
    ax = fig.add_subplot()
    x = np.arange(len(pivot))
    width = 0.16
    for i, event in enumerate(events):
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
    return png(fig)


def clv_distribution(clv: pd.Series, cap: float) -> bytes:
    """Histogram of CLV clipped at ``cap``, with the mean and the median marked."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.hist(clv.clip(upper=cap), bins=40, color=PALETTE[2])
    ax.axvline(float(clv.mean()), color="black", linestyle="--", linewidth=1, label="mean")
    ax.axvline(float(clv.median()), color="grey", linestyle=":", linewidth=1, label="median")
    ax.set_xlabel("predicted CLV (base currency; top 1% drawn at the 99th percentile)")
    ax.set_ylabel("customers")
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return png(fig)


def churn_segments(df: pd.DataFrame) -> bytes:
    """Customers per RFM segment (left) beside observed and predicted churn (right)."""
    fig = new_figure(height=max(3.0, 0.45 * len(df) + 1.2))
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
    return png(fig)


def attribution_by_channel(df: pd.DataFrame, models: Sequence[str]) -> bytes:
    """Revenue per marketing channel (rows), one bar per attribution model."""
    fig = new_figure(height=max(3.2, 0.5 * len(df) + 1.2))
    ax = fig.add_subplot()
    y = np.arange(len(df))
    h = 0.8 / len(models)
    for i, model in enumerate(models):
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
    return png(fig)
