"""Churn scores against their baselines, and the CLV purchase models on their holdout.

Data sets (no dbt build: the library functions the marts call, on purchase histories):

* ``generator``: ``--people`` synthetic people from ``customer360.generate`` (seed
  ``--seed``), shop orders (not cancelled) and POS sales keyed by the generator's true
  person id, engagement events of web, app, newsletter and support; 90-day windows ending
  at the data end (the marts' default split);
* ``cdnow``: the CDNOW sample (2,357 customers) and master (23,570) files shipped in the
  Lifetimes wheel (a dev dependency; read by path), 39-week calibration to 1997-09-30,
  label "no purchase in the 39-week holdout" (horizon 273 days), the classifier trained
  on 13-week windows inside the calibration period (train cutoff 1997-07-01, so its labels
  end at the test cutoff). No engagement data: purchases only.

For each: AUC, Brier, log loss and top-decile lift of the trained model (learner chosen by
time-based cross-validation), the model-free BG/NBD score, Pareto/NBD and recency, the
recommendation, and the time taken. For CDNOW also the three purchase models on the 39+39
split (aggregate and per-frequency-bucket holdout error, interval coverage) and the model
``fit_clv_models`` chooses on an inner holdout of the calibration period (the final
holdout is never used to choose).

Usage: ``python benchmarks/bench_churn.py [--people 10000] [--seed 42]``
Figures: docs/clv-and-churn.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from customer360 import churn, clv

ENGAGEMENT = (
    ("web", "events", "event_id", "events", "occurred_at", "web"),
    ("app", "events", "device_id", "devices", "occurred_at", "app"),
    ("newsletter", "email_events", "subscriber_id", "subscribers", "occurred_at", "email"),
    ("support", "tickets", "ticket_id", "tickets", "opened_at", "support"),
)


def generator_history(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    truth = pd.read_parquet(data_dir / "truth" / "records.parquet")

    def with_person(system: str, table: str, key: str, truth_table: str) -> pd.DataFrame:
        frame = pd.read_parquet(data_dir / "raw" / system / f"{table}.parquet")
        keys = truth[(truth["source_system"] == system) & (truth["source_table"] == truth_table)]
        lookup = keys.assign(_key=keys["record_key"].str.strip().str.lower())
        return frame.assign(_key=frame[key].astype("string").str.strip().str.lower()).merge(
            lookup[["_key", "person_id"]], on="_key", how="inner"
        )

    orders = with_person("shop", "orders", "order_id", "orders")
    orders = orders[orders["status"] != "cancelled"]
    pos = with_person("loyalty", "pos_transactions", "transaction_id", "pos_transactions")
    tx = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": orders["person_id"],
                    "date": orders["ordered_at"],
                    "amount": orders["order_total"].astype(float),
                }
            ),
            pd.DataFrame(
                {
                    "customer_id": pos["person_id"],
                    "date": pos["transacted_at"],
                    "amount": pos["amount"].astype(float),
                }
            ),
        ],
        ignore_index=True,
    )
    events = pd.concat(
        [
            pd.DataFrame({"customer_id": f["person_id"], "occurred_at": f[ts], "channel": channel})
            for system, table, key, truth_table, ts, channel in ENGAGEMENT
            for f in [with_person(system, table, key, truth_table)]
        ],
        ignore_index=True,
    )
    return tx, events


def cdnow(name: str) -> pd.DataFrame:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        raise SystemExit("the Lifetimes dev dependency (CDNOW files) is not installed")
    path = Path(spec.origin).parent / "datasets" / name
    if name == "CDNOW_master.txt":  # header: customer_id date number_of_cds dollar_value
        raw = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
        raw = raw.rename(columns={"dollar_value": "amount"})
    else:  # no header: master id, cohort id, date, CDs, dollars
        raw = pd.read_csv(
            path,
            sep=r"\s+",
            header=None,
            names=["customer_id", "cohort_id", "date", "cds", "amount"],
            dtype={"customer_id": str, "date": str},
        )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw


def churn_table(label: str, result: churn.ChurnBacktest, seconds: float) -> None:
    m = result.metrics.set_index("score")
    print(f"\n### {label}: {result.split.describe()}")
    print(
        f"n {int(m['n'].iloc[0]):,}, churn rate {m['churn_rate'].iloc[0]:.3f}, "
        f"learner {result.learner}, {seconds:.1f} s"
    )
    print("\n| score | AUC | Brier | log loss | top-decile lift |\n|---|---:|---:|---:|---:|")
    for score, row in m.iterrows():
        print(
            f"| {score} | {row['auc']:.3f} | {row['brier']:.4f} | {row['log_loss']:.4f} "
            f"| {row['top_decile_lift']:.2f} |"
        )
    print(f"\nrecommended: {result.recommended} ({result.reason})")
    for note in result.notes:
        print(f"note: {note}")


def clv_tables(tx: pd.DataFrame, label: str) -> None:
    cal_end, obs_end = pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30")
    holdout = clv.summarise_calibration_holdout(tx, cal_end, obs_end)
    print(f"\n### CLV on {label}: calibration to {cal_end.date()}, holdout to {obs_end.date()}")
    print(
        "\n| model | LL | holdout predicted / actual | error | MAE | 80% interval coverage "
        "| PIT coverage | seconds |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    buckets = {}
    for model in clv.PURCHASE_MODELS:
        start = time.perf_counter()
        fit = clv.fit_purchase_model(model, holdout)
        diag = clv.holdout_diagnostics(fit.params, holdout)
        pred = clv.predictive_summary(
            fit.params,
            float(holdout["duration_holdout"].iloc[0]),
            holdout["frequency"],
            holdout["recency"],
            holdout["T"],
            observed=holdout["frequency_holdout"],
        )
        seconds = time.perf_counter() - start
        o = diag.overall
        print(
            f"| {model} | {fit.log_likelihood:.1f} | {o['predicted_total']:.0f} / "
            f"{o['actual_total']:.0f} | {o['relative_error_total']:+.1%} | "
            f"{o['mae_per_customer']:.3f} | {np.mean(pred.covered):.3f} | "
            f"{np.mean(pred.pit_coverage):.3f} | {seconds:.1f} |"
        )
        buckets[model] = diag.by_frequency.set_index("frequency_bucket")
    first = next(iter(buckets.values()))
    print(
        "\n| calibration repeat purchases | customers | actual mean | "
        + " | ".join(f"{m} predicted" for m in buckets)
        + " |\n|---|---:|---:|"
        + "---:|" * len(buckets)
    )
    for bucket, row in first.iterrows():
        cells = " | ".join(f"{b.loc[bucket, 'predicted_mean']:.3f}" for b in buckets.values())
        name = f"{bucket}+" if bucket == first.index.max() else str(bucket)
        print(f"| {name} | {int(row['n_customers'])} | {row['actual_mean']:.3f} | {cells} |")
    for inner_days in (180, 91):
        fits = clv.fit_clv_models(tx[tx["date"] <= cal_end], cal_end, holdout_days=inner_days)
        chosen = fits.purchase.model if fits.purchase else "none"
        diag = clv.holdout_diagnostics(fits.purchase.params, holdout) if fits.purchase else None
        error = f"{diag.overall['relative_error_total']:+.1%}" if diag else "n/a"
        print(
            f"\nchosen on the inner holdout of the last {inner_days} calibration days: "
            f"{chosen} ({fits.choice_reason}); its error on weeks 40-78: {error}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-generator", action="store_true")
    parser.add_argument("--skip-clv", action="store_true", help="churn scores only")
    args = parser.parse_args()

    cpu = platform.processor() or platform.machine()
    print(f"machine: {os.cpu_count()} cores ({cpu}), {platform.platform()}")

    if not args.skip_generator:
        from customer360.generate import generate

        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "data"
            result = generate(data_dir, people=args.people, seed=args.seed)
            tx, events = generator_history(data_dir)
        data_end = pd.Timestamp(result.as_of).normalize() - pd.Timedelta(days=1)
        for label, ev in (("with engagement", events), ("purchases only", None)):
            start = time.perf_counter()
            backtest = churn.churn_backtest(tx, window_days=90, events=ev, data_end=data_end)
            churn_table(
                f"generator, {args.people:,} people (seed {args.seed}), {label}",
                backtest,
                time.perf_counter() - start,
            )

    for name in ("CDNOW_sample.txt", "CDNOW_master.txt"):
        tx = cdnow(name)
        start = time.perf_counter()
        backtest = churn.churn_backtest(
            tx,
            "1997-07-01",
            "1997-09-30",
            window_days=91,
            horizon_days=273,
            data_end="1998-06-30",
        )
        churn_table(f"CDNOW {name}, 39 + 39 weeks", backtest, time.perf_counter() - start)
        if not args.skip_clv:
            clv_tables(tx, name)


if __name__ == "__main__":
    main()
