"""Churn: RFM scores and segments, a leakage-free churn label, a trained churn-risk score,
a model-free score from the CLV model, and the metrics that compare them.

All functions take plain DataFrames so that the CLI, the tests and a dbt Python model can
call them:

* transactions: one row per purchase with a customer id, a date or timestamp and an
  amount (column names are arguments; defaults ``customer_id``, ``date``, ``amount``);
* engagement events (optional): one row per interaction with a customer id, a timestamp
  and optionally a channel (``web``, ``app``, ``email``, ``support`` ...).

Time is handled in calendar days. A **cutoff** is a day: everything on or before it is
the past (features), the ``window_days`` days after it are the future (label). Purchases on
one day collapse into one purchase day (as in ``customer360.clv``).

**Churn label**: a customer with at least one purchase on or before the cutoff is
*churned* if they make no purchase in ``(cutoff, cutoff + window_days]``. Features are
computed from data on or before the cutoff only (``features_as_of`` filters first, then
aggregates), so the label window cannot leak into them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from customer360 import clv
from customer360.clv import DateLike

# ----------------------------------------------------------------------------- RFM

#: Segment of each (recency score, frequency score) cell; rows are r = 5..1, columns f = 1..5.
#: A variant of the widely used RFM grid, with r = 1, f <= 2 split off as "lost".
RFM_SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    4: ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    1: ("lost", "lost", "at_risk", "at_risk", "cannot_lose"),
}

RFM_SEGMENTS: tuple[str, ...] = tuple(
    dict.fromkeys(s for row in RFM_SEGMENT_GRID.values() for s in row)
)


def quintile_score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Score 1-5: ``1 + floor(5 * share of customers with a strictly worse value)``.

    Ties always get the same score and the worst value always scores 1 (plain quintile
    cuts would split the many customers with one purchase across scores arbitrarily).
    """
    if len(values) == 0:
        return pd.Series([], dtype="int64", index=values.index)
    oriented = values if higher_is_better else -values
    worse = oriented.rank(method="min") - 1  # customers strictly worse than this one
    return (1 + np.floor(5 * worse / len(values))).clip(1, 5).astype("int64")


def rfm_segment(r_score: pd.Series, f_score: pd.Series) -> pd.Series:
    """Named segment from the recency and frequency scores (see ``RFM_SEGMENT_GRID``)."""
    names = [RFM_SEGMENT_GRID[int(r)][int(f) - 1] for r, f in zip(r_score, f_score, strict=True)]
    return pd.Series(names, index=r_score.index, dtype="string")


def rfm_table(
    tx: pd.DataFrame,
    as_of: DateLike,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """RFM values, scores and segment as of a day, from purchases on or before it.

    Columns (indexed by ``customer_id``): ``recency_days`` (days since the last purchase
    day), ``frequency`` (purchase days), ``monetary`` (total amount), ``r_score``,
    ``f_score``, ``m_score`` (1-5, see ``quintile_score``; recent is better), ``rfm_score``
    (e.g. "543") and ``rfm_segment``.
    """
    days = _days_until(tx, as_of, customer_col, date_col, amount_col)
    end = clv.as_day(as_of, "as_of")
    grouped = days.groupby("customer_id")
    out = pd.DataFrame(
        {
            "recency_days": (end - grouped["day"].max()).dt.days,
            "frequency": grouped["day"].size(),
            "monetary": grouped["amount"].sum(),
        }
    )
    out["r_score"] = quintile_score(out["recency_days"], higher_is_better=False)
    out["f_score"] = quintile_score(out["frequency"])
    out["m_score"] = quintile_score(out["monetary"])
    out["rfm_score"] = (
        out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    )
    out["rfm_segment"] = rfm_segment(out["r_score"], out["f_score"])
    out.index.name = "customer_id"
    return out


# ----------------------------------------------------------------------------- label


def churn_labels(
    tx: pd.DataFrame,
    cutoff: DateLike,
    window_days: int,
    *,
    data_end: DateLike | None = None,
    active_within_days: int | None = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
) -> pd.Series:
    """``churned`` (bool) per customer with a purchase on or before ``cutoff``: True when
    there is no purchase in ``(cutoff, cutoff + window_days]``.

    ``active_within_days`` restricts the population to customers with a purchase in the
    last that many days up to the cutoff (long-lapsed customers are easy to call churned
    and inflate AUC); ``None`` keeps everybody who ever bought.

    ``data_end`` is the last day the transactions cover (default: the last purchase day in
    ``tx``). A window that ends after it cannot be observed and raises ``ValueError``
    rather than labelling everybody as churned.
    """
    if window_days < 1:
        raise ValueError(f"window_days must be >= 1, got {window_days}")
    days = clv.purchase_days(tx, customer_col=customer_col, date_col=date_col, amount_col=None)
    start = clv.as_day(cutoff, "cutoff")
    window_end = start + pd.Timedelta(days=window_days)
    last = clv.as_day(data_end, "data_end") if data_end is not None else days["day"].max()
    if window_end > last:
        raise ValueError(
            f"label window {start.date()} + {window_days} days ends {window_end.date()}, "
            f"after the end of the transactions ({last.date()}): the label is not observable"
        )
    past = days["day"] <= start
    if active_within_days is not None:
        past &= days["day"] > start - pd.Timedelta(days=active_within_days)
    population = days.loc[past, "customer_id"].unique()
    in_window = days[(days["day"] > start) & (days["day"] <= window_end)]
    bought = pd.Index(in_window["customer_id"].unique())
    labels = pd.Series(~pd.Index(population).isin(bought), index=population, name="churned")
    labels.index.name = "customer_id"
    return labels.sort_index()


# ----------------------------------------------------------------------------- features


def features_as_of(
    tx: pd.DataFrame,
    cutoff: DateLike,
    events: pd.DataFrame | None = None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    event_customer_col: str = "customer_id",
    event_time_col: str = "occurred_at",
    event_channel_col: str | None = "channel",
) -> pd.DataFrame:
    """Per-customer features from data on or before ``cutoff`` only (no leakage).

    One row per customer with a purchase on or before the cutoff. Purchase features:
    ``recency_days``, ``frequency``, ``monetary`` (total), ``monetary_mean``,
    ``tenure_days`` (since the first purchase), ``purchases_30d``/``90d``/``365d``,
    ``spend_90d``, ``mean_gap_days`` (mean days between purchase days; NaN with one),
    ``recency_to_gap`` (recency_days / mean_gap_days), ``r_score``, ``f_score``,
    ``m_score``. Engagement features (when ``events`` is given): ``events_total``,
    ``events_30d``, ``events_90d``, ``days_since_event`` (NaN without any) and
    ``events_90d_<channel>`` per channel seen before the cutoff.
    """
    end = clv.as_day(cutoff, "cutoff")
    days = _days_until(tx, end, customer_col, date_col, amount_col)
    grouped = days.groupby("customer_id")
    first = grouped["day"].min()
    last = grouped["day"].max()
    n_days = grouped["day"].size()
    age = (end - days["day"]).dt.days
    out = pd.DataFrame(
        {
            "recency_days": (end - last).dt.days.astype(float),
            "frequency": n_days.astype(float),
            "monetary": grouped["amount"].sum(),
            "tenure_days": (end - first).dt.days.astype(float),
        }
    )
    out["monetary_mean"] = out["monetary"] / out["frequency"]
    for window in (30, 90, 365):
        recent = days[age < window].groupby("customer_id")["day"].size()
        out[f"purchases_{window}d"] = recent.reindex(out.index).fillna(0).astype(float)
    out["spend_90d"] = (
        days[age < 90].groupby("customer_id")["amount"].sum().reindex(out.index).fillna(0.0)
    )
    span = (last - first).dt.days.astype(float)
    out["mean_gap_days"] = (span / (n_days - 1)).where(n_days > 1)
    out["recency_to_gap"] = out["recency_days"] / out["mean_gap_days"]
    out["r_score"] = quintile_score(out["recency_days"], higher_is_better=False).astype(float)
    out["f_score"] = quintile_score(out["frequency"]).astype(float)
    out["m_score"] = quintile_score(out["monetary"]).astype(float)
    if events is not None:
        out = out.join(
            _engagement_features(
                events, end, out.index, event_customer_col, event_time_col, event_channel_col
            )
        )
    out.index.name = "customer_id"
    return out.sort_index()


def _days_until(
    tx: pd.DataFrame, end: DateLike, customer_col: str, date_col: str, amount_col: str
) -> pd.DataFrame:
    days = clv.purchase_days(
        tx, customer_col=customer_col, date_col=date_col, amount_col=amount_col
    )
    return days[days["day"] <= clv.as_day(end, "cutoff")]


def _engagement_features(
    events: pd.DataFrame,
    end: pd.Timestamp,
    customers: pd.Index,
    customer_col: str,
    time_col: str,
    channel_col: str | None,
) -> pd.DataFrame:
    needed = [customer_col, time_col] + ([channel_col] if channel_col else [])
    missing = [c for c in needed if c not in events.columns]
    if missing:
        raise ValueError(f"events: missing column(s) {missing}; has {list(events.columns)}")
    day = clv.to_day(events[time_col], f"events.{time_col}")
    frame = pd.DataFrame({"customer_id": events[customer_col].to_numpy(), "day": day.to_numpy()})
    if channel_col:
        frame["channel"] = events[channel_col].astype("string").fillna("unknown").to_numpy()
    frame = frame[frame["customer_id"].notna() & (frame["day"] <= end)]
    if len(frame) and len(customers) and not frame["customer_id"].isin(customers).any():
        raise ValueError(
            f"events: column {customer_col!r} shares no id with the transactions' customers "
            f"(dtypes {frame['customer_id'].dtype} vs {customers.dtype}): wrong key?"
        )
    age = (end - frame["day"]).dt.days
    by = frame.groupby("customer_id")
    out = pd.DataFrame(index=customers)
    out["events_total"] = by.size().reindex(customers).fillna(0).astype(float)
    for window in (30, 90):
        out[f"events_{window}d"] = (
            frame[age < window].groupby("customer_id").size().reindex(customers).fillna(0)
        ).astype(float)
    out["days_since_event"] = (end - by["day"].max()).dt.days.reindex(customers).astype(float)
    if channel_col:
        recent = frame[age < 90]
        for channel in sorted(frame["channel"].unique()):
            counts = recent[recent["channel"] == channel].groupby("customer_id").size()
            out[f"events_90d_{channel}"] = counts.reindex(customers).fillna(0).astype(float)
    return out


# ----------------------------------------------------------------------------- splits


class ImpossibleSplitError(ValueError):
    """A configured churn split that the data cannot support (names dates and counts)."""


@dataclass(frozen=True)
class ChurnSplit:
    """The time split of a churn evaluation. Every date is a day; data on or before a
    cutoff is the past. Training labels come from ``(train_cutoff, train_cutoff +
    window_days]``, which must end on or before ``test_cutoff`` (nothing after the test
    cutoff is used to train); test labels from ``(test_cutoff, test_cutoff + horizon_days]``,
    which must end on or before ``data_end``. ``cv_cutoffs`` are the validation cutoffs of
    the model choice: for each, a model trained ``window_days`` earlier is validated on
    the window after it, every window ending on or before ``train_cutoff + window_days``."""

    train_cutoff: pd.Timestamp
    test_cutoff: pd.Timestamp
    window_days: int
    horizon_days: int
    data_end: pd.Timestamp
    cv_cutoffs: tuple[pd.Timestamp, ...]

    def describe(self) -> str:
        return (
            f"train cutoff {self.train_cutoff.date()} (labels to "
            f"{(self.train_cutoff + pd.Timedelta(days=self.window_days)).date()}), test cutoff "
            f"{self.test_cutoff.date()} (labels to "
            f"{(self.test_cutoff + pd.Timedelta(days=self.horizon_days)).date()}), "
            f"data end {self.data_end.date()}"
        )


def make_split(
    tx: pd.DataFrame,
    *,
    window_days: int,
    data_end: DateLike,
    test_cutoff: DateLike | None = None,
    train_cutoff: DateLike | None = None,
    horizon_days: int | None = None,
    n_cv_folds: int = 2,
    customer_col: str = "customer_id",
    date_col: str = "date",
) -> ChurnSplit:
    """The split for ``churn_backtest``: ``test_cutoff`` defaults to ``data_end -
    horizon_days``, ``train_cutoff`` to ``test_cutoff - window_days`` (``horizon_days``
    defaults to ``window_days``). An impossible split raises ``ImpossibleSplitError``
    naming the dates and how many customers had bought by each cutoff."""
    if window_days < 1:
        raise ImpossibleSplitError(f"churn window_days must be >= 1, got {window_days}")
    horizon = int(horizon_days) if horizon_days is not None else int(window_days)
    if horizon < 1:
        raise ImpossibleSplitError(f"churn horizon_days must be >= 1, got {horizon}")
    end = clv.as_day(data_end, "data_end")
    test = (
        clv.as_day(test_cutoff, "test_cutoff")
        if test_cutoff is not None
        else end - pd.Timedelta(days=horizon)
    )
    train = (
        clv.as_day(train_cutoff, "train_cutoff")
        if train_cutoff is not None
        else test - pd.Timedelta(days=window_days)
    )
    days = clv.purchase_days(tx, customer_col=customer_col, date_col=date_col, amount_col=None)
    first = days.groupby("customer_id")["day"].min()

    def bought_by(day: pd.Timestamp) -> int:
        return int((first <= day).sum())

    counts = (
        f"customers who had bought by then: {bought_by(train):,} at the train cutoff, "
        f"{bought_by(test):,} at the test cutoff, {len(first):,} by the data end; "
        f"purchases run from {first.min().date() if len(first) else 'nowhere'} to "
        f"{days['day'].max().date() if len(days) else 'nowhere'}"
    )
    window = pd.Timedelta(days=window_days)
    if test + pd.Timedelta(days=horizon) > end:
        raise ImpossibleSplitError(
            f"churn split: the test labels need ({test.date()}, "
            f"{(test + pd.Timedelta(days=horizon)).date()}] but the data ends {end.date()} "
            f"(test cutoff {test.date()} + horizon {horizon} days); {counts}"
        )
    if train + window > test:
        raise ImpossibleSplitError(
            f"churn split: the training labels ({train.date()}, {(train + window).date()}] "
            f"end after the test cutoff {test.date()}: training would see the test period "
            f"(train cutoff {train.date()} + window {window_days} days); {counts}"
        )
    if bought_by(train) == 0:
        raise ImpossibleSplitError(
            f"churn split: no customer had bought by the train cutoff {train.date()}; "
            f"{counts}. Move the train cutoff later or shorten the window."
        )
    cv = tuple(train - j * window for j in range(n_cv_folds))
    cv = tuple(c for c in cv if bought_by(c - window) > 0)
    return ChurnSplit(train, test, int(window_days), horizon, end, cv)


# ----------------------------------------------------------------------------- model features


def quick_fits(
    summary: pd.DataFrame,
    max_customers: int | None = 20_000,
    models: tuple[str, ...] = ("bgnbd", "pnbd"),
) -> dict[str, clv.FitResult]:
    """Purchase models fitted quickly (quasi-Newton only, on at most ``max_customers``
    customers) for churn features and baselines; a model whose fit fails or does not
    converge is left out."""
    fits = {}
    for name in models:
        try:
            fit = clv.fit_purchase_model(name, summary, max_customers=max_customers, polish=False)
        except ValueError:
            continue
        if fit.converged:
            fits[name] = fit
    return fits


def _model_columns(
    summary: pd.DataFrame, fits: dict[str, clv.FitResult], window_days: int
) -> pd.DataFrame:
    out = pd.DataFrame(index=summary.index)
    weeks = window_days / clv.DAYS_PER_WEEK
    args = (summary["frequency"], summary["recency"], summary["T"])
    for name, fit in fits.items():
        with np.errstate(all="ignore"):
            sf = clv.purchase_count_sf(fit.params, weeks, *args, k_max=1)
            expected = clv.conditional_expected_purchases(fit.params, weeks, *args)
        if not (np.isfinite(sf).all() and np.isfinite(expected).all()):
            continue
        out[f"{name}_p_purchase"] = sf[:, 1]
        out[f"{name}_expected_purchases"] = expected
        if name == "pnbd":
            out["pnbd_p_alive"] = clv.probability_alive(fit.params, *args)
    out.index.name = "customer_id"
    return out


def model_features(
    tx: pd.DataFrame,
    cutoff: DateLike,
    window_days: int,
    *,
    max_customers: int | None = 20_000,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """Purchase-model quantities as of ``cutoff`` (fitted on data up to it, so they cannot
    leak): BG/NBD and Pareto/NBD probability of a purchase in the next ``window_days``,
    expected purchases in it, Pareto/NBD P(alive). Columns of a model whose fit fails or
    does not converge are left out (``quick_fits``)."""
    summary = clv.summarise_transactions(
        tx, cutoff, customer_col=customer_col, date_col=date_col, amount_col=amount_col
    )
    return _model_columns(summary, quick_fits(summary, max_customers), window_days)


# ----------------------------------------------------------------------------- learners

#: the learners the model choice compares (scikit-learn), by name
CANDIDATES: tuple[str, ...] = ("logistic", "logistic_strong", "hgb", "hgb_small")


#: the learners the cross-validation compares by default: ``hgb`` (300 trees) costs more
#: than the others together and lost every comparison on the generator and CDNOW
CV_CANDIDATES: tuple[str, ...] = ("logistic", "logistic_strong", "hgb_small")


def _signed_log1p(values: np.ndarray) -> np.ndarray:
    """sign(v) log(1 + |v|): counts, amounts and day spans are heavy-tailed."""
    return np.sign(values) * np.log1p(np.abs(values))


def make_estimator(name: str, n_train: int, random_state: int = 0):
    """A fresh, unfitted scikit-learn estimator for candidate ``name``."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if name in ("logistic", "logistic_strong"):
        return make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            FunctionTransformer(_signed_log1p),
            StandardScaler(),
            LogisticRegression(C=1.0 if name == "logistic" else 0.05, max_iter=2000),
        )
    early = n_train >= 2000  # the validation split needs enough of both classes
    if name == "hgb":
        return HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=300,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=early,
            validation_fraction=0.15,
            random_state=random_state,
        )
    if name == "hgb_small":
        return HistGradientBoostingClassifier(
            learning_rate=0.1,
            max_iter=100,
            max_leaf_nodes=7,
            min_samples_leaf=80,
            l2_regularization=1.0,
            early_stopping=early,
            validation_fraction=0.15,
            random_state=random_state,
        )
    raise ValueError(f"unknown churn learner {name!r}; expected one of {CANDIDATES}")


@dataclass(frozen=True)
class ChurnModel:
    """A fitted classifier and the feature columns it was trained on (in order)."""

    estimator: object
    feature_names: tuple[str, ...]
    train_cutoff: pd.Timestamp
    window_days: int
    n_train: int
    train_churn_rate: float
    learner: str = "hgb"


#: training rows above which the learners fit on a systematic sample (speed on large builds)
MAX_TRAIN_ROWS = 100_000


class NotEnoughDataError(ValueError):
    """The data cannot support a trained model (the reason is the message)."""


def _content_order(matrix: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row order by content (features, then label): training then does not depend on the
    input row order or on the customer ids (identical rows are interchangeable)."""
    keys = [np.nan_to_num(matrix[:, j], nan=np.inf) for j in range(matrix.shape[1])][::-1]
    return np.lexsort([y, *keys])


def train_churn_model(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    train_cutoff: DateLike,
    window_days: int,
    learner: str = "hgb",
    random_state: int = 0,
    max_rows: int | None = MAX_TRAIN_ROWS,
) -> ChurnModel:
    """Fit candidate ``learner`` of ``churned`` on the features (rows matched by customer
    id). Features that are all missing or constant in the training rows are left out (a
    system the user does not have simply contributes nothing). Above ``max_rows``
    customers a systematic sample in content order is used (deterministic, stratified by
    the first feature). Raises ``NotEnoughDataError`` with only one class."""
    data = features.join(labels.rename("churned"), how="inner")
    if len(data) != len(features) or len(data) != len(labels):
        raise ValueError(
            f"features ({len(features)} customers) and labels ({len(labels)}) "
            f"do not cover the same customers ({len(data)} in common)"
        )
    n_classes = data["churned"].nunique()
    if n_classes < 2:
        only = "churned" if len(data) and bool(data["churned"].iloc[0]) else "retained"
        raise NotEnoughDataError(
            f"labels: only one class present ({len(data)} customers, all {only}) at the "
            f"train cutoff {clv.as_day(train_cutoff, 'train_cutoff').date()}; "
            f"cannot train a churn model"
        )
    usable = [
        c for c in features.columns if data[c].notna().any() and data[c].nunique(dropna=False) > 1
    ]
    if not usable:
        raise NotEnoughDataError("features: every feature is missing or constant")
    matrix = data[usable].to_numpy(float)
    y = data["churned"].astype(int).to_numpy()
    order = _content_order(matrix, y)
    if max_rows is not None and len(order) > max_rows:
        step = len(order) / max_rows
        order = order[np.floor(np.arange(max_rows) * step + step / 2).astype(int)]
    estimator = make_estimator(learner, len(order), random_state)
    # one OpenMP thread: small data, and no slow-down when other jobs share the cores
    with threadpool_limits(limits=1):
        estimator.fit(matrix[order], y[order])
    return ChurnModel(
        estimator,
        tuple(usable),
        clv.as_day(train_cutoff, "train_cutoff"),
        window_days,
        len(data),
        float(data["churned"].mean()),
        learner,
    )


def predict_churn(model: ChurnModel, features: pd.DataFrame) -> pd.Series:
    """Churn probability per customer. Feature columns absent from ``features`` (e.g. a
    channel not seen before this cutoff) are 0; extra columns are ignored."""
    aligned = features.reindex(columns=list(model.feature_names), fill_value=0.0)
    with threadpool_limits(limits=1):
        proba = model.estimator.predict_proba(aligned.to_numpy(float))[:, 1]
    return pd.Series(proba, index=features.index, name="churn_score_model")


# ----------------------------------------------------------------------------- baselines


def clv_churn_score(
    tx: pd.DataFrame,
    cutoff: DateLike,
    horizon_days: int,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """The model-free churn score from the BG/NBD model fitted on data up to ``cutoff``:
    ``churn_score_clv = 1 - P(at least one purchase in the next horizon_days)``.

    BG/NBD P(alive) is exactly 1 for every customer without a repeat purchase, so it is
    returned for reference (``p_alive``) but is not the score. Raises
    ``NotEnoughDataError`` when the BG/NBD fit does not converge."""
    summary = clv.summarise_transactions(
        tx, cutoff, customer_col=customer_col, date_col=date_col, amount_col=amount_col
    )
    fit = clv.fit_bgnbd(summary)
    args = (summary["frequency"], summary["recency"], summary["T"])
    p_buy = clv.bgnbd_probability_purchase(fit.params, horizon_days / clv.DAYS_PER_WEEK, *args)
    if not fit.converged or not np.isfinite(p_buy).all():
        raise NotEnoughDataError(f"BG/NBD fit as of {clv.as_day(cutoff).date()}: {fit.message}")
    out = pd.DataFrame(
        {
            "p_alive": clv.bgnbd_probability_alive(fit.params, *args),
            "p_purchase": p_buy,
            "churn_score_clv": 1.0 - p_buy,
        },
        index=summary.index,
    )
    out.index.name = "customer_id"
    return out


def recency_baseline(train_recency: pd.Series, train_labels: pd.Series):
    """'Recency alone' as a probability: the churn rate by days since the last purchase,
    learnt at the training cutoff by isotonic regression (non-decreasing in recency)."""
    from sklearn.isotonic import IsotonicRegression

    frame = pd.DataFrame({"r": train_recency, "y": train_labels.astype(float)}).dropna()
    frame = frame.sort_values(["r", "y"], kind="stable")
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(frame["r"].to_numpy(float), frame["y"].to_numpy(float))
    return iso


# ----------------------------------------------------------------------------- metrics


def roc_auc(labels: pd.Series | np.ndarray, scores: pd.Series | np.ndarray) -> float:
    """Area under the ROC curve (ties count one half)."""
    y = np.asarray(labels, dtype=int)
    if len(np.unique(y)) < 2:
        raise ValueError("AUC needs both classes among the labels")
    return float(roc_auc_score(y, np.asarray(scores, dtype=float)))


def brier_score(labels: pd.Series | np.ndarray, probabilities: pd.Series | np.ndarray) -> float:
    """Mean squared difference between predicted probability and outcome (0/1)."""
    y = np.asarray(labels, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("Brier score needs probabilities in [0, 1]")
    return float(np.mean((p - y) ** 2))


def log_loss(labels: pd.Series | np.ndarray, probabilities: pd.Series | np.ndarray) -> float:
    """Mean negative log-likelihood of the outcomes (probabilities clipped to
    [1e-15, 1 - 1e-15])."""
    y = np.asarray(labels, dtype=float)
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def top_decile_lift(
    labels: pd.Series | np.ndarray, scores: pd.Series | np.ndarray, fraction: float = 0.1
) -> float:
    """Churn rate among the ``fraction`` highest scores divided by the overall rate.

    The top group has ``ceil(fraction * n)`` customers; customers tied at the boundary
    score count with their mean label (the expectation under random tie-breaking), so a
    score that ties everyone has lift 1.
    """
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    n_top = math.ceil(fraction * len(y))
    if n_top == 0 or y.mean() == 0:
        raise ValueError("top-decile lift needs customers and at least one positive label")
    threshold = np.sort(s)[::-1][n_top - 1]
    above = s > threshold
    tied = s == threshold
    positives = y[above].sum() + (n_top - above.sum()) * y[tied].mean()
    return float(positives / n_top / y.mean())


def calibration_table(
    labels: pd.Series | np.ndarray, probabilities: pd.Series | np.ndarray, bins: int = 10
) -> pd.DataFrame:
    """Equal-count bins of predicted probability (1 = lowest): ``n``, ``mean_predicted``,
    ``observed_rate``. Ties are split by label then input order to keep the bins equal."""
    p = pd.Series(np.asarray(probabilities, dtype=float))
    y = pd.Series(np.asarray(labels, dtype=float))
    order = p.rank(method="first")
    decile = np.ceil(order * bins / len(p)).astype(int).clip(1, bins)
    frame = pd.DataFrame({"decile": decile, "p": p, "y": y})
    table = (
        frame.groupby("decile")
        .agg(n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
        .reset_index()
    )
    return table


def gains_table(
    labels: pd.Series | np.ndarray, scores: pd.Series | np.ndarray, bins: int = 10
) -> pd.DataFrame:
    """Cumulative gains by score decile (1 = highest scores): ``share_targeted``,
    ``share_of_churners`` (captured so far) and ``lift`` (cumulative churn rate over the
    overall rate). Ties at decile boundaries count with their mean label."""
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    total = y.sum()
    rows = []
    for k in range(1, bins + 1):
        fraction = k / bins
        lift = top_decile_lift(y, s, fraction) if total else float("nan")
        rows.append(
            {
                "decile": k,
                "share_targeted": fraction,
                "share_of_churners": lift * fraction if total else float("nan"),
                "lift": lift,
            }
        )
    return pd.DataFrame(rows)


def evaluate_scores(
    labels: pd.Series, scores: dict[str, pd.Series], bins: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metrics (one row per score: ``auc``, ``brier``, ``log_loss``, ``top_decile_lift``,
    ``n``, ``churn_rate``) and calibration tables (``score`` column) for probability scores
    aligned on the labels' customer ids."""
    metric_rows = []
    tables = []
    y = labels.astype(int)
    for name, score in scores.items():
        aligned = score.reindex(y.index)
        if aligned.isna().any():
            raise ValueError(f"score {name!r}: no value for {int(aligned.isna().sum())} customers")
        metric_rows.append(
            {
                "score": name,
                "auc": roc_auc(y, aligned),
                "brier": brier_score(y, aligned),
                "log_loss": log_loss(y, aligned),
                "top_decile_lift": top_decile_lift(y, aligned),
                "n": len(y),
                "churn_rate": float(y.mean()),
            }
        )
        tables.append(calibration_table(y, aligned, bins).assign(score=name))
        tables[-1] = tables[-1].merge(
            gains_table(y, aligned, bins)[["decile", "share_of_churners", "lift"]],
            on="decile",
        )
    return pd.DataFrame(metric_rows), pd.concat(tables, ignore_index=True)


#: the simple scores the trained model must beat, and the fallback order
BASELINES: tuple[str, ...] = ("clv", "pnbd", "recency")


def recommend_score(metrics: pd.DataFrame) -> tuple[str, str]:
    """Which score ``customer_churn.churn_risk`` publishes, and why.

    The trained model is recommended when, on the holdout, it beats both recency and the
    model-free score on AUC (higher) and Brier (lower). Otherwise the best baseline by
    Brier score (a proper score: ranking and calibration) among those evaluated."""
    m = metrics.set_index("score")
    baselines = [b for b in BASELINES if b in m.index]
    if not baselines:
        if "model" in m.index:
            return "model", "no baseline could be evaluated"
        raise NotEnoughDataError("no churn score could be evaluated")
    must_beat = [b for b in ("recency", "clv") if b in m.index]
    if "model" in m.index:
        model = m.loc["model"]
        beats = all(
            model["auc"] > m.loc[b, "auc"] and model["brier"] < m.loc[b, "brier"] for b in must_beat
        )
        if beats:
            return "model", (
                f"trained model beats {' and '.join(must_beat)} on AUC and Brier "
                f"(AUC {model['auc']:.3f}, Brier {model['brier']:.4f})"
            )
    best = min(baselines, key=lambda b: (m.loc[b, "brier"], -m.loc[b, "auc"]))
    why = (
        "no trained model"
        if "model" not in m.index
        else (
            f"trained model (AUC {m.loc['model', 'auc']:.3f}, Brier "
            f"{m.loc['model', 'brier']:.4f}) does not beat {' and '.join(must_beat)} on both"
        )
    )
    return best, f"fallback to the best baseline by Brier ({best}): {why}"


# ----------------------------------------------------------------------------- backtest


@dataclass(frozen=True)
class ChurnBacktest:
    model: ChurnModel | None
    metrics: pd.DataFrame  # one row per score
    calibration: pd.DataFrame  # deciles per score (calibration and gains)
    predictions: pd.DataFrame  # test customers: churned and every score
    split: ChurnSplit
    learner: str  # the candidate chosen by cross-validation
    cv: pd.DataFrame  # candidate x validation cutoff: log_loss, auc, brier
    recommended: str
    reason: str
    notes: tuple[str, ...] = ()


class _Inputs:
    """Summaries, quick model fits, features and labels per cutoff, computed once each."""

    def __init__(self, tx, events, feature_args, label_args, max_customers):
        self.tx, self.events = tx, events
        self.feature_args, self.label_args = feature_args, label_args
        self.max_customers = max_customers
        self._features: dict[tuple[pd.Timestamp, int], pd.DataFrame] = {}
        self._summaries: dict[pd.Timestamp, pd.DataFrame] = {}
        self._fits: dict[pd.Timestamp, dict[str, clv.FitResult]] = {}
        self._tried: set[tuple[pd.Timestamp, str]] = set()

    def summary(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        if cutoff not in self._summaries:
            self._summaries[cutoff] = clv.summarise_transactions(
                self.tx, cutoff, **self.feature_args
            )
        return self._summaries[cutoff]

    def fits(self, cutoff: pd.Timestamp, model: str | None = None) -> dict[str, clv.FitResult]:
        """Quick fits as of ``cutoff``: BG/NBD always (features), Pareto/NBD when asked for
        by name (a baseline; its fit costs several BG/NBD fits)."""
        fits = self._fits.setdefault(cutoff, {})
        wanted = ("bgnbd",) if model in (None, "bgnbd") else (model,)
        for name in wanted:
            if (cutoff, name) not in self._tried:
                self._tried.add((cutoff, name))
                fits.update(quick_fits(self.summary(cutoff), self.max_customers, (name,)))
        return fits

    def features(self, cutoff: pd.Timestamp, window_days: int) -> pd.DataFrame:
        key = (cutoff, window_days)
        if key not in self._features:
            base = features_as_of(self.tx, cutoff, self.events, **self.feature_args)
            fits = {k: f for k, f in self.fits(cutoff).items() if k == "bgnbd"}
            extra = _model_columns(self.summary(cutoff), fits, window_days)
            self._features[key] = base.join(extra)
        return self._features[key]

    def labels(self, cutoff: pd.Timestamp, window_days: int, data_end: pd.Timestamp):
        return churn_labels(self.tx, cutoff, window_days, data_end=data_end, **self.label_args)

    def baseline(self, name: str, cutoff: pd.Timestamp, horizon_days: int) -> pd.DataFrame:
        """1 - P(purchase in the horizon) under the quick ``name`` fit as of ``cutoff``
        (and P(alive)); raises ``NotEnoughDataError`` without a converged fit."""
        fit = self.fits(cutoff, name).get(name)
        summary = self.summary(cutoff)
        if fit is None:
            raise NotEnoughDataError(f"{name} fit as of {cutoff.date()} did not converge")
        args = (summary["frequency"], summary["recency"], summary["T"])
        weeks = horizon_days / clv.DAYS_PER_WEEK
        p_buy = clv.purchase_count_sf(fit.params, weeks, *args, k_max=1)[:, 1]
        if not np.isfinite(p_buy).all():
            raise NotEnoughDataError(f"{name} predictions as of {cutoff.date()} not finite")
        out = pd.DataFrame(
            {
                "p_alive": clv.probability_alive(fit.params, *args),
                "p_purchase": p_buy,
                "churn_score": 1.0 - p_buy,
            },
            index=summary.index,
        )
        out.index.name = "customer_id"
        return out


def choose_learner(
    inputs: _Inputs,
    split: ChurnSplit,
    candidates: tuple[str, ...] = CV_CANDIDATES,
    random_state: int = 0,
) -> tuple[str, pd.DataFrame]:
    """Time-based cross-validation: for each validation cutoff v of the split, train each
    candidate at v - window (labels up to v) and score it at v (labels up to v + window,
    never after the training cutoff's own label window). The candidate with the lowest
    mean validation log loss wins (ties: the earlier in ``candidates``); without a usable
    fold the first candidate with gradient boosting (``hgb``) is used."""
    window = pd.Timedelta(days=split.window_days)
    rows = []
    for v in split.cv_cutoffs:
        start = v - window
        try:
            y_fit = inputs.labels(start, split.window_days, v)
            y_val = inputs.labels(v, split.window_days, v + window)
        except ValueError:
            continue
        if y_fit.nunique() < 2 or y_val.nunique() < 2:
            continue
        x_fit = inputs.features(start, split.window_days).loc[y_fit.index]
        x_val = inputs.features(v, split.window_days).loc[y_val.index]
        for name in candidates:
            try:
                fitted = train_churn_model(
                    x_fit,
                    y_fit,
                    train_cutoff=start,
                    window_days=split.window_days,
                    learner=name,
                    random_state=random_state,
                )
            except NotEnoughDataError:
                continue
            p = predict_churn(fitted, x_val)
            rows.append(
                {
                    "learner": name,
                    "validation_cutoff": v,
                    "log_loss": log_loss(y_val, p),
                    "auc": roc_auc(y_val, p),
                    "brier": brier_score(y_val, p),
                    "n": len(y_val),
                }
            )
    cv = pd.DataFrame(
        rows, columns=["learner", "validation_cutoff", "log_loss", "auc", "brier", "n"]
    )
    if cv.empty:
        return "hgb", cv
    mean = cv.groupby("learner")["log_loss"].mean()
    order = {name: i for i, name in enumerate(candidates)}
    best = min(mean.index, key=lambda name: (round(float(mean[name]), 12), order[name]))
    return str(best), cv


def _coded(
    tx: pd.DataFrame, events: pd.DataFrame | None, customer_col: str
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.Index | None]:
    """``tx`` and ``events`` with their customer ids replaced by int64 codes, and the ids
    (``ids[code]`` decodes; None: nothing was coded). Codes follow the sorted ids, so every
    group order, sample and tie-break is the one the ids themselves give: the results are
    the same, computed on integers. (pandas 3 keeps strings in Arrow arrays, whose
    ``isin``, ``groupby`` and reindexing cost several seconds per 100,000 customers: most
    of the churn marts' time.) Event ids that no purchase has get code -1 (no buyer's);
    events without an id are left out, as the features leave them out. Null or integer
    transaction ids are left as they are (the checks further down report nulls)."""
    ids_column = tx[customer_col]
    if pd.api.types.is_integer_dtype(ids_column) or ids_column.isna().any():
        return tx, events, None
    codes, ids = pd.factorize(ids_column, sort=True)
    tx = tx.assign(**{customer_col: codes.astype(np.int64)})
    if events is not None and "customer_id" in events.columns:
        events = events[events["customer_id"].notna()]  # the features drop them too
        events = events.assign(customer_id=ids.get_indexer(events["customer_id"]).astype(np.int64))
    return tx, events, pd.Index(ids, name="customer_id")


def _decoded(frame: pd.DataFrame, ids: pd.Index | None) -> pd.DataFrame:
    """``frame`` indexed by customer codes, indexed by the ids again."""
    if ids is None:
        return frame
    frame = frame.copy()
    frame.index = ids.take(frame.index.to_numpy()).rename("customer_id")
    return frame


def churn_backtest(
    tx: pd.DataFrame,
    train_cutoff: DateLike | None = None,
    test_cutoff: DateLike | None = None,
    window_days: int = 90,
    events: pd.DataFrame | None = None,
    *,
    data_end: DateLike | None = None,
    horizon_days: int | None = None,
    active_within_days: int | None = None,
    n_cv_folds: int = 2,
    candidates: tuple[str, ...] = CV_CANDIDATES,
    max_customers: int | None = 20_000,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    random_state: int = 0,
) -> ChurnBacktest:
    """Time-based holdout of every churn score, with the learner chosen by time-based
    cross-validation before the training cutoff (``make_split`` defines and checks the
    dates). Scores at the test cutoff: ``model`` (the chosen learner trained at the train
    cutoff), ``clv`` (1 - BG/NBD P(purchase in the horizon)), ``pnbd`` (the same under
    Pareto/NBD), ``recency`` (churn rate by recency, learnt at the train cutoff).

    Not enough data (one label class at the train cutoff, a model fit that fails) leaves
    the affected scores out and says why in ``notes``; an impossible split raises
    ``ImpossibleSplitError``."""
    tx, events, ids = _coded(tx, events, customer_col)
    cols = {"customer_col": customer_col, "date_col": date_col}
    feature_args = {**cols, "amount_col": amount_col}
    if data_end is None:
        data_end = clv.purchase_days(tx, amount_col=None, **cols)["day"].max()
    split = make_split(
        tx,
        window_days=window_days,
        data_end=data_end,
        test_cutoff=test_cutoff,
        train_cutoff=train_cutoff,
        horizon_days=horizon_days,
        n_cv_folds=n_cv_folds,
        **cols,
    )
    inputs = _Inputs(
        tx, events, feature_args, {**cols, "active_within_days": active_within_days}, max_customers
    )
    notes: list[str] = []
    y_test = inputs.labels(split.test_cutoff, split.horizon_days, split.data_end)
    if y_test.nunique() < 2:
        raise NotEnoughDataError(
            f"test labels: only one class among {len(y_test)} customers at the test cutoff "
            f"{split.test_cutoff.date()} ({split.describe()})"
        )
    y_train = inputs.labels(split.train_cutoff, split.window_days, split.test_cutoff)
    x_train = inputs.features(split.train_cutoff, split.window_days).loc[y_train.index]
    x_test = inputs.features(split.test_cutoff, split.window_days).loc[y_test.index]
    learner, cv = choose_learner(inputs, split, candidates, random_state)
    if cv.empty:
        notes.append("no usable cross-validation fold: learner hgb used without a choice")
    scores: dict[str, pd.Series] = {}
    model = None
    try:
        model = train_churn_model(
            x_train,
            y_train,
            train_cutoff=split.train_cutoff,
            window_days=split.window_days,
            learner=learner,
            random_state=random_state,
        )
        scores["model"] = predict_churn(model, x_test)
    except NotEnoughDataError as exc:
        notes.append(f"model: not enough data: {exc}")
    predictions = pd.DataFrame({"churned": y_test})
    for name, key in (("bgnbd", "clv"), ("pnbd", "pnbd")):
        try:
            baseline = inputs.baseline(name, split.test_cutoff, split.horizon_days)
        except NotEnoughDataError as exc:
            notes.append(f"{key}: not enough data: {exc}")
            continue
        scores[key] = baseline["churn_score"]
        if name == "bgnbd":
            predictions["p_alive"] = baseline["p_alive"].reindex(y_test.index)
    if y_train.nunique() >= 2:
        iso = recency_baseline(x_train["recency_days"], y_train)
        scores["recency"] = pd.Series(
            iso.predict(x_test["recency_days"].to_numpy(float)), index=x_test.index
        )
    else:
        notes.append("recency: one label class at the train cutoff")
    for name, score in scores.items():
        predictions[f"churn_score_{name}"] = score.reindex(y_test.index)
    metrics, calibration = evaluate_scores(y_test, scores)
    recommended, reason = recommend_score(metrics)
    return ChurnBacktest(
        model,
        metrics,
        calibration,
        _decoded(predictions, ids),
        split,
        learner,
        cv,
        recommended,
        reason,
        tuple(notes),
    )


def pnbd_churn_score(
    tx: pd.DataFrame,
    cutoff: DateLike,
    horizon_days: int,
    *,
    max_customers: int | None = 20_000,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pd.Series | None:
    """1 - P(at least one purchase in the next ``horizon_days``) under a Pareto/NBD model
    fitted on data up to ``cutoff``; None when that fit fails or does not converge."""
    summary = clv.summarise_transactions(
        tx, cutoff, customer_col=customer_col, date_col=date_col, amount_col=amount_col
    )
    try:
        fit = clv.fit_purchase_model("pnbd", summary, max_customers=max_customers)
    except ValueError:
        return None
    if not fit.converged:
        return None
    sf = clv.purchase_count_sf(
        fit.params,
        horizon_days / clv.DAYS_PER_WEEK,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        k_max=1,
    )
    if not np.isfinite(sf).all():
        return None
    return pd.Series(1.0 - sf[:, 1], index=summary.index, name="churn_score_pnbd")


def churn_scores(
    tx: pd.DataFrame,
    as_of: DateLike,
    window_days: int,
    events: pd.DataFrame | None = None,
    *,
    cutoff: DateLike | None = None,
    active_within_days: int | None = None,
    learner: str = "hgb",
    recommended: str | None = None,
    max_customers: int | None = 20_000,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    random_state: int = 0,
) -> pd.DataFrame:
    """Current churn view per customer (what the ``customer_churn`` mart needs): RFM as of
    ``as_of``, the label of the last fully observed window (features at
    ``as_of - window_days``; null for customers who first bought after that), the trained
    score (``learner``, trained on that last observed window and applied to today's
    features), the baselines for the next ``window_days`` (``churn_score_clv``,
    ``churn_score_pnbd``, ``churn_score_recency``) and ``churn_risk``, the score named
    by ``recommended`` (default: the first of model, clv, pnbd, recency that could be
    computed), with its name in ``churn_risk_source``. ``active_within_days`` restricts the
    training population (see ``churn_labels``); every customer is scored. A score that
    cannot be computed (not enough data) is null, as is ``churn_risk`` when its score is.

    ``cutoff`` moves the label/training cutoff earlier than ``as_of - window_days`` (its
    window must end on or before ``as_of``, else ``ValueError``)."""
    end = clv.as_day(as_of, "as_of")
    past = end - pd.Timedelta(days=window_days)
    if cutoff is not None:
        chosen = clv.as_day(cutoff, "cutoff")
        if chosen > past:
            raise ImpossibleSplitError(
                f"cutoff {chosen.date()} + {window_days} days ends after as_of {end.date()}: "
                f"the label window is not observable (latest possible cutoff {past.date()})"
            )
        past = chosen
    tx, events, ids = _coded(tx, events, customer_col)
    cols = {"customer_col": customer_col, "date_col": date_col}
    feature_args = {**cols, "amount_col": amount_col}
    inputs = _Inputs(
        tx, events, feature_args, {**cols, "active_within_days": active_within_days}, max_customers
    )
    out = rfm_table(tx, end, **feature_args)
    everyone = churn_labels(tx, past, window_days, data_end=end, **cols)
    out["churned_last_window"] = everyone.reindex(out.index).astype("boolean")
    x_now = inputs.features(end, window_days)
    out["churn_score_model"] = np.nan
    out["churn_score_recency"] = np.nan
    y_past = inputs.labels(past, window_days, end)
    x_past = inputs.features(past, window_days).loc[y_past.index]
    try:
        model = train_churn_model(
            x_past,
            y_past,
            train_cutoff=past,
            window_days=window_days,
            learner=learner,
            random_state=random_state,
        )
        out["churn_score_model"] = predict_churn(model, x_now).reindex(out.index)
    except NotEnoughDataError:
        pass
    if y_past.nunique() >= 2:
        iso = recency_baseline(x_past["recency_days"], y_past)
        out["churn_score_recency"] = iso.predict(out["recency_days"].to_numpy(float))
    try:
        model_free = inputs.baseline("bgnbd", end, window_days)
        out["p_alive"] = model_free["p_alive"].reindex(out.index)
        out["p_purchase"] = model_free["p_purchase"].reindex(out.index)
        out["churn_score_clv"] = model_free["churn_score"].reindex(out.index)
    except NotEnoughDataError:
        out["p_alive"] = np.nan
        out["p_purchase"] = np.nan
        out["churn_score_clv"] = np.nan
    try:
        pnbd = inputs.baseline("pnbd", end, window_days)["churn_score"]
        out["churn_score_pnbd"] = pnbd.reindex(out.index)
    except NotEnoughDataError:
        out["churn_score_pnbd"] = np.nan
    source = recommended
    if source is None or out[f"churn_score_{source}"].isna().all():
        # no recommendation, or its score has no value here: the first one computed
        computed = [n for n in ("model", *BASELINES) if out[f"churn_score_{n}"].notna().any()]
        source = computed[0] if computed else None
    if source is None:
        out["churn_risk"] = np.nan
        out["churn_risk_source"] = pd.NA
    else:
        out["churn_risk"] = out[f"churn_score_{source}"]
        out["churn_risk_source"] = source
    out["churn_risk_source"] = out["churn_risk_source"].astype("string")
    return _decoded(out, ids)
