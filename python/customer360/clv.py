"""Customer lifetime value: BG/NBD purchase model, Gamma-Gamma spend model, discounted CLV.

Everything here takes a plain transactions table (a pandas DataFrame with one row per
purchase: customer id, date or timestamp, amount) and a calibration end date, so the CLI,
the tests and a dbt Python model can all call the same functions.

Conventions (the traps named in the literature, made explicit):

* **Time unit: weeks.** ``recency``, ``T`` and every horizon ``t`` passed to the model
  functions are in weeks of 7 days (the unit of Fader, Hardie & Lee 2005). Helpers that
  take days or months say so in their argument names.
* **Purchase days, not orders.** Several purchases by one customer on one calendar day
  collapse into one purchase whose value is their sum.
* **Frequency counts repeat purchases only** (purchase days after the first).
* **Monetary value** is the mean value of the *repeat* purchases (the first purchase is
  excluded, as in Fader, Hardie & Lee 2005 "RFM and CLV"); 0 for customers without repeats.
* **No penalizer.** Parameters are plain maximum-likelihood estimates, fitted on
  log-parameters with ``scipy.optimize.minimize``; likelihoods are computed in log space
  (``gammaln``/``betaln``, log-sum-exp for the two BG/NBD terms).

References: P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), "'Counting Your Customers' the
Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2):275-284;
P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", Journal of Marketing Research 42(4):415-430; P. S. Fader,
B. G. S. Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (note).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from scipy import optimize, special

DAYS_PER_WEEK = 7.0
WEEKS_PER_MONTH = 365.25 / 12 / DAYS_PER_WEEK  # an average calendar month, in weeks
WEEKS_PER_YEAR = 365.25 / DAYS_PER_WEEK

DateLike = str | date | datetime | pd.Timestamp

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")


# ----------------------------------------------------------------------------- input


def to_day(values: pd.Series, column: str = "date") -> pd.Series:
    """Calendar day (midnight, timezone-naive) of dates/timestamps.

    Timezone-aware timestamps are converted to UTC first. Raises ``ValueError`` naming
    ``column`` if a value is missing or cannot be parsed.
    """
    try:
        if pd.api.types.is_datetime64_any_dtype(values):
            parsed = pd.Series(values)
        else:  # strings: ISO 8601, dates and timestamps may be mixed
            parsed = pd.to_datetime(pd.Series(values), format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"column {column!r}: cannot parse dates ({exc})") from exc
    if parsed.isna().any():
        raise ValueError(f"column {column!r}: {int(parsed.isna().sum())} missing date(s)")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.dt.floor("D").astype("datetime64[ns]")


def as_day(value: DateLike, name: str = "date") -> pd.Timestamp:
    """A single date-like value as a timezone-naive midnight ``Timestamp``."""
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        raise ValueError(f"{name}: missing date")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def purchase_days(
    tx: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    table: str = "transactions",
) -> pd.DataFrame:
    """One row per customer and purchase day: ``customer_id``, ``day``, ``amount`` (sum).

    Validates the input: missing columns, null customer ids, unparseable or missing dates
    and missing or non-numeric amounts raise ``ValueError`` naming the table and column.
    """
    needed = [customer_col, date_col] + ([amount_col] if amount_col else [])
    missing = [c for c in needed if c not in tx.columns]
    if missing:
        raise ValueError(f"{table}: missing column(s) {missing}; has {list(map(str, tx.columns))}")
    if tx[customer_col].isna().any():
        n = int(tx[customer_col].isna().sum())
        raise ValueError(f"{table}: column {customer_col!r} has {n} null customer id(s)")
    days = to_day(tx[date_col], f"{table}.{date_col}")
    if amount_col:
        amounts = pd.to_numeric(tx[amount_col], errors="coerce")
        bad = amounts.isna() & tx[amount_col].notna()
        if bad.any():
            raise ValueError(f"{table}: column {amount_col!r} has {int(bad.sum())} non-numeric")
        if amounts.isna().any():
            n = int(amounts.isna().sum())
            raise ValueError(f"{table}: column {amount_col!r} has {n} missing amount(s)")
        amounts = amounts.astype(float)
    else:
        amounts = pd.Series(0.0, index=tx.index)
    frame = pd.DataFrame(
        {"customer_id": tx[customer_col].to_numpy(), "day": days.to_numpy(), "amount": amounts}
    )
    return frame.groupby(["customer_id", "day"], as_index=False, sort=True)["amount"].sum()


# ----------------------------------------------------------------------------- summaries


def summarise_transactions(
    tx: pd.DataFrame,
    calibration_end: DateLike,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
) -> pd.DataFrame:
    """Frequency / recency / T / monetary value per customer, as of ``calibration_end``.

    Only purchases on or before the ``calibration_end`` day are used; customers whose first
    purchase is later are not part of the calibration cohort and are absent from the result.

    Returns a DataFrame indexed by ``customer_id`` with columns

    * ``frequency``: number of repeat purchase days (distinct days after the first one);
    * ``recency``: weeks from the first to the last purchase day (0 without repeats);
    * ``T``: weeks from the first purchase day to ``calibration_end`` (customer age);
    * ``monetary_value``: mean value of the repeat purchase days (0 without repeats);
    * ``first_purchase_date``, ``last_purchase_date``.
    """
    end = as_day(calibration_end, "calibration_end")
    days = purchase_days(tx, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    days = days[days["day"] <= end]
    return _summarise_days(days, end)


def _summarise_days(days: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    if len(days) == 0:  # no buyers: the empty summary, typed
        empty = pd.DataFrame(
            {
                "frequency": pd.Series([], dtype="int64"),
                "recency": pd.Series([], dtype=float),
                "T": pd.Series([], dtype=float),
                "monetary_value": pd.Series([], dtype=float),
                "first_purchase_date": pd.Series([], dtype="datetime64[ns]"),
                "last_purchase_date": pd.Series([], dtype="datetime64[ns]"),
            },
            index=pd.Index([], name="customer_id", dtype=days["customer_id"].dtype),
        )
        return empty
    days = days.sort_values(["customer_id", "day"])
    grouped = days.groupby("customer_id", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    n_days = grouped["day"].size()
    is_first = days["day"].to_numpy() == days["customer_id"].map(first).to_numpy()
    repeat_value = days.loc[~is_first].groupby("customer_id")["amount"].mean()
    week = pd.Timedelta(days=DAYS_PER_WEEK)
    out = pd.DataFrame(
        {
            "frequency": (n_days - 1).astype("int64"),
            "recency": (last - first) / week,
            "T": (end - first) / week,
            "monetary_value": repeat_value.reindex(first.index).fillna(0.0),
            "first_purchase_date": first,
            "last_purchase_date": last,
        }
    )
    out.index.name = "customer_id"
    return out


def summarise_calibration_holdout(
    tx: pd.DataFrame,
    calibration_end: DateLike,
    observation_end: DateLike,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
) -> pd.DataFrame:
    """Calibration summary plus what each calibration customer did in the holdout period.

    The holdout period is the days after ``calibration_end`` up to and including
    ``observation_end``. Adds ``frequency_holdout`` (purchase days in the holdout),
    ``monetary_value_holdout`` (mean value of those days, 0 if none) and
    ``duration_holdout`` (length of the holdout in weeks, the ``t`` to predict for).
    """
    cal_end = as_day(calibration_end, "calibration_end")
    obs_end = as_day(observation_end, "observation_end")
    if obs_end <= cal_end:
        raise ValueError(f"observation_end {obs_end.date()} must be after {cal_end.date()}")
    days = purchase_days(tx, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    summary = _summarise_days(days[days["day"] <= cal_end], cal_end)
    hold = days[(days["day"] > cal_end) & (days["day"] <= obs_end)]
    hold = hold[hold["customer_id"].isin(summary.index)].groupby("customer_id")["amount"]
    summary["frequency_holdout"] = hold.size().reindex(summary.index).fillna(0).astype("int64")
    summary["monetary_value_holdout"] = hold.mean().reindex(summary.index).fillna(0.0)
    summary["duration_holdout"] = (obs_end - cal_end) / pd.Timedelta(days=DAYS_PER_WEEK)
    return summary


# ----------------------------------------------------------------------------- fit results


@dataclass(frozen=True)
class BetaGeoParams:
    """BG/NBD parameters: purchase rate lambda ~ Gamma(shape r, rate alpha) per week,
    dropout probability p ~ Beta(a, b) after each repeat purchase."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: spend per transaction ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class FitResult:
    """A maximum-likelihood fit and what is needed to judge it."""

    model: str
    params: BetaGeoParams | GammaGammaParams | ParetoNBDParams | ModifiedBetaGeoParams
    log_likelihood: float  # summed over customers, at the estimate
    n_customers: int
    converged: bool
    message: str
    iterations: int
    extra: Mapping[str, float] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter (long format, as stored in ``clv_model_fit``)."""
        rows = [
            {
                "model": self.model,
                "parameter": name,
                "estimate": float(value),
                "log_likelihood": self.log_likelihood,
                "n_customers": self.n_customers,
                "converged": self.converged,
            }
            for name, value in asdict(self.params).items()
        ]
        return pd.DataFrame(rows)


def _as_arrays(*values: object) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in values]


def _compress(columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Identical rows collapse into one with a weight (CDNOW: 2,357 rows -> ~1,300), in
    sorted order: the fit then does not depend on the input row order (floating-point
    sums follow the rows)."""
    frame = pd.DataFrame(columns)
    counted = frame.groupby(list(columns), sort=True).size().reset_index(name="_w")
    return {c: counted[c].to_numpy(float) for c in columns}, counted["_w"].to_numpy(float)


def _minimise(
    objective, x0: np.ndarray, max_iter: int = 20_000, polish: bool = True
) -> optimize.OptimizeResult:
    """Quasi-Newton on log-parameters, then (``polish``) a Nelder-Mead polish from its end
    point. Without the polish (a quick fit, e.g. for model-based churn features) the
    quasi-Newton result and its own convergence flag are returned."""
    with np.errstate(all="ignore"):
        first = optimize.minimize(objective, x0, method="L-BFGS-B")
        if not polish:
            first.nit_total = int(getattr(first, "nit", 0))
            first.converged = bool(first.success) and bool(np.isfinite(first.fun))
            return first
        start = first.x if np.isfinite(first.fun) else x0
        polish = optimize.minimize(
            objective,
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": max_iter, "maxfev": max_iter},
        )
    best = polish if polish.fun <= first.fun else first
    best.nit_total = int(getattr(first, "nit", 0)) + int(getattr(polish, "nit", 0))
    best.converged = bool(polish.success) and bool(np.isfinite(best.fun))
    return best


# ----------------------------------------------------------------------------- BG/NBD


def bgnbd_log_likelihood(
    params: BetaGeoParams, frequency: object, recency: object, T: object
) -> np.ndarray:
    """Per-customer log-likelihood of the BG/NBD model (FHL 2005, eq. 6), in log space.

    L = B(a, b+x)/B(a, b) * G(r+x) a^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))
    """
    x, t_x, t_cal = _as_arrays(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    alive_term = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + t_cal)
    has_repeat = x > 0
    x_safe = np.where(has_repeat, x, 1.0)
    dead_term = (
        special.betaln(a + 1, b + x_safe - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x)
    )
    return common + np.where(has_repeat, np.logaddexp(alive_term, dead_term), alive_term)


def fit_bgnbd(
    summary: pd.DataFrame, initial: BetaGeoParams | None = None, *, polish: bool = True
) -> FitResult:
    """Maximum-likelihood BG/NBD fit (no penalizer) on a ``summarise_transactions`` table
    (``polish``: see ``_minimise``)."""
    _require_columns(summary, ("frequency", "recency", "T"), "summary")
    if len(summary) == 0:
        raise ValueError("summary: no customers to fit the BG/NBD model on")
    cols, weights = _compress(
        {
            "x": summary["frequency"].to_numpy(float),
            "t_x": summary["recency"].to_numpy(float),
            "T": summary["T"].to_numpy(float),
        }
    )
    total = weights.sum()

    def negative_ll(log_params: np.ndarray) -> float:
        p = BetaGeoParams(*np.exp(log_params))
        ll = bgnbd_log_likelihood(p, cols["x"], cols["t_x"], cols["T"])
        value = -(weights * ll).sum() / total
        return float(value) if np.isfinite(value) else np.inf

    start = initial or BetaGeoParams(1.0, 1.0, 1.0, 1.0)
    res = _minimise(negative_ll, np.log(np.array(list(asdict(start).values()))), polish=polish)
    params = BetaGeoParams(*(float(v) for v in np.exp(res.x)))
    return FitResult(
        model="bgnbd",
        params=params,
        log_likelihood=float(-res.fun * total),
        n_customers=int(total),
        converged=res.converged,
        message=str(res.message),
        iterations=res.nit_total,
    )


def _bgnbd_log_dead_odds(
    params: BetaGeoParams, x: np.ndarray, t_x: np.ndarray, t_cal: np.ndarray
) -> np.ndarray:
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x); -inf for x = 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x_safe = np.where(x > 0, x, 1.0)
    log_odds = (
        np.log(a) - np.log(b + x_safe - 1) + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x))
    )
    return np.where(x > 0, log_odds, -np.inf)


def bgnbd_probability_alive(
    params: BetaGeoParams, frequency: object, recency: object, T: object
) -> np.ndarray:
    """P(alive at T | x, t_x, T) (FHL 2005, eq. 11). Exactly 1 when x = 0: useless as a
    churn score for zero-repeat customers, see ``bgnbd_probability_purchase``."""
    x, t_x, t_cal = _as_arrays(frequency, recency, T)
    return special.expit(-_bgnbd_log_dead_odds(params, x, t_x, t_cal))


def bgnbd_expected_purchases(params: BetaGeoParams, t: object) -> np.ndarray:
    """E[X(t)]: expected purchases of a new customer in t weeks (FHL 2005, eq. 9)."""
    (t_arr,) = _as_arrays(t)
    a, b = params.a, params.b
    return (a + b - 1) / (a - 1) * (1 - _decay_times_hyp(params, t_arr, 0.0, 0.0))


def _decay_times_hyp(
    params: BetaGeoParams, t: np.ndarray, x: np.ndarray | float, t_cal: np.ndarray | float
) -> np.ndarray:
    """((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z), z = t/(alpha+T+t).

    Computed after Euler's transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z):
    (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z). The direct form multiplies a vanishing
    power by a hypergeometric value that overflows for heavy buyers and long horizons
    (inf * 0 = nan); the transformed one has parameters that do not grow with x.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_one_minus_z = np.log(alpha + t_cal) - np.log(alpha + t_cal + t)
    z = -np.expm1(log_one_minus_z)
    return np.exp((a - 1) * log_one_minus_z) * special.hyp2f1(
        a + b - 1 - r, a - 1, a + b + x - 1, z
    )


def bgnbd_conditional_expected_purchases(
    params: BetaGeoParams, t: object, frequency: object, recency: object, T: object
) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] (t in weeks; FHL 2005, eq. 10).

    (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
    / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    """
    t_arr, x, t_x, t_cal = _as_arrays(t, frequency, recency, T)
    a, b = params.a, params.b
    numerator = (a + b + x - 1) / (a - 1) * (1 - _decay_times_hyp(params, t_arr, x, t_cal))
    p_alive = special.expit(-_bgnbd_log_dead_odds(params, x, t_x, t_cal))
    return numerator * p_alive


def bgnbd_probability_purchase(
    params: BetaGeoParams, t: object, frequency: object, recency: object, T: object
) -> np.ndarray:
    """P(at least one purchase in (T, T+t] | x, t_x, T), t in weeks. Closed form:

        P(alive at T | x, t_x, T) * [1 - ((alpha+T) / (alpha+T+t))^(r+x)]

    Derivation: under BG/NBD a customer can only drop out right after a purchase, so one
    who is alive at T stays alive until the next purchase, and "no purchase in (T, T+t]"
    given alive and lambda has probability exp(-lambda t). Given the history and being
    alive at T, the joint posterior of (lambda, p) factorises (the likelihood of the alive
    branch is lambda^x exp(-lambda T) (1-p)^x), so lambda ~ Gamma(r+x, alpha+T), and
    E[exp(-lambda t)] = ((alpha+T)/(alpha+T+t))^(r+x). A customer who is dead at T buys
    nothing. Unlike P(alive), this varies for zero-repeat customers (through T: an old
    one-time buyer is less likely to buy again than a new one).
    """
    t_arr, x, t_x, t_cal = _as_arrays(t, frequency, recency, T)
    r, alpha = params.r, params.alpha
    p_alive = special.expit(-_bgnbd_log_dead_odds(params, x, t_x, t_cal))
    log_none = (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_cal + t_arr))
    return p_alive * -np.expm1(log_none)


def simulate_bgnbd(
    params: BetaGeoParams,
    T: object,
    holdout_weeks: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Draw customers from the BG/NBD model: one row per entry of ``T`` (ages in weeks).

    Returns ``frequency``, ``recency``, ``T`` (the calibration summary) and
    ``frequency_holdout`` (purchases in (T, T + holdout_weeks]) plus the latent
    ``lambda_``, ``p_`` and ``alive_at_T``. Used by the tests to check the fit and the
    predictive formulas against known truth.
    """
    (t_cal,) = _as_arrays(T)
    rng = np.random.default_rng(seed)
    n = t_cal.size
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    end = t_cal + holdout_weeks
    clock = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    x = np.zeros(n, dtype=np.int64)
    t_x = np.zeros(n)
    x_hold = np.zeros(n, dtype=np.int64)
    alive_at_t = np.ones(n, dtype=bool)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        with np.errstate(divide="ignore"):
            step = rng.exponential(1.0 / np.maximum(lam[idx], 1e-300))
        nxt = clock[idx] + step
        beyond = nxt > end[idx]
        active[idx[beyond]] = False
        buy = idx[~beyond]
        clock[buy] = nxt[~beyond]
        in_cal = clock[buy] <= t_cal[buy]
        x[buy[in_cal]] += 1
        t_x[buy[in_cal]] = clock[buy[in_cal]]
        x_hold[buy[~in_cal]] += 1
        dies = rng.random(buy.size) < drop[buy]
        dead = buy[dies]
        alive[dead] = False
        active[dead] = False
        alive_at_t[dead[clock[dead] <= t_cal[dead]]] = False
    return pd.DataFrame(
        {
            "frequency": x,
            "recency": t_x,
            "T": t_cal,
            "frequency_holdout": x_hold,
            "lambda_": lam,
            "p_": drop,
            "alive_at_T": alive_at_t,
        }
    )


# ----------------------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_log_likelihood(
    params: GammaGammaParams, frequency: object, monetary_value: object
) -> np.ndarray:
    """Per-customer log-likelihood of the mean spend zbar of x repeat purchases
    (Fader & Hardie 2013, eq. 4):

    G(px+q)/(G(px) G(q)) * gamma^q x^(px) zbar^(px-1) / (gamma + x zbar)^(px+q)
    """
    x, zbar = _as_arrays(frequency, monetary_value)
    p, q, g = params.p, params.q, params.gamma
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + px * np.log(x)
        + (px - 1) * np.log(zbar)
        - (px + q) * np.log(g + x * zbar)
    )


def fit_gamma_gamma(
    summary: pd.DataFrame,
    initial: GammaGammaParams | None = None,
    *,
    exclude_nonpositive: bool = False,
) -> FitResult:
    """Maximum-likelihood Gamma-Gamma fit (no penalizer) on the repeat customers
    (``frequency > 0``) of a ``summarise_transactions`` table.

    Repeat customers with ``monetary_value <= 0`` (e.g. fully refunded) raise an error
    naming them, or with ``exclude_nonpositive`` are left out of the fit and counted in
    ``extra["n_excluded_nonpositive"]``. ``extra["corr_frequency_monetary"]`` is the
    correlation of frequency and mean spend among the fitted customers: the model assumes
    they are independent (Fader & Hardie 2013), so a large value is a warning sign.
    """
    _require_columns(summary, ("frequency", "monetary_value"), "summary")
    repeat = summary[summary["frequency"] > 0]
    bad = repeat["monetary_value"] <= 0
    n_excluded = int(bad.sum()) if exclude_nonpositive else 0
    if exclude_nonpositive:
        repeat, bad = repeat[~bad], bad[~bad]
    if len(repeat) == 0:
        raise ValueError("summary: no repeat customers to fit the Gamma-Gamma model on")
    if bad.any():
        ids = list(repeat.index[bad][:5])
        raise ValueError(
            f"summary: {int(bad.sum())} repeat customer(s) with monetary_value <= 0 "
            f"(e.g. {ids}); the Gamma-Gamma model needs positive spend"
        )
    cols, weights = _compress(
        {
            "x": repeat["frequency"].to_numpy(float),
            "m": repeat["monetary_value"].to_numpy(float),
        }
    )
    total = weights.sum()

    def negative_ll(log_params: np.ndarray) -> float:
        p = GammaGammaParams(*np.exp(log_params))
        value = -(weights * gamma_gamma_log_likelihood(p, cols["x"], cols["m"])).sum() / total
        return float(value) if np.isfinite(value) else np.inf

    start = initial or GammaGammaParams(1.0, 1.0, 1.0)
    res = _minimise(negative_ll, np.log(np.array(list(asdict(start).values()))))
    params = GammaGammaParams(*(float(v) for v in np.exp(res.x)))
    corr = (
        float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])
        if len(repeat) > 2
        else float("nan")
    )
    return FitResult(
        model="gamma_gamma",
        params=params,
        log_likelihood=float(-res.fun * total),
        n_customers=int(total),
        converged=res.converged,
        message=str(res.message),
        iterations=res.nit_total,
        extra={"n_excluded_nonpositive": float(n_excluded), "corr_frequency_monetary": corr},
    )


def gamma_gamma_expected_spend(
    params: GammaGammaParams, frequency: object, monetary_value: object
) -> np.ndarray:
    """E[Z | zbar, x] = p (gamma + x zbar) / (p x + q - 1): a weighted mean of the
    population mean p gamma / (q - 1) and the customer's own mean zbar (Fader & Hardie
    2013, eq. 5). Customers without repeats (x = 0) get the population mean. Needs q > 1."""
    if params.q <= 1:
        raise ValueError(f"Gamma-Gamma q = {params.q:.3f} <= 1: the mean spend is undefined")
    x, zbar = _as_arrays(frequency, monetary_value)
    zbar = np.where(x > 0, zbar, 0.0)
    return params.p * (params.gamma + x * zbar) / (params.p * x + params.q - 1)


def simulate_gamma_gamma(params: GammaGammaParams, frequency: object, seed: int = 0) -> np.ndarray:
    """Mean spend of ``frequency`` purchases per customer drawn from the Gamma-Gamma
    model (0 where frequency is 0)."""
    (x,) = _as_arrays(frequency)
    rng = np.random.default_rng(seed)
    nu = rng.gamma(params.q, 1.0 / params.gamma, x.size)
    # the sum of x Gamma(p, nu) draws is Gamma(p x, nu)
    total = rng.gamma(np.maximum(params.p * x, 1e-12), 1.0 / nu)
    return np.where(x > 0, total / np.maximum(x, 1), 0.0)


# ----------------------------------------------------------------------------- CLV


def discounted_clv(
    bgnbd: PurchaseParams,
    summary: pd.DataFrame,
    expected_spend: object,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
) -> np.ndarray:
    """Discounted expected value of future purchases over ``horizon_months``.

    CLV = margin * sum_{m=1..H} (E[Y(m)] - E[Y(m-1)]) * spend / (1 + d)^(m/12),
    with E[Y(m)] the purchase model's (BG/NBD, Pareto/NBD or MBG/NBD) conditional expected
    purchases in the first m months after T
    (a month is 365.25/12 days), spend the Gamma-Gamma expected spend per purchase and d
    the annual discount rate (cash flows of month m discounted at its end).
    """
    if horizon_months < 1:
        raise ValueError(f"horizon_months must be >= 1, got {horizon_months}")
    if annual_discount_rate <= -1:
        raise ValueError(f"annual_discount_rate must be > -1, got {annual_discount_rate}")
    x = summary["frequency"].to_numpy(float)
    t_x = summary["recency"].to_numpy(float)
    t_cal = summary["T"].to_numpy(float)
    spend = np.asarray(expected_spend, dtype=float)
    value = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for month in range(1, horizon_months + 1):
        cumulative = conditional_expected_purchases(bgnbd, month * WEEKS_PER_MONTH, x, t_x, t_cal)
        value += (cumulative - previous) / (1 + annual_discount_rate) ** (month / 12)
        previous = cumulative
    return margin * value * spend


# ----------------------------------------------------------------------------- diagnostics


@dataclass(frozen=True)
class HoldoutDiagnostics:
    """Predicted vs actual repeat purchases in a holdout period."""

    by_frequency: pd.DataFrame  # one row per calibration frequency bucket
    overall: dict[str, float]


def holdout_diagnostics(
    params: PurchaseParams, holdout_summary: pd.DataFrame, max_bucket: int = 7
) -> HoldoutDiagnostics:
    """Compare a purchase model's (BG/NBD, Pareto/NBD or MBG/NBD) conditional expectations
    with the holdout purchases of ``summarise_calibration_holdout`` output, by calibration
    frequency (0..max_bucket, the last bucket holding max_bucket and more, as in FHL 2005
    fig. 4) and overall."""
    _require_columns(
        holdout_summary,
        ("frequency", "recency", "T", "frequency_holdout", "duration_holdout"),
        "holdout summary",
    )
    s = holdout_summary
    predicted = conditional_expected_purchases(
        params, s["duration_holdout"], s["frequency"], s["recency"], s["T"]
    )
    frame = pd.DataFrame(
        {
            "frequency_bucket": np.minimum(s["frequency"].to_numpy(), max_bucket),
            "actual": s["frequency_holdout"].to_numpy(float),
            "predicted": predicted,
        }
    )
    by = (
        frame.groupby("frequency_bucket")
        .agg(
            n_customers=("actual", "size"),
            actual_mean=("actual", "mean"),
            predicted_mean=("predicted", "mean"),
        )
        .reset_index()
    )
    by["error_mean"] = by["predicted_mean"] - by["actual_mean"]
    actual_total = float(frame["actual"].sum())
    predicted_total = float(frame["predicted"].sum())
    residual = frame["predicted"] - frame["actual"]
    overall = {
        "n_customers": float(len(frame)),
        "actual_total": actual_total,
        "predicted_total": predicted_total,
        "relative_error_total": (predicted_total - actual_total) / actual_total
        if actual_total
        else float("nan"),
        "mae_per_customer": float(residual.abs().mean()),
        "rmse_per_customer": float(np.sqrt((residual**2).mean())),
    }
    return HoldoutDiagnostics(by, overall)


# ----------------------------------------------------------------------------- one call


@dataclass(frozen=True)
class ClvResult:
    customers: pd.DataFrame  # per customer, indexed by customer_id
    purchase: FitResult  # the purchase model (BG/NBD unless another is asked for)
    gamma_gamma: FitResult

    @property
    def bgnbd(self) -> FitResult:  # the name before other purchase models existed
        return self.purchase

    def fit_frame(self) -> pd.DataFrame:
        return pd.concat([self.purchase.to_frame(), self.gamma_gamma.to_frame()], ignore_index=True)


def predict_clv(
    tx: pd.DataFrame,
    calibration_end: DateLike,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    horizons_days: tuple[int, ...] = (90, 365),
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    exclude_nonpositive_spend: bool = False,
    purchase_model: str = "bgnbd",
    level: float = 0.8,
) -> ClvResult:
    """Fit a purchase model (``purchase_model``, default BG/NBD) and Gamma-Gamma as of
    ``calibration_end`` and score every customer (``score_customers``).

    ``exclude_nonpositive_spend`` leaves repeat customers with a mean repeat spend <= 0
    out of the Gamma-Gamma fit (counted in its ``extra``) instead of raising; they are
    still scored, with the expected spend floored at 0."""
    summary = summarise_transactions(
        tx, calibration_end, customer_col=customer_col, date_col=date_col, amount_col=amount_col
    )
    purchase = fit_purchase_model(purchase_model, summary)
    gg = fit_gamma_gamma(summary, exclude_nonpositive=exclude_nonpositive_spend)
    out = score_customers(
        summary,
        purchase.params,  # type: ignore[arg-type]
        gg.params,  # type: ignore[arg-type]
        horizons_days=horizons_days,
        horizon_months=horizon_months,
        annual_discount_rate=annual_discount_rate,
        margin=margin,
        level=level,
    )
    return ClvResult(out, purchase, gg)


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{table}: missing column(s) {missing}")


# ----------------------------------------------------------------------------- Pareto/NBD
#
# Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They and What
# Will They Do Next?", Management Science 33(1); likelihood and conditional expressions as
# derived in Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related
# Expressions", and fitted to CDNOW in Fader, Hardie & Lee (2005), "A Note on Implementing
# the Pareto/NBD Model in MATLAB".


@dataclass(frozen=True)
class ParetoNBDParams:
    """Pareto/NBD parameters: purchase rate lambda ~ Gamma(r, alpha) per week while alive,
    exponential lifetime with rate mu ~ Gamma(s, beta)."""

    r: float
    alpha: float
    s: float
    beta: float


@dataclass(frozen=True)
class ModifiedBetaGeoParams:
    """MBG/NBD parameters (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but a customer
    may also drop out right after the first purchase (dropout chance after every purchase,
    including the first)."""

    r: float
    alpha: float
    a: float
    b: float


PurchaseParams = BetaGeoParams | ParetoNBDParams | ModifiedBetaGeoParams

#: the prediction windows (days) customer_clv publishes: expected_purchases_<n>d etc.
MART_HORIZONS_DAYS: tuple[int, ...] = (90, 365)

#: the purchase models this module fits, by name (the ``model`` column of clv_model_fit)
PURCHASE_MODELS: tuple[str, ...] = ("bgnbd", "pnbd", "mbgnbd")


def _log_hyp2f1_c_is_a_plus_1(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log 2F1(a, b; a+1; z) for 0 <= z < 1.

    scipy's ``hyp2f1`` after Pfaff's transformation 2F1(a, b; c; z) = (1-z)^(-b)
    2F1(1, b; a+1; z/(z-1)) is fast, but returns nan in parts of this parameter space
    (large a with z near 1: seen at a degenerate Pareto/NBD fit, r ~ 170 and s ~ 1e-5,
    where a value changed in the sixth digit turned every score into nan). Where it is not
    finite, the integral form is used (`_log_hyp2f1_c_is_a_plus_1_quad`). Checking every
    value against scipy's direct form as well was tried and dropped: that form is slow
    where its series converges slowly (a 600-person fit took 560 s instead of 1 s).
    """
    a, b, z = np.broadcast_arrays(*_as_arrays(a, b, z))
    with np.errstate(all="ignore"):
        pfaff = -b * np.log1p(-z) + np.log(special.hyp2f1(1.0, b, a + 1.0, z / (z - 1.0)))
    bad = ~np.isfinite(pfaff)
    if not bad.any():
        return pfaff
    out = np.array(pfaff, dtype=float)
    out[bad] = _log_hyp2f1_c_is_a_plus_1_quad(a[bad], b[bad], z[bad])
    return out


def _log_hyp2f1_c_is_a_plus_1_quad(
    a: np.ndarray, b: np.ndarray, z: np.ndarray, nodes: int = 200, chunk: int = 5_000
) -> np.ndarray:
    """log 2F1(a, b; a+1; z), 0 <= z < 1, a > 0, by quadrature of Euler's integral
    2F1(a, b; a+1; z) = a int_0^1 t^(a-1) (1 - z t)^(-b) dt = int_0^inf e^h(u) du with
    t = e^(-u/a) and h(u) = -u - b log(1 - z e^(-u/a)).

    h is convex and decreasing, so e^h(u) >= e^(h(0) - u L') with L' = -h'(0) =
    1 + b z / (a (1 - z)): the integral is at least e^h(0) / L', the part below
    u = 1e-13 / L' is at most 1e-13 of it and the part above u = 45 at most e^-45 (the
    integrand is below e^-u there and the integral is at least 1). The trapezoid rule in
    v = log u over that range (the integrand decays exponentially at one end and doubly
    exponentially at the other) with 200 nodes matched mpmath to 2e-13 relative on 1,500
    random points (r 0.01-1000, alpha/beta 0.1-1e5, s 1e-8-100, x 0-200), in log space so
    nothing overflows. Written here because no library at hand evaluates this reliably
    and vectorised (mpmath does, one point at a time).
    """
    out = np.empty(a.shape, dtype=float)
    weights = np.ones(nodes)
    weights[0] = weights[-1] = 0.5
    grid = np.linspace(0.0, 1.0, nodes)
    for start in range(0, a.size, chunk):
        ai, bi, zi = (v[start : start + chunk, None] for v in (a, b, z))
        slope = 1.0 + bi * zi / (ai * (1.0 - zi))
        lo = np.log(1e-13 / slope)
        hi = np.log(45.0)
        v = lo + (hi - lo) * grid
        u = np.exp(v)
        h = -u - bi * np.log1p(-zi * np.exp(-u / ai)) + v
        top = h.max(axis=1, keepdims=True)
        total = (np.exp(h - top) * weights).sum(axis=1)
        step = (hi - lo[:, 0]) / (nodes - 1)
        out[start : start + chunk] = top[:, 0] + np.log(total) + np.log(step)
    return out


def _pnbd_log_a0(
    params: ParetoNBDParams, x: np.ndarray, t_x: np.ndarray, t_cal: np.ndarray
) -> np.ndarray:
    """log A0 of the Pareto/NBD likelihood (Fader & Hardie 2005 note, eq. 22/23):
    A0 = F(t_x) - F(T) with F(t) = 2F1(r+s+x, b'; r+s+x+1; |alpha-beta|/(m+t)) / (m+t)^(r+s+x),
    m = max(alpha, beta), b' = s+1 if alpha >= beta else r+x. -inf when t_x = T."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    m = max(alpha, beta)
    b_prime = (s + 1.0) + 0.0 * x if alpha >= beta else r + x
    a_prime = r + s + x

    def log_f(t: np.ndarray) -> np.ndarray:
        z = abs(alpha - beta) / (m + t)
        return _log_hyp2f1_c_is_a_plus_1(a_prime, b_prime, z) - a_prime * np.log(m + t)

    first, second = log_f(t_x), log_f(t_cal)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = first + np.log(-np.expm1(np.minimum(second - first, 0.0)))
    return np.where(t_cal > t_x, diff, -np.inf)


def pnbd_log_likelihood(
    params: ParetoNBDParams, frequency: object, recency: object, T: object
) -> np.ndarray:
    """Per-customer log-likelihood of the Pareto/NBD model, in log space:

    L = G(r+x) alpha^r beta^s / G(r) * [1 / ((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) A0]
    """
    x, t_x, t_cal = _as_arrays(frequency, recency, T)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + t_cal) - s * np.log(beta + t_cal)
    dead = np.log(s) - np.log(r + s + x) + _pnbd_log_a0(params, x, t_x, t_cal)
    return common + np.logaddexp(alive, dead)


def pnbd_probability_alive(
    params: ParetoNBDParams, frequency: object, recency: object, T: object
) -> np.ndarray:
    """P(alive at T | x, t_x, T) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0).
    Unlike BG/NBD it is below 1 for zero-repeat customers too (they can die unseen)."""
    x, t_x, t_cal = _as_arrays(frequency, recency, T)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    log_odds = (
        np.log(s)
        - np.log(r + s + x)
        + (r + x) * np.log(alpha + t_cal)
        + s * np.log(beta + t_cal)
        + _pnbd_log_a0(params, x, t_x, t_cal)
    )
    return special.expit(-log_odds)


def pnbd_conditional_expected_purchases(
    params: ParetoNBDParams, t: object, frequency: object, recency: object, T: object
) -> np.ndarray:
    """E[Y(t) | x, t_x, T] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1))
    * [1 - ((beta+T)/(beta+T+t))^(s-1)] (the s -> 1 limit taken where needed)."""
    t_arr, x, t_x, t_cal = _as_arrays(t, frequency, recency, T)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    log_q = np.log(beta + t_cal) - np.log(beta + t_cal + t_arr)
    life = -log_q if abs(s - 1.0) < 1e-9 else -np.expm1((s - 1.0) * log_q) / (s - 1.0)
    rate = (r + x) / (alpha + t_cal) * (beta + t_cal)
    return pnbd_probability_alive(params, x, t_x, t_cal) * rate * life


# ----------------------------------------------------------------------------- MBG/NBD
#
# Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for
# customer base analysis", International Journal of Research in Marketing 24(3):201-209,
# with the corrections of Wagner & Hoppe (2008), "Erratum on the MBG/NBD Model", IJRM 25(3).


def mbgnbd_log_likelihood(
    params: ModifiedBetaGeoParams, frequency: object, recency: object, T: object
) -> np.ndarray:
    """Per-customer log-likelihood of the MBG/NBD model, in log space:

    L = G(r+x) alpha^r / G(r) * [B(a, b+x+1)/B(a, b) (alpha+T)^-(r+x)
                                 + B(a+1, b+x)/B(a, b) (alpha+t_x)^-(r+x)]

    (the second term, dropout right after the last purchase, exists for x = 0 too).
    """
    x, t_x, t_cal = _as_arrays(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    alive = special.betaln(a, b + x + 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_cal)
    dead = special.betaln(a + 1, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x)
    return common + np.logaddexp(alive, dead)


def _mbgnbd_log_dead_odds(
    params: ModifiedBetaGeoParams, x: np.ndarray, t_x: np.ndarray, t_cal: np.ndarray
) -> np.ndarray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x))


def mbgnbd_probability_alive(
    params: ModifiedBetaGeoParams, frequency: object, recency: object, T: object
) -> np.ndarray:
    """P(alive at T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)); below 1 for
    zero-repeat customers (they may have dropped out right after their first purchase)."""
    x, t_x, t_cal = _as_arrays(frequency, recency, T)
    return special.expit(-_mbgnbd_log_dead_odds(params, x, t_x, t_cal))


def mbgnbd_conditional_expected_purchases(
    params: ModifiedBetaGeoParams, t: object, frequency: object, recency: object, T: object
) -> np.ndarray:
    """E[Y(t) | x, t_x, T] = (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x+1; a+b+x; z)] P(alive), z = t/(alpha+T+t); the product is computed after
    Euler's transformation as (1-z)^(a-1) 2F1(a+b-r, a-1; a+b+x; z) (see the BG/NBD one)."""
    t_arr, x, t_x, t_cal = _as_arrays(t, frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_one_minus_z = np.log(alpha + t_cal) - np.log(alpha + t_cal + t_arr)
    z = -np.expm1(log_one_minus_z)
    decay_hyp = np.exp((a - 1) * log_one_minus_z) * special.hyp2f1(a + b - r, a - 1, a + b + x, z)
    p_alive = special.expit(-_mbgnbd_log_dead_odds(params, x, t_x, t_cal))
    return (a + b + x) / (a - 1) * (1 - decay_hyp) * p_alive


# ----------------------------------------------------------------------------- any model


def model_name(params: PurchaseParams) -> str:
    """``bgnbd``, ``pnbd`` or ``mbgnbd`` for a parameter set."""
    if isinstance(params, ParetoNBDParams):
        return "pnbd"
    if isinstance(params, ModifiedBetaGeoParams):
        return "mbgnbd"
    return "bgnbd"


_PARAM_TYPES: dict[str, type] = {
    "bgnbd": BetaGeoParams,
    "pnbd": ParetoNBDParams,
    "mbgnbd": ModifiedBetaGeoParams,
}


def params_from_mapping(model: str, values: Mapping[str, float]) -> PurchaseParams:
    """Rebuild a parameter set from its name and ``{parameter: estimate}`` (as stored in
    clv_model_fit)."""
    kind = _PARAM_TYPES[model]
    return kind(**{name: float(values[name]) for name in kind.__dataclass_fields__})


def log_likelihood(params: PurchaseParams, frequency: object, recency: object, T: object):
    """Per-customer log-likelihood of whichever purchase model ``params`` belongs to."""
    if isinstance(params, ParetoNBDParams):
        return pnbd_log_likelihood(params, frequency, recency, T)
    if isinstance(params, ModifiedBetaGeoParams):
        return mbgnbd_log_likelihood(params, frequency, recency, T)
    return bgnbd_log_likelihood(params, frequency, recency, T)


def probability_alive(params: PurchaseParams, frequency: object, recency: object, T: object):
    if isinstance(params, ParetoNBDParams):
        return pnbd_probability_alive(params, frequency, recency, T)
    if isinstance(params, ModifiedBetaGeoParams):
        return mbgnbd_probability_alive(params, frequency, recency, T)
    return bgnbd_probability_alive(params, frequency, recency, T)


def conditional_expected_purchases(
    params: PurchaseParams, t: object, frequency: object, recency: object, T: object
) -> np.ndarray:
    """E[Y(t) | x, t_x, T] (t in weeks) under whichever model ``params`` belongs to."""
    if isinstance(params, ParetoNBDParams):
        return pnbd_conditional_expected_purchases(params, t, frequency, recency, T)
    if isinstance(params, ModifiedBetaGeoParams):
        return mbgnbd_conditional_expected_purchases(params, t, frequency, recency, T)
    return bgnbd_conditional_expected_purchases(params, t, frequency, recency, T)


def fit_purchase_model(
    model: str,
    summary: pd.DataFrame,
    *,
    max_customers: int | None = None,
    polish: bool = True,
) -> FitResult:
    """Maximum-likelihood fit (no penalizer) of ``model`` (one of ``PURCHASE_MODELS``;
    ``polish``: see ``_minimise``).

    ``max_customers`` fits on a deterministic systematic sample of that many customers
    (every k-th row after sorting by frequency, recency and age: no dependence on ids or
    row order) when the summary is larger; the sample size is in ``extra``."""
    if model not in PURCHASE_MODELS:
        raise ValueError(f"unknown purchase model {model!r}; expected one of {PURCHASE_MODELS}")
    _require_columns(summary, ("frequency", "recency", "T"), "summary")
    if len(summary) == 0:
        raise ValueError(f"summary: no customers to fit the {model} model on")
    data = sample_summary(summary, max_customers)
    if model == "bgnbd":
        fit = fit_bgnbd(data, polish=polish)
        return FitResult(**{**fit.__dict__, "extra": {"n_fitted": float(len(data))}})
    cols, weights = _compress(
        {
            "x": data["frequency"].to_numpy(float),
            "t_x": data["recency"].to_numpy(float),
            "T": data["T"].to_numpy(float),
        }
    )
    total = weights.sum()
    kind = _PARAM_TYPES[model]

    def negative_ll(log_params: np.ndarray) -> float:
        p = kind(*np.exp(log_params))
        with np.errstate(all="ignore"):
            ll = log_likelihood(p, cols["x"], cols["t_x"], cols["T"])
        value = -(weights * ll).sum() / total
        return float(value) if np.isfinite(value) else np.inf

    res = _minimise(negative_ll, np.zeros(4), polish=polish)
    params = kind(*(float(v) for v in np.exp(res.x)))
    return FitResult(
        model=model,
        params=params,
        log_likelihood=float(-res.fun * total),
        n_customers=int(total),
        converged=res.converged,
        message=str(res.message),
        iterations=res.nit_total,
        extra={"n_fitted": float(len(data))},
    )


def sample_summary(summary: pd.DataFrame, max_customers: int | None) -> pd.DataFrame:
    """``summary`` itself, or a systematic sample of ``max_customers`` rows of it taken
    after a stable sort by (frequency, recency, T): deterministic and independent of the
    customer ids and of the input order."""
    if max_customers is None or len(summary) <= max_customers:
        return summary
    order = np.lexsort(
        (summary["T"].to_numpy(), summary["recency"].to_numpy(), summary["frequency"].to_numpy())
    )
    step = len(summary) / max_customers
    picks = order[np.floor(np.arange(max_customers) * step + step / 2).astype(int)]
    return summary.iloc[np.sort(picks)]


# ----------------------------------------------------------------------------- predictive
#
# The posterior predictive distribution of a customer's purchase count N in (T, T+t].
# Given alive at T, the posterior of the purchase rate is lambda ~ Gamma(r+x, alpha+T)
# (all three models), so the Poisson count of a window of length u is negative binomial:
# P(count >= k) = I_{u/(alpha+T+u)}(k, r+x) (regularised incomplete beta).
#
# * BG/NBD: the dropout chance p ~ Beta(a, b+x) is independent of lambda; N >= k needs k
#   purchases and survival of the dropout after each of the first k-1 of them:
#   P(N >= k) = P(alive) * B(a, b+x+k-1)/B(a, b+x) * P(count(t) >= k).
# * MBG/NBD: the same with Beta(a, b+x+1) (the first purchase had a dropout chance too).
# * Pareto/NBD: the remaining lifetime tau given alive is Lomax, S(u) = ((beta+T)/(beta+T+u))^s;
#   P(N >= k) = P(alive) * [int_0^t P(count(u) >= k) dF_tau(u) + S(t) P(count(t) >= k)],
#   integrated by Gauss-Legendre quadrature in v = F_tau(u).

_QUADRATURE_NODES = 16


def _log_nb_coefficients(shape: np.ndarray, k_max: int) -> np.ndarray:
    """log C(shape+j-1, j) = log Γ(shape+j) - log Γ(shape) - log j! for j = 1..k_max-1, as
    a cumulative sum of log((shape+i-1)/i): (customers, k_max-1)."""
    i = np.arange(1, k_max, dtype=float)[None, :]
    return np.cumsum(np.log(shape + i - 1.0) - np.log(i), axis=1)


def _count_sf(k_max: int, shape: np.ndarray, log_q: np.ndarray, log_coef: np.ndarray) -> np.ndarray:
    """P(NB count >= k) for k = 1..k_max, (customers, k_max); log_q = log((alpha+T) /
    (alpha+T+u)), shape = r+x, log_coef from `_log_nb_coefficients`.

    P(count >= k) = I_{1-q}(k, shape), the regularised incomplete beta. Only the last
    column is one `betainc`; the others add the negative binomial probabilities
    P(count = j) = C(shape+j-1, j) q^shape (1-q)^j, j = k..k_max-1, to it (a reverse
    cumulative sum of positive terms, so the tail keeps its relative precision). One
    `betainc` per column, as before, was most of the CLV models' time: a continued
    fraction per customer, count and quadrature node."""
    tail = special.betainc(float(k_max), shape, -np.expm1(log_q))
    if k_max == 1:
        return tail
    j = np.arange(1, k_max, dtype=float)[None, :]
    with np.errstate(divide="ignore"):  # q = 1 (an empty window): log(1-q) = -inf, pmf 0
        log_one_minus_q = np.log(-np.expm1(log_q))
    pmf = np.exp(log_coef + shape * log_q + j * log_one_minus_q)
    sf = np.empty((shape.shape[0], k_max))
    sf[:, :-1] = tail + np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]
    sf[:, -1:] = tail
    return sf


def purchase_count_sf(
    params: PurchaseParams,
    t: float,
    frequency: object,
    recency: object,
    T: object,
    k_max: int,
) -> np.ndarray:
    """P(N >= k | x, t_x, T) for k = 0..k_max: an array (customers, k_max + 1), column 0
    all ones. N is the number of purchases in (T, T+t], t in weeks."""
    x, t_x, t_cal = _as_arrays(frequency, recency, T)
    n = x.size
    k = np.arange(1, k_max + 1, dtype=float)[None, :]
    shape = (params.r + x)[:, None]
    log_coef = _log_nb_coefficients(shape, k_max)
    p_alive = probability_alive(params, x, t_x, t_cal)[:, None]
    log_q_t = (np.log(params.alpha + t_cal) - np.log(params.alpha + t_cal + t))[:, None]
    if isinstance(params, ParetoNBDParams):
        s, beta = params.s, params.beta
        survive_t = np.exp(s * (np.log(beta + t_cal) - np.log(beta + t_cal + t)))[:, None]
        nodes, weights = np.polynomial.legendre.leggauss(_QUADRATURE_NODES)
        span = 1.0 - survive_t  # v in [0, F(t)]
        sf = survive_t * _count_sf(k_max, shape, log_q_t, log_coef)
        for node, weight in zip(nodes, weights, strict=True):
            v = span * (node + 1.0) / 2.0
            u = (beta + t_cal)[:, None] * (np.power(1.0 - v, -1.0 / s) - 1.0)
            log_q_u = np.log(params.alpha + t_cal)[:, None] - np.log(
                params.alpha + t_cal[:, None] + u
            )
            sf = sf + weight * span / 2.0 * _count_sf(k_max, shape, log_q_u, log_coef)
    else:
        extra = 1.0 if isinstance(params, ModifiedBetaGeoParams) else 0.0
        b_post = (params.b + x + extra)[:, None]
        survive = np.exp(
            special.betaln(params.a, b_post + k - 1) - special.betaln(params.a, b_post)
        )
        sf = survive * _count_sf(k_max, shape, log_q_t, log_coef)
    out = np.ones((n, k_max + 1))
    out[:, 1:] = np.clip(p_alive * sf, 0.0, 1.0)
    return out


@dataclass(frozen=True)
class PredictiveSummary:
    """Per-customer predictive quantities for one window of ``t`` weeks."""

    expected: np.ndarray
    lower: np.ndarray  # the lower quantile (``level`` central interval), a count
    upper: np.ndarray
    level: float
    log_score: np.ndarray | None  # log P(N = observed), when observed counts were given
    pit_coverage: np.ndarray | None  # share of the randomised PIT inside the interval
    covered: np.ndarray | None  # lower <= observed <= upper


def predictive_summary(
    params: PurchaseParams,
    t: float,
    frequency: object,
    recency: object,
    T: object,
    *,
    level: float = 0.8,
    observed: object | None = None,
    chunk: int = 20_000,
) -> PredictiveSummary:
    """Central ``level`` interval of each customer's purchase count in the next ``t``
    weeks, from the model's posterior predictive distribution (see the section comment).

    With ``observed`` counts (a holdout), also the log predictive probability of each
    observation (a proper score, used to choose a model) and the coverage checks: whether
    the integer interval holds the observation (conservative for counts: the interval
    holds at least ``level`` of the predictive mass, usually more), and the share of the
    observation's randomised PIT interval [F(y-1), F(y)] that falls inside the central
    ``level`` band (Czado, Gneiting & Held 2009, "Predictive model assessment for count
    data", Biometrics 65(4)), whose mean is ``level`` for a calibrated model.

    Customers are processed in chunks sorted by their expectation, so the count grid of a
    chunk fits its customers (heavy buyers do not widen everybody's grid)."""
    x_all, t_x_all, t_cal_all = _as_arrays(frequency, recency, T)
    y_all = None if observed is None else np.asarray(observed, dtype=float)
    # identical (x, t_x, T[, y]) rows have identical predictions: compute each once
    keys = {"x": x_all, "t_x": t_x_all, "T": t_cal_all}
    if y_all is not None:
        keys["y"] = y_all
    frame = pd.DataFrame(keys)
    grouped = frame.groupby(list(keys), sort=True)
    codes = grouped.ngroup().to_numpy()
    unique = grouped.size().reset_index()
    x, t_x, t_cal = (unique[c].to_numpy(float) for c in ("x", "t_x", "T"))
    y = unique["y"].to_numpy(float) if y_all is not None else None
    n = x.size
    expected = conditional_expected_purchases(params, t, x, t_x, t_cal)
    if not np.isfinite(expected).all():
        raise ValueError(
            "the fitted parameters give a non-finite expected purchase count "
            f"({int((~np.isfinite(expected)).sum())} of {n} customer histories): a degenerate fit"
        )
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    lower = np.zeros(n)
    upper = np.zeros(n)
    log_score = np.zeros(n) if y is not None else None
    pit = np.zeros(n) if y is not None else None
    order = np.argsort(expected, kind="stable")
    for start in range(0, n, chunk):
        idx = order[start : start + chunk]
        e = float(np.max(expected[idx])) if idx.size else 0.0
        k_max = int(np.ceil(3 * e + 8 * np.sqrt(e) + 10))
        if y is not None and idx.size:
            k_max = max(k_max, int(np.max(y[idx])) + 1)
        while True:
            sf = purchase_count_sf(params, t, x[idx], t_x[idx], t_cal[idx], k_max)
            if (sf[:, -1] < 1 - hi_q).all() or k_max >= 5000:
                break
            k_max *= 2
        cdf = 1.0 - sf[:, 1:]  # cdf[:, j] = P(N <= j), j = 0..k_max-1
        lower[idx] = (cdf < lo_q).sum(axis=1)
        upper[idx] = (cdf < hi_q).sum(axis=1)
        if y is not None:
            yi = y[idx].astype(int)
            rows = np.arange(idx.size)
            pmf = sf[rows, yi] - sf[rows, yi + 1]
            log_score[idx] = np.log(np.maximum(pmf, 1e-300))
            below = np.where(yi > 0, cdf[rows, np.maximum(yi - 1, 0)], 0.0)
            at = cdf[rows, yi]
            inside = np.clip(np.minimum(at, hi_q) - np.maximum(below, lo_q), 0.0, None)
            width = at - below
            point = ((at >= lo_q) & (at <= hi_q)).astype(float)
            pit[idx] = np.where(width > 1e-12, inside / np.maximum(width, 1e-12), point)
    covered = None if y is None else (lower <= y) & (y <= upper)

    def back(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else values[codes]

    return PredictiveSummary(
        back(expected), back(lower), back(upper), level, back(log_score), back(pit), back(covered)
    )


# ----------------------------------------------------------------------------- model choice


@dataclass(frozen=True)
class ModelComparison:
    """The purchase models fitted on one calibration period and scored on its holdout."""

    fits: dict[str, FitResult]
    diagnostics: dict[str, HoldoutDiagnostics]
    scores: pd.DataFrame  # one row per model: log_score, relative_error_total, mae, coverage
    chosen: str | None  # None when no model could be fitted
    criterion: str


def compare_purchase_models(
    holdout_summary: pd.DataFrame,
    *,
    models: tuple[str, ...] = PURCHASE_MODELS,
    level: float = 0.8,
    max_customers: int | None = None,
) -> ModelComparison:
    """Fit each model on the calibration columns of a ``summarise_calibration_holdout``
    table and score it on the holdout: the mean log predictive probability of each
    customer's holdout count (``log_score``, higher is better; the choice criterion, a
    proper scoring rule over the whole predictive distribution rather than one
    aggregate), the aggregate relative error, MAE, and the interval coverage checks.
    A model whose fit fails or does not converge is listed with ``usable`` false."""
    s = holdout_summary
    t = float(s["duration_holdout"].iloc[0])
    fits: dict[str, FitResult] = {}
    diagnostics: dict[str, HoldoutDiagnostics] = {}
    rows = []
    for name in models:
        try:
            fit = fit_purchase_model(name, s, max_customers=max_customers)
            scored = sample_summary(s, max_customers)
            pred = predictive_summary(
                fit.params,
                t,
                scored["frequency"],
                scored["recency"],
                scored["T"],
                level=level,
                observed=scored["frequency_holdout"],
            )
            diag = holdout_diagnostics(fit.params, s)
        except (ValueError, FloatingPointError, ZeroDivisionError, OverflowError) as exc:
            rows.append({"model": name, "usable": False, "detail": str(exc)})
            continue
        usable = fit.converged and bool(np.isfinite(pred.log_score).all())
        fits[name], diagnostics[name] = fit, diag
        rows.append(
            {
                "model": name,
                "usable": usable,
                "detail": "" if usable else f"not converged: {fit.message}",
                "log_likelihood": fit.log_likelihood,
                "log_score": float(np.mean(pred.log_score)),
                "relative_error_total": diag.overall["relative_error_total"],
                "mae_per_customer": diag.overall["mae_per_customer"],
                "interval_coverage": float(np.mean(pred.covered)),
                "pit_coverage": float(np.mean(pred.pit_coverage)),
            }
        )
    scores = pd.DataFrame(rows)
    usable = scores[scores["usable"]] if len(scores) else scores
    chosen = None
    if len(usable):
        # ties (equal to 1e-12) go to the earlier model in PURCHASE_MODELS order
        best = usable["log_score"].max()
        chosen = str(usable[usable["log_score"] >= best - 1e-12]["model"].iloc[0])
    return ModelComparison(fits, diagnostics, scores, chosen, "holdout mean log score")


# ----------------------------------------------------------------------------- for the marts


@dataclass(frozen=True)
class ClvFits:
    """Everything clv_model_fit records and customer_clv scores with."""

    purchase: FitResult | None  # the chosen purchase model, fitted up to as_of
    spend: FitResult | None  # Gamma-Gamma, fitted up to as_of
    comparison: ModelComparison | None  # the models on the holdout (None: no holdout check)
    choice_reason: str
    status: dict[str, tuple[str, str]]  # 'purchase'/'spend' -> (ok | not_enough_data, why)


def fit_clv_models(
    tx: pd.DataFrame,
    as_of: DateLike,
    *,
    holdout_days: int,
    min_repeat_customers: int = 20,
    max_customers: int | None = None,
    level: float = 0.8,
    models: tuple[str, ...] = PURCHASE_MODELS,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
) -> ClvFits:
    """Choose the purchase model on the holdout (as_of - holdout_days, as_of], refit it and
    Gamma-Gamma on everything up to as_of. Never raises for lack of data: too few repeat
    buyers (``min_repeat_customers``), no purchases or failed fits give a
    ``not_enough_data`` status with the reason, and no fit for that part. A fit is used only
    if scoring every buyer with it (``level``, ``horizon_months``, ``annual_discount_rate``
    as customer_clv will) gives finite, in-range values; otherwise the next purchase model
    in holdout order is tried, and an unusable Gamma-Gamma fit leaves spend unscored."""
    end = as_day(as_of, "as_of")
    settings = {
        "level": level,
        "horizon_months": horizon_months,
        "annual_discount_rate": annual_discount_rate,
    }
    summary = summarise_transactions(tx, end)
    n_repeat = int((summary["frequency"] > 0).sum())
    status: dict[str, tuple[str, str]] = {}
    if len(summary) == 0:
        why = f"no purchases on or before {end.date()}"
        return ClvFits(
            None, None, None, "", {p: ("not_enough_data", why) for p in ("purchase", "spend")}
        )
    if n_repeat < min_repeat_customers:
        why = (
            f"{n_repeat} customer(s) with a repeat purchase day on or before {end.date()} "
            f"(of {len(summary)} buyers); the models need at least {min_repeat_customers} "
            f"(var clv_min_repeat_customers)"
        )
        return ClvFits(
            None, None, None, "", {p: ("not_enough_data", why) for p in ("purchase", "spend")}
        )

    calibration_end = end - pd.Timedelta(days=holdout_days)
    comparison = None
    chosen = models[0]
    holdout = summarise_calibration_holdout(tx, calibration_end, end)
    n_cal_repeat = int((holdout["frequency"] > 0).sum()) if len(holdout) else 0
    if n_cal_repeat >= min_repeat_customers:
        comparison = compare_purchase_models(
            holdout, models=models, level=level, max_customers=max_customers
        )
        if comparison.chosen is not None:
            chosen = comparison.chosen
            reason = (
                f"best {comparison.criterion} on ({calibration_end.date()}, {end.date()}] "
                f"among {', '.join(comparison.scores['model'])}"
            )
        else:
            reason = f"no model usable on the holdout; {chosen} by default"
    else:
        reason = (
            f"not chosen by holdout: {n_cal_repeat} repeat buyer(s) on or before "
            f"{calibration_end.date()} (need {min_repeat_customers}); {chosen} by default"
        )
    order = [chosen] + [m for m in models if m != chosen]
    if comparison is not None and "log_score" in comparison.scores:  # fall back in holdout order
        ranked = comparison.scores.sort_values("log_score", ascending=False, kind="stable")
        order = [chosen] + [m for m in ranked["model"] if m != chosen]
    purchase = None
    for name in order:
        try:
            fit = fit_purchase_model(name, summary, max_customers=max_customers)
        except ValueError:
            continue
        if fit.converged and not _unusable(fit.params, None, summary, settings):
            purchase = fit
            if name != chosen:
                reason += f"; the {chosen} refit did not converge or was degenerate, {name} used"
            break
    if purchase is None:
        status["purchase"] = (
            "not_enough_data",
            f"no purchase model converged on {n_repeat} repeat buyers",
        )
    else:
        status["purchase"] = ("ok", f"{purchase.model} on {len(summary)} buyers, {n_repeat} repeat")
    spend = None
    try:
        spend = fit_gamma_gamma(summary, exclude_nonpositive=True)
        if not spend.converged or spend.params.q <= 1:  # type: ignore[union-attr]
            status["spend"] = (
                "not_enough_data",
                f"Gamma-Gamma fit unusable (converged {spend.converged}, "
                f"q = {spend.params.q:.3f}; the mean spend needs q > 1)",  # type: ignore[union-attr]
            )
            spend = None
        elif purchase is not None and (
            problems := _unusable(purchase.params, spend.params, summary, settings)
        ):
            status["spend"] = ("not_enough_data", f"Gamma-Gamma fit unusable: {problems}")
            spend = None
        else:
            status["spend"] = ("ok", f"gamma_gamma on {spend.n_customers} repeat buyers")
    except ValueError as exc:
        status["spend"] = ("not_enough_data", str(exc))
    return ClvFits(purchase, spend, comparison, reason, status)


def _unusable(
    purchase: PurchaseParams,
    spend: GammaGammaParams | None,
    summary: pd.DataFrame,
    settings: Mapping[str, float],
) -> str:
    """What is wrong with scoring every customer history a fit was fitted on ('' when
    nothing): a converged optimiser can still stop at a degenerate corner (a few buyers,
    r/alpha running off to infinity), whose scores may be nan or out of range. The check
    runs the same `score_customers` the mart runs on the same histories, so a fit that
    passes here cannot fail the mart's own check (customer_clv) on this build."""
    # the purchase model alone over the mart's horizons; with a spend model only what the
    # spend adds (value and its interval over the CLV horizon), not the horizons again
    horizons = MART_HORIZONS_DAYS if spend is None else ()
    try:
        with np.errstate(all="ignore"):
            scored = score_customers(
                summary,
                purchase,
                spend,
                horizons_days=horizons,
                **settings,  # type: ignore[arg-type]
            )
    except (ValueError, FloatingPointError, OverflowError) as exc:
        return str(exc)
    return "; ".join(score_problems(scored, predicted=True))


def score_problems(scored: pd.DataFrame, *, predicted: bool | pd.Series) -> list[str]:
    """What breaks the promises of `score_customers`' output (probabilities in [0, 1],
    expectations finite and >= 0, lower <= upper; empty: nothing). ``predicted`` marks the
    rows that must have every prediction (scored with a purchase model), e.g. buyers."""
    problems = []
    for col in (c for c in scored.columns if c == "p_alive" or c.startswith("p_purchase_")):
        bad = scored[col].notna() & ~scored[col].between(0.0, 1.0)
        if bad.any():
            problems.append(f"{col} outside [0, 1] for {int(bad.sum())} customers")
    must = pd.Series(predicted, index=scored.index) & scored["frequency"].notna()
    spend_scored = scored["expected_spend"].notna().any() if "expected_spend" in scored else False
    value_columns = [c for c in scored.columns if c.startswith("expected_purchases_")]
    if spend_scored:
        value_columns += ["expected_spend", "clv"]
    for col in value_columns:
        bad = scored[col].notna() & ~(scored[col] >= 0)
        if bad.any():
            problems.append(f"{col} negative or NaN for {int(bad.sum())} customers")
        if (must & ~np.isfinite(scored[col].astype(float))).any():
            problems.append(f"{col} missing or infinite for buyers")
    if spend_scored:
        disordered = scored["clv_lower"] > scored["clv_upper"] + 1e-9
        if disordered.any():
            problems.append(f"clv interval reversed for {int(disordered.sum())} customers")
    return problems


def score_customers(
    summary: pd.DataFrame,
    purchase: PurchaseParams | None,
    spend: GammaGammaParams | None,
    *,
    horizons_days: tuple[int, ...] = (90, 365),
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    level: float = 0.8,
) -> pd.DataFrame:
    """Per-customer predictions for a summary: ``p_alive``, ``expected_purchases_<n>d``,
    ``p_purchase_<n>d`` and the ``level`` interval of the purchase count
    (``purchases_<n>d_lower``/``_upper``) per horizon, ``expected_spend``, ``clv`` and its
    interval (``clv_lower``/``clv_upper``: the purchase-count interval over the CLV
    horizon valued like the expected purchases, i.e. at the expected spend and their mean
    discount; spend uncertainty is not included). Without a purchase model every
    prediction is null; without a spend model the value columns are."""
    out = summary.copy()
    columns = ["p_alive"]
    for days in horizons_days:
        columns += [
            f"expected_purchases_{days}d",
            f"p_purchase_{days}d",
            f"purchases_{days}d_lower",
            f"purchases_{days}d_upper",
        ]
    columns += ["expected_spend", "clv", "clv_lower", "clv_upper"]
    for column in columns:
        out[column] = np.nan
    if purchase is None or len(out) == 0:
        return out
    args = (out["frequency"], out["recency"], out["T"])
    out["p_alive"] = probability_alive(purchase, *args)
    for days in horizons_days:
        weeks = days / DAYS_PER_WEEK
        pred = predictive_summary(purchase, weeks, *args, level=level)
        out[f"expected_purchases_{days}d"] = pred.expected
        out[f"p_purchase_{days}d"] = purchase_count_sf(purchase, weeks, *args, k_max=1)[:, 1]
        out[f"purchases_{days}d_lower"] = pred.lower
        out[f"purchases_{days}d_upper"] = pred.upper
    if spend is None:
        return out
    out["expected_spend"] = np.maximum(
        gamma_gamma_expected_spend(spend, out["frequency"], out["monetary_value"]), 0.0
    )
    out["clv"] = discounted_clv(
        purchase,
        out,
        out["expected_spend"],
        horizon_months=horizon_months,
        annual_discount_rate=annual_discount_rate,
        margin=margin,
    )
    clv_weeks = horizon_months * WEEKS_PER_MONTH
    horizon = predictive_summary(purchase, clv_weeks, *args, level=level)
    value_per_purchase = np.where(horizon.expected > 0, out["clv"] / horizon.expected, 0.0)
    out["clv_lower"] = horizon.lower * value_per_purchase
    out["clv_upper"] = horizon.upper * value_per_purchase
    return out
