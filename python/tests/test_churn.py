"""Tests of the churn library (customer360.churn): metrics on known cases, RFM scoring,
the no-leakage time split, the zero-repeat trap of the model-free score, and the trained
model's AUC on the generator's demo data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DemoExports

from customer360 import churn

START = pd.Timestamp("2023-01-01")


def synthetic_transactions(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Small BG/NBD-like world over 2023-2024 (purchases and engagement events): each
    customer buys at a Gamma-distributed weekly rate and may drop out after a purchase;
    dropped-out customers stop engaging two weeks later."""
    rng = np.random.default_rng(seed)
    horizon = float((pd.Timestamp("2024-12-31") - START).days)
    ids = np.array([f"C{i:05d}" for i in range(n)])
    clock = rng.integers(0, 540, n).astype(float)  # first purchase, days after START
    rate = rng.gamma(0.8, 1 / 6.0, n) / 7  # purchases per day
    dropout = rng.beta(1.0, 4.0, n)
    engaged_until = np.full(n, horizon)
    who, when = [], []
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        who.append(idx)
        when.append(clock[idx])
        drops = rng.random(idx.size) < dropout[idx]
        engaged_until[idx[drops]] = np.minimum(clock[idx[drops]] + 14, horizon)
        gap = rng.exponential(1 / np.maximum(rate[idx], 1e-6))
        clock[idx] += gap
        active[idx[drops | (clock[idx] > horizon)]] = False
    buyer = np.concatenate(who)
    tx = pd.DataFrame(
        {
            "customer_id": ids[buyer],
            "date": START + pd.to_timedelta(np.concatenate(when), unit="D"),
            "amount": np.round(rng.gamma(2.0, 20.0, buyer.size), 2),
        }
    )
    n_events = rng.poisson(np.maximum(engaged_until, 1) / 30)
    person = np.repeat(np.arange(n), n_events)
    ev = pd.DataFrame(
        {
            "customer_id": ids[person],
            "occurred_at": START
            + pd.to_timedelta(rng.uniform(0, 1, person.size) * engaged_until[person], unit="D"),
            "channel": rng.choice(["web", "app", "email"], person.size),
        }
    )
    return tx, ev


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_transactions()


# ----------------------------------------------------------------------------- metrics


def test_roc_auc_known_cases() -> None:
    assert churn.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert churn.roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    # 4 positive-negative pairs: (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) -> 3/4
    assert churn.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert churn.roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="both classes"):
        churn.roc_auc([1, 1], [0.2, 0.3])


def test_brier_known_cases() -> None:
    assert churn.brier_score([1, 0], [1.0, 0.0]) == 0.0
    assert churn.brier_score([1, 0], [0.0, 1.0]) == 1.0
    assert churn.brier_score([1, 0, 1, 0], [0.5] * 4) == pytest.approx(0.25)
    assert churn.brier_score([1, 0], [0.8, 0.4]) == pytest.approx((0.04 + 0.16) / 2)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        churn.brier_score([1], [1.5])


def test_top_decile_lift_known_cases() -> None:
    y = np.array([1] * 2 + [0] * 18)  # 10% churn
    perfect = np.arange(20, 0, -1)  # the two churners score highest
    assert churn.top_decile_lift(y, perfect) == pytest.approx(10.0)
    assert churn.top_decile_lift(y, -perfect) == 0.0
    # a score that ties everybody carries no information: lift exactly 1
    assert churn.top_decile_lift(y, np.ones(20)) == pytest.approx(1.0)
    # top 2 of 20: one churner above the boundary, boundary tie of 2 with one churner
    s = np.array([0.9, 0.5, 0.5] + [0.1] * 17)
    y2 = np.array([1, 1, 0] + [0] * 17)
    assert churn.top_decile_lift(y2, s) == pytest.approx((1 + 0.5) / 2 / 0.1)


def test_calibration_table_known_case() -> None:
    p = np.linspace(0.05, 0.95, 10).repeat(10)
    y = np.concatenate([np.r_[np.ones(k), np.zeros(10 - k)] for k in range(10)])
    table = churn.calibration_table(y, p, bins=10)
    assert list(table["decile"]) == list(range(1, 11))
    assert (table["n"] == 10).all()
    np.testing.assert_allclose(table["mean_predicted"], np.linspace(0.05, 0.95, 10))
    np.testing.assert_allclose(table["observed_rate"], np.arange(10) / 10)


# ----------------------------------------------------------------------------- RFM


def test_quintile_scores_keep_ties_together() -> None:
    values = pd.Series([1, 1, 1, 1, 1, 1, 2, 2, 3, 9])
    scores = churn.quintile_score(values)
    assert scores.tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    recency = pd.Series([0, 10, 20, 30, 40])
    assert churn.quintile_score(recency, higher_is_better=False).tolist() == [5, 4, 3, 2, 1]


def test_rfm_segments_cover_the_grid() -> None:
    r = pd.Series([r for r in range(1, 6) for _ in range(5)])
    f = pd.Series([f for _ in range(5) for f in range(1, 6)])
    segments = churn.rfm_segment(r, f)
    assert segments.notna().all()
    assert set(segments) == set(churn.RFM_SEGMENTS)
    lookup = dict(zip(zip(r, f, strict=True), segments, strict=True))
    assert lookup[(5, 5)] == "champions"
    assert lookup[(5, 1)] == "new"
    assert lookup[(1, 1)] == "lost"
    assert lookup[(1, 5)] == "cannot_lose"
    assert lookup[(2, 3)] == "at_risk"


def test_rfm_table(world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tx, _ = world
    table = churn.rfm_table(tx, "2024-06-30")
    before = tx[tx["date"].dt.floor("D") <= pd.Timestamp("2024-06-30")]
    assert len(table) == before["customer_id"].nunique()
    assert table[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    assert table["monetary"].sum() == pytest.approx(before["amount"].sum())
    # recent buyers score higher on recency
    assert table.groupby("r_score")["recency_days"].mean().is_monotonic_decreasing


# ----------------------------------------------------------------------------- time split


def test_labels_use_the_window_after_the_cutoff_only() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", "d"],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-02-10", "2024-01-05", "2024-03-20", "2024-01-31", "2024-04-30"]
            ),
            "amount": [1.0] * 6,
        }
    )
    labels = churn.churn_labels(tx, "2024-01-31", 30, data_end="2024-04-30")
    # a bought within 30 days after the cutoff, b only later, c on the cutoff day itself
    # (the past), d not yet a customer at the cutoff
    assert labels.to_dict() == {"a": False, "b": True, "c": True}
    recent = churn.churn_labels(tx, "2024-01-31", 30, data_end="2024-04-30", active_within_days=20)
    assert recent.to_dict() == {"c": True}
    with pytest.raises(ValueError, match="not observable"):
        churn.churn_labels(tx, "2024-04-15", 30)


def test_features_do_not_use_post_cutoff_data(world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Perturb everything after the cutoff (drop some, add purchases and events for known
    and new customers, change amounts): the features must not change at all."""
    tx, ev = world
    cutoff = pd.Timestamp("2024-03-31")
    before = churn.features_as_of(tx, cutoff, ev)

    rng = np.random.default_rng(1)
    late = tx["date"] > cutoff + pd.Timedelta(days=1)
    perturbed = tx.copy()
    perturbed.loc[late, "amount"] = perturbed.loc[late, "amount"] * 10
    perturbed = perturbed.drop(perturbed.index[late & (rng.random(len(tx)) < 0.5)])
    extra = pd.DataFrame(
        {
            "customer_id": rng.choice(tx["customer_id"].unique(), 300).tolist() + ["NEW"],
            "date": [cutoff + pd.Timedelta(days=1, hours=1)] * 301,
            "amount": 99.0,
        }
    )
    perturbed = pd.concat([perturbed, extra], ignore_index=True)
    ev_late = ev["occurred_at"] > cutoff + pd.Timedelta(days=1)
    ev_perturbed = pd.concat(
        [
            ev[~ev_late],
            pd.DataFrame(
                {
                    "customer_id": extra["customer_id"],
                    "occurred_at": extra["date"],
                    "channel": "support",  # a channel that first appears after the cutoff
                }
            ),
        ],
        ignore_index=True,
    )
    after = churn.features_as_of(perturbed, cutoff, ev_perturbed)
    pd.testing.assert_frame_equal(before, after)
    # and the check is sharp: a change on the cutoff day itself does change them
    on_cutoff = pd.concat(
        [tx, pd.DataFrame({"customer_id": ["C00000"], "date": [cutoff], "amount": [1.0]})]
    )
    changed = churn.features_as_of(on_cutoff, cutoff, ev)
    assert not changed.equals(before)


def test_events_with_foreign_keys_are_rejected(world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Events keyed by something else (here: ids as numbers) would join to nothing and
    silently zero the engagement features; that must be an error naming the column."""
    tx, ev = world
    foreign = ev.assign(customer_id=ev["customer_id"].str[1:].astype(int))
    with pytest.raises(ValueError, match="'customer_id' shares no id"):
        churn.features_as_of(tx, "2024-06-30", foreign)


def test_backtest_rejects_overlapping_windows(world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tx, _ = world
    with pytest.raises(
        churn.ImpossibleSplitError,
        match=r"end after the test cutoff 2024-04-01.*1,168 at the train cutoff",
    ):
        churn.churn_backtest(tx, "2024-03-01", "2024-04-01", window_days=90)


# ----------------------------------------------------------------------------- scores


def test_model_free_score_separates_zero_repeat_customers(
    world: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """The zero-repeat trap: BG/NBD P(alive) is 1 for every customer without a repeat
    purchase. The model-free score must not be constant on them, and must rank an older
    one-time buyer as more likely churned than a recent one."""
    tx, _ = world
    cutoff = "2024-06-30"
    scores = churn.clv_churn_score(tx, cutoff, horizon_days=90)
    rfm = churn.rfm_table(tx, cutoff)
    zero = rfm.index[rfm["frequency"] == 1]
    assert len(zero) > 50
    assert (scores.loc[zero, "p_alive"] == 1.0).all()  # the trap is real
    zero_scores = scores.loc[zero, "churn_score_clv"]
    assert zero_scores.nunique() > 10
    # for a one-time buyer the score is increasing in the age of that purchase
    corr = zero_scores.corr(rfm.loc[zero, "recency_days"].astype(float), method="spearman")
    assert corr > 0.99
    assert scores["churn_score_clv"].between(0, 1).all()


def test_backtest_on_synthetic_world(world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tx, ev = world
    result = churn.churn_backtest(tx, "2024-03-31", "2024-07-31", window_days=90, events=ev)
    metrics = result.metrics.set_index("score")
    assert set(metrics.index) == {"model", "clv", "pnbd", "recency"}
    # every score beats random on a world where churn is real
    assert (metrics["auc"] > 0.6).all()
    assert (metrics["top_decile_lift"] > 1.0).all()
    assert (metrics["log_loss"] > 0).all()
    assert set(result.calibration["score"]) == set(metrics.index)
    assert result.calibration.groupby("score")["n"].sum().eq(len(result.predictions)).all()
    # gains: cumulative share of churners reaches 1 at the last decile
    last = result.calibration[result.calibration["decile"] == 10]
    np.testing.assert_allclose(last["share_of_churners"], 1.0)
    # the learner was chosen by cross-validation on cutoffs before the training labels end
    assert result.learner in churn.CANDIDATES
    assert set(result.cv["learner"]) == set(churn.CV_CANDIDATES)
    train_end = result.split.train_cutoff + pd.Timedelta(days=90)
    assert (result.cv["validation_cutoff"] + pd.Timedelta(days=90) <= train_end).all()
    assert result.recommended in {"model", *churn.BASELINES}
    # deterministic: the same inputs give the same scores
    again = churn.churn_backtest(tx, "2024-03-31", "2024-07-31", window_days=90, events=ev)
    pd.testing.assert_frame_equal(result.predictions, again.predictions)


def test_scores_do_not_depend_on_row_order_or_ids(
    world: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Issue 17: the same customers get the same scores when the input rows are shuffled
    and the ids renamed so that they sort in a different order."""
    tx, ev = world
    base = churn.churn_backtest(tx, window_days=90, events=ev, data_end="2024-12-31")
    ids = pd.Series(tx["customer_id"].unique())
    renamed = dict(
        zip(ids, [f"Z{9999 - i:05d}-{i * 7919 % 1000:03d}" for i in range(len(ids))], strict=True)
    )
    tx2 = tx.assign(customer_id=tx["customer_id"].map(renamed)).sample(frac=1.0, random_state=5)
    ev2 = ev.assign(customer_id=ev["customer_id"].map(renamed)).sample(frac=1.0, random_state=6)
    other = churn.churn_backtest(tx2, window_days=90, events=ev2, data_end="2024-12-31")
    back = {v: k for k, v in renamed.items()}
    moved = other.predictions.rename(index=back).sort_index()
    assert other.learner == base.learner
    for column in base.predictions.columns:
        np.testing.assert_allclose(
            moved[column].astype(float),
            base.predictions.sort_index()[column].astype(float),
            rtol=1e-9,
            atol=1e-12,
            err_msg=column,
        )


def test_fallback_rule() -> None:
    """The trained model is published only when it beats recency and the model-free score
    on both AUC and Brier; otherwise the best baseline by Brier, and the reason says so."""

    def metrics(model_auc: float, model_brier: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "score": ["model", "clv", "pnbd", "recency"],
                "auc": [model_auc, 0.80, 0.81, 0.78],
                "brier": [model_brier, 0.150, 0.145, 0.160],
            }
        )

    assert churn.recommend_score(metrics(0.85, 0.140))[0] == "model"
    for auc, brier in ((0.85, 0.151), (0.79, 0.140), (0.70, 0.20)):
        chosen, why = churn.recommend_score(metrics(auc, brier))
        assert chosen == "pnbd", (auc, brier)  # the best baseline by Brier
        assert "fallback" in why and "does not beat" in why
    no_model = metrics(0.5, 0.5).iloc[1:]
    assert churn.recommend_score(no_model)[0] == "pnbd"


def test_shop_only_history_without_engagement_events(
    world: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Issue 13: purchases only (no web/app/e-mail events, None or an empty table): the
    engagement features are simply absent and every score is computed."""
    tx, _ = world
    empty = pd.DataFrame({"customer_id": [], "occurred_at": pd.to_datetime([]), "channel": []})
    for events in (None, empty):
        result = churn.churn_backtest(tx, window_days=90, events=events, data_end="2024-12-31")
        assert result.model is not None
        assert not any(name.startswith("events") for name in result.model.feature_names)
        assert set(result.metrics["score"]) == {"model", "clv", "pnbd", "recency"}
        table = churn.churn_scores(tx, "2024-12-31", 90, events, recommended=result.recommended)
        assert table["churn_risk"].between(0, 1).all()
        assert (table["churn_risk_source"] == result.recommended).all()


def test_single_label_class_degrades() -> None:
    """Nobody buys again after the training cutoff: no trained model (its score null, the
    reason in the notes) and churn_risk falls back to a baseline, instead of an error."""
    rng = np.random.default_rng(3)
    n = 300
    first = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 120, n), unit="D")
    repeat = first + pd.to_timedelta(rng.integers(1, 40, n), unit="D")
    tx = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)] * 2,
            "date": list(first) + list(repeat),
            "amount": 10.0,
        }
    )
    table = churn.churn_scores(tx, "2024-12-31", 90)
    assert table["churn_score_model"].isna().all()
    assert table["churn_risk"].notna().all()
    assert (table["churn_risk_source"] != "model").all()
    with pytest.raises(churn.NotEnoughDataError, match="only one class"):
        churn.churn_backtest(tx, window_days=90, data_end="2024-12-31")


def test_impossible_split_names_dates_and_counts(
    world: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Issue 13: a CDNOW-like split whose training cutoff precedes every purchase fails
    with the dates and the customer counts, not with 'only one class present'."""
    tx, _ = world
    with pytest.raises(churn.ImpossibleSplitError) as info:
        churn.churn_backtest(
            tx, "2022-12-01", "2023-03-01", window_days=60, data_end="2024-12-31", horizon_days=90
        )
    message = str(info.value)
    assert "no customer had bought by the train cutoff 2022-12-01" in message
    assert "0 at the train cutoff" in message and "purchases run from 2023-01-01" in message
    with pytest.raises(churn.ImpossibleSplitError, match=r"data ends 2024-12-31"):
        churn.churn_backtest(tx, window_days=90, test_cutoff="2024-12-01", data_end="2024-12-31")
    # a horizon longer than the training window is legal (CDNOW: 13-week training labels,
    # 39-week holdout)
    result = churn.churn_backtest(
        tx, "2024-01-31", "2024-05-01", window_days=90, horizon_days=240, data_end="2024-12-31"
    )
    assert result.split.horizon_days == 240


def test_churn_scores_for_the_mart(world: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tx, ev = world
    table = churn.churn_scores(tx, "2024-12-31", window_days=90, events=ev)
    assert len(table) == tx["customer_id"].nunique()
    columns = ("churn_score_model", "churn_score_clv", "churn_score_pnbd", "churn_score_recency")
    for column in (*columns, "churn_risk", "p_alive", "p_purchase"):
        assert table[column].between(0, 1).all(), column
    assert (table["churn_risk_source"] == "model").all()
    np.testing.assert_allclose(table["churn_risk"], table["churn_score_model"])
    assert table["rfm_segment"].isin(churn.RFM_SEGMENTS).all()
    # label of the last observed window exists exactly for customers who had bought by then
    known = tx[tx["date"].dt.floor("D") <= pd.Timestamp("2024-10-02")]["customer_id"].unique()
    assert table["churned_last_window"].notna().sum() == len(known)
    fallback = churn.churn_scores(tx, "2024-12-31", window_days=90, events=ev, recommended="clv")
    np.testing.assert_allclose(fallback["churn_risk"], fallback["churn_score_clv"])
    assert (fallback["churn_risk_source"] == "clv").all()


# ----------------------------------------------------------------------------- demo data

DEMO_PEOPLE = 2000
DEMO_SEED = 7  # the seed of conftest's demo warehouse

# engagement sources: (system, table, column, truth table holding that column's record,
# timestamp column, channel); events reach their person through the record they belong to
ENGAGEMENT_SOURCES = (
    ("web", "events", "event_id", "events", "occurred_at", "web"),
    ("app", "events", "device_id", "devices", "occurred_at", "app"),
    ("newsletter", "email_events", "subscriber_id", "subscribers", "occurred_at", "email"),
    ("support", "tickets", "ticket_id", "tickets", "opened_at", "support"),
)


def generator_transactions(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders (not cancelled) and POS transactions, and engagement events, keyed by the
    generator's true person id (a stand-in for the resolved customer id until the
    identity marts exist). Amounts stay in the order currency."""
    truth = pd.read_parquet(data_dir / "truth" / "records.parquet")

    def with_person(system: str, table: str, key: str, truth_table: str = "") -> pd.DataFrame:
        frame = pd.read_parquet(data_dir / "raw" / system / f"{table}.parquet")
        truth_table = truth_table or table
        keys = truth[(truth["source_system"] == system) & (truth["source_table"] == truth_table)]
        # ids carry case/whitespace noise in some exports (device ids): compare normalised
        lookup = keys.assign(_key=keys["record_key"].str.strip().str.lower())
        out = frame.assign(_key=frame[key].astype("string").str.strip().str.lower()).merge(
            lookup[["_key", "person_id"]], on="_key", how="left"
        )
        assert out["person_id"].notna().all(), f"{system}.{table}: rows without a true person"
        return out

    orders = with_person("shop", "orders", "order_id")
    orders = orders[orders["status"] != "cancelled"]
    pos = with_person("loyalty", "pos_transactions", "transaction_id")
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
            pd.DataFrame(
                {
                    "customer_id": frame["person_id"],
                    "occurred_at": frame[ts],
                    "channel": channel,
                }
            )
            for system, table, key, truth_table, ts, channel in ENGAGEMENT_SOURCES
            for frame in [with_person(system, table, key, truth_table)]
        ],
        ignore_index=True,
    )
    return tx, events


@pytest.fixture(scope="module")
def demo_data(
    demo_exports: DemoExports, tmp_path_factory: pytest.TempPathFactory
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """The demo exports of 2,000 people (conftest's, generated once per session; no dbt),
    or the same generated here when C360_TEST_PEOPLE gives the session another size."""
    result = demo_exports.generation
    if (result.people, result.seed) != (DEMO_PEOPLE, DEMO_SEED):
        from customer360.generate import generate

        data_dir = tmp_path_factory.mktemp("churn-demo") / "data"
        result = generate(data_dir, people=DEMO_PEOPLE, seed=DEMO_SEED)
    tx, events = generator_transactions(result.data_dir)
    data_end = pd.Timestamp(result.as_of).normalize() - pd.Timedelta(days=1)
    return tx, events, data_end


@pytest.mark.parametrize(("active_within_days", "min_auc"), [(None, 0.75), (365, 0.70)])
def test_trained_model_auc_on_demo_data(
    demo_data: tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp],
    active_within_days: int | None,
    min_auc: float,
) -> None:
    """Issue 4: on the demo data the trained model's AUC must be >= 0.75 on a time-based
    holdout (90-day window; trained at c1 = end - 180 d, evaluated at c2 = end - 90 d) for
    everybody who ever bought. Restricted to customers active in the last year (harder: no
    long-lapsed customers to call churned) it is lower (about 0.75-0.80 depending on the
    generator version), so that variant only guards against a collapse (>= 0.70)."""
    tx, events, data_end = demo_data
    c2 = data_end - pd.Timedelta(days=90)
    c1 = c2 - pd.Timedelta(days=90)
    result = churn.churn_backtest(
        tx, c1, c2, 90, events=events, data_end=data_end, active_within_days=active_within_days
    )
    metrics = result.metrics.set_index("score")
    assert metrics.loc["model", "n"] >= 500
    assert 0.05 < metrics.loc["model", "churn_rate"] < 0.95
    assert metrics.loc["model", "auc"] >= min_auc, metrics
    assert metrics.loc["model", "top_decile_lift"] > 1.0
    assert metrics.loc["clv", "auc"] > 0.6


def test_trained_model_on_demo_data_and_the_fallback_rule(
    demo_data: tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp],
) -> None:
    """Issue 17 on the generator's data (default split: 90-day windows ending at the data
    end, learner chosen by time-based cross-validation): the trained model clearly beats
    recency on AUC and Brier and is level with the model-free score (within 0.01 AUC and
    0.005 Brier: on the default seed it is 0.004 AUC behind, on seeds 3 and 11 ahead by as
    little, docs/clv-and-churn.md); churn_risk follows the rule - the model only when it
    beats recency and the model-free score on both, else the best baseline, saying why."""
    tx, events, data_end = demo_data
    result = churn.churn_backtest(tx, window_days=90, events=events, data_end=data_end)
    m = result.metrics.set_index("score")
    assert m.loc["model", "auc"] > m.loc["recency", "auc"] + 0.02, m
    assert m.loc["model", "brier"] < m.loc["recency", "brier"] - 0.005, m
    assert abs(m.loc["model", "auc"] - m.loc["clv", "auc"]) < 0.01, m
    assert abs(m.loc["model", "brier"] - m.loc["clv", "brier"]) < 0.005, m
    beats = all(
        m.loc["model", "auc"] > m.loc[b, "auc"] and m.loc["model", "brier"] < m.loc[b, "brier"]
        for b in ("recency", "clv")
    )
    if beats:
        assert result.recommended == "model", result.reason
    else:
        baselines = [b for b in churn.BASELINES if b in m.index]
        best = min(baselines, key=lambda b: (m.loc[b, "brier"], -m.loc[b, "auc"]))
        assert result.recommended == best, result.reason
        assert "does not beat recency and clv" in result.reason, result.reason
