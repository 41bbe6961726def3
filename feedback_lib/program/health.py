"""Customer health score: a configurable weighted 0-100 score from NPS, tickets, usage,
executive contact and commercial signals, with red/yellow/green bands, and its backtest against
the churn that followed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_lib._util.dates import parse_as_of
from feedback_lib._util.stats import (
    Proportion,
    proportion_columns,
    proportion_or_nan,
    z_value,
)
from feedback_lib.errors import ParameterError
from feedback_lib.revenue.mrr import current_mrr, monthly_revenue, mrr_on

__all__ = ["backtest_health", "concordance", "DEFAULT_HEALTH_WEIGHTS", "health_score", "HealthBacktest"]

#: Default factor weights (normalised to sum 1 over the factors an account has).
DEFAULT_HEALTH_WEIGHTS: dict[str, float] = {
    "nps": 0.25, "tickets": 0.20, "utilisation": 0.20, "usage_trend": 0.10,
    "conversations": 0.10, "commercial": 0.15,
}
SEVERITY_WEIGHTS: dict[str, float] = {"low": 1.0, "medium": 2.0, "high": 4.0, "critical": 8.0}
FACTORS = tuple(DEFAULT_HEALTH_WEIGHTS)


def _check_weights(weights: dict[str, float] | None) -> dict[str, float]:
    w = dict(DEFAULT_HEALTH_WEIGHTS if weights is None else weights)
    unknown = sorted(set(w) - set(FACTORS))
    if unknown:
        raise ParameterError(f"health_score: unknown factor(s) {unknown} in weights; use {list(FACTORS)}")
    if any(v < 0 for v in w.values()) or sum(w.values()) <= 0:
        raise ParameterError(f"health_score: weights must be >= 0 with a positive sum, got {w}")
    return w


def _band(health: pd.Series, cuts: tuple[float, float]) -> pd.Categorical:
    low, high = cuts
    if not 0 <= low < high <= 100:
        raise ParameterError(f"health_score: cuts must satisfy 0 <= red < yellow <= 100, got {cuts!r}")
    band = np.select([health <= low, health <= high], ["red", "yellow"], default="green")
    shown = np.where(health.isna(), None, band)  # type: ignore[call-overload]
    return pd.Categorical(shown, categories=["red", "yellow", "green"], ordered=True)


def health_score(
    dataset,
    *,
    as_of,
    weights: dict[str, float] | None = None,
    cuts: tuple[float, float] = (50, 75),
    nps_lookback_days: int = 365,
    ticket_days: int = 90,
    ticket_scale: float = 8.0,
    full_utilisation: float = 0.7,
) -> pd.DataFrame:
    """Health score 0-100 and band of every account paying on ``as_of``.

    Parameters
    ----------
    dataset
        A :class:`feedback_lib.Dataset` (``accounts``, ``subscriptions``, ``responses``,
        ``tickets``, ``usage``, ``conversations``); only records dated on or before ``as_of``
        are read.
    as_of
        Scoring date.
    weights
        Factor -> weight; any subset of ``nps, tickets, utilisation, usage_trend, conversations,
        commercial`` (default :data:`DEFAULT_HEALTH_WEIGHTS`). A factor left out is not used.
    cuts
        Band limits: health <= cuts[0] red, <= cuts[1] yellow, above green (Gainsight's example
        0-50 red, 51-75 yellow, 76-100 green).
    nps_lookback_days, ticket_days, ticket_scale, full_utilisation
        Factor mapping parameters (see Notes).

    Returns
    -------
    DataFrame
        ``account_id, segment, mrr``; the factor scores ``nps, tickets, utilisation,
        usage_trend, conversations, commercial`` (0-100, NaN = no data); the raw inputs
        ``latest_score, ticket_load, utilisation_rate, usage_ratio, days_since_conversation,
        mrr_ratio_3m``; ``health`` (0-100), ``band`` and ``factors`` (number used).

    Notes
    -----
    Factor mapping (each to 0-100, higher = healthier):

    - nps: 10 x the latest score within ``nps_lookback_days``; none -> missing.
    - tickets: severity load L = sum of weights (low 1, medium 2, high 4, critical 8) of the
      tickets opened in the last ``ticket_days`` or still open on ``as_of``;
      100 * exp(-L / ticket_scale) (no tickets -> 100, one critical -> 37).
    - utilisation: active users / seats over the last 4 complete usage weeks, 100 at
      ``full_utilisation`` or more, linear below.
    - usage_trend: r = mean weekly active users of those 4 weeks / of the 8 weeks before;
      100 * clip((r - 0.5) / 0.5, 0, 1) (stable or growing -> 100, halved -> 0).
    - conversations: days d since the last executive conversation: 100 up to 90 days, linear to
      0 at 365 days; never -> 0.
    - commercial: there is no payments table, so the commercial signal is MRR contraction:
      r = MRR on ``as_of`` / MRR three months earlier; 100 if r >= 1 or no MRR then,
      else 100 * clip(1 - 2 (1 - r), 0, 1) (a 10% cut -> 80, halved -> 0).

    health = sum(w_f x_f) / sum(w_f) over the factors with data (Gainsight's weighted average;
    Totango's rule that measures without values are ignored).

    Examples
    --------
    >>> from feedback_lib.io.dataset import Dataset
    >>> day = pd.Timestamp("2026-03-31")
    >>> ds = Dataset(
    ...     accounts=pd.DataFrame({"account_id": ["a"], "segment": ["SMB"]}),
    ...     subscriptions=pd.DataFrame({"subscription_id": ["s"], "account_id": ["a"], "mrr": [100.0],
    ...         "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT}),
    ...     responses=pd.DataFrame({"response_id": ["r"], "account_id": ["a"], "score": [6],
    ...         "responded_at": pd.Timestamp("2026-03-01")}))
    >>> h = health_score(ds, as_of=day, weights={"nps": 1, "tickets": 1, "commercial": 2})
    >>> h[["nps", "tickets", "commercial", "health", "band"]]
        nps  tickets  commercial  health   band
    0  60.0    100.0       100.0    90.0  green
    """
    as_of = parse_as_of(as_of)
    w = _check_weights(weights)
    mrr = current_mrr(dataset.subscriptions, as_of=as_of, func="health_score")
    out = mrr.reset_index()
    ids = out["account_id"]
    accounts = dataset.accounts
    out["segment"] = ids.map(accounts.set_index(accounts["account_id"].astype(object))["segment"]) \
        if "segment" in accounts.columns else pd.NA

    r = dataset.responses
    r = r.loc[(r["responded_at"] <= as_of) & (r["responded_at"] > as_of - pd.Timedelta(days=nps_lookback_days))]
    latest = r.sort_values("responded_at").drop_duplicates("account_id", keep="last")
    out["latest_score"] = ids.map(latest.set_index(latest["account_id"].astype(object))["score"].astype(float))
    out["nps"] = 10 * out["latest_score"]

    t = dataset.tickets
    t = t.loc[(t["opened_at"] <= as_of) & ((t["opened_at"] > as_of - pd.Timedelta(days=ticket_days))
                                           | t["closed_at"].isna() | (t["closed_at"] > as_of))]
    load = t["severity"].astype(object).map(SEVERITY_WEIGHTS).fillna(1.0).groupby(t["account_id"].astype(object)).sum()
    out["ticket_load"] = ids.map(load).fillna(0.0)
    out["tickets"] = 100 * np.exp(-out["ticket_load"] / ticket_scale)

    _usage_factors(out, dataset.usage, as_of, full_utilisation)

    c = dataset.conversations
    last = c.loc[c["held_on"] <= as_of].groupby(c["account_id"].astype(object))["held_on"].max()
    out["days_since_conversation"] = (as_of - ids.map(last).astype("datetime64[ns]")).dt.days.astype(float)
    out["conversations"] = (100 * (1 - (out["days_since_conversation"] - 90) / (365 - 90))).clip(0, 100).fillna(0.0)

    before = mrr_on(dataset.subscriptions, ids, np.full(len(ids), as_of - pd.DateOffset(months=3)))
    out["mrr_ratio_3m"] = np.where(before > 0, out["mrr"] / np.where(before > 0, before, 1.0), np.nan)
    out["commercial"] = (100 * (1 - 2 * (1 - out["mrr_ratio_3m"]))).clip(0, 100).fillna(100.0)

    factors = [f for f in FACTORS if w.get(f, 0) > 0]
    x = out[factors].to_numpy(dtype=float)
    wv = np.array([w[f] for f in factors])
    has = ~np.isnan(x)
    total = (has * wv).sum(axis=1)
    out["health"] = np.where(total > 0, np.nansum(x * wv, axis=1) / np.where(total > 0, total, 1.0), np.nan)
    out["band"] = _band(out["health"], cuts)
    out["factors"] = has.sum(axis=1)
    for f in set(FACTORS) - set(factors):
        out[f] = np.nan
    return out[["account_id", "segment", "mrr", *FACTORS, "latest_score", "ticket_load", "utilisation_rate",
                "usage_ratio", "days_since_conversation", "mrr_ratio_3m", "health", "band", "factors"]]


def _usage_factors(out: pd.DataFrame, usage: pd.DataFrame, as_of: pd.Timestamp, full: float) -> None:
    """Utilisation and trend over complete usage weeks (Monday + 6 days <= as_of)."""
    last_monday = as_of - pd.Timedelta(days=6)
    last_monday -= pd.Timedelta(days=last_monday.weekday())
    u = usage.loc[(usage["week"] <= last_monday) & (usage["week"] > last_monday - pd.Timedelta(weeks=12))]
    recent = u["week"] > last_monday - pd.Timedelta(weeks=4)
    key = u["account_id"].astype(object)
    agg = u.assign(recent=recent.to_numpy(), key=key.to_numpy()).groupby(["key", "recent"]).agg(
        users=("active_users", "sum"), seats=("seats", "sum"), weeks=("week", "size")).unstack("recent")
    ids = out["account_id"]

    def pick(col: str, is_recent: bool) -> pd.Series:
        if (col, is_recent) not in agg.columns:
            return pd.Series(np.nan, index=out.index)
        return ids.map(agg[(col, is_recent)]).astype(float)

    seats = pick("seats", True)
    out["utilisation_rate"] = pick("users", True) / seats.where(seats > 0)
    out["utilisation"] = (100 * out["utilisation_rate"] / full).clip(0, 100)
    previous = pick("users", False) / pick("weeks", False)
    out["usage_ratio"] = (pick("users", True) / pick("weeks", True)) / previous.where(previous > 0)
    out["usage_trend"] = (100 * (out["usage_ratio"] - 0.5) / 0.5).clip(0, 100)


@dataclass(frozen=True)
class HealthBacktest:
    """Health score at a cutoff against the churn of the next months (see :func:`backtest_health`).

    Attributes
    ----------
    cutoff, horizon_months, n, churned
        Scoring date, outcome window, accounts scored, accounts that churned.
    c_index, ci_low, ci_high
        Concordance of (100 - health) with churn (= AUC for a binary outcome; Hanley-McNeil
        interval).
    calibration
        ``band, accounts, churned, share, ci_low, ci_high`` (Wilson).
    bottom_decile, bottom_decile_lift
        Churn among the 10% least healthy accounts, and that rate / the overall rate.
    comparison
        ``scorer, c_index, ci_low, ci_high, c_index_within_segment`` (pairs of the same segment
        only: a health score that ignores size is judged within segments): the health score,
        the naive baseline (latest NPS score alone) and any other scorer passed or fitted (the
        churn model).
    scores
        The health frame at the cutoff with ``churned``.
    """

    cutoff: pd.Timestamp
    horizon_months: int
    n: int
    churned: int
    c_index: float
    ci_low: float
    ci_high: float
    calibration: pd.DataFrame
    bottom_decile: Proportion
    bottom_decile_lift: float
    comparison: pd.DataFrame
    scores: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The ``comparison`` table."""
        return self.comparison


def concordance(risk, event, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """Concordance of a risk score with a binary outcome (ties count one half) and its interval.

    For a binary outcome Harrell's C equals the AUC, the Mann-Whitney probability that an event
    outranks a non-event; interval from the Hanley & McNeil (1982) standard error.

    Examples
    --------
    >>> [round(v, 3) for v in concordance([0.9, 0.8, 0.3, 0.2, 0.1], [1, 0, 1, 0, 0])]
    [0.833, 0.406, 1.0]

    (5 of 6 event/non-event pairs concordant; SE = sqrt(0.285 / 6) = 0.218.)
    """
    risk, event = np.asarray(risk, dtype=float), np.asarray(event, dtype=bool)
    n1, n0 = int(event.sum()), int((~event).sum())
    if n1 == 0 or n0 == 0:
        return math.nan, math.nan, math.nan
    ranks = pd.Series(risk).rank(method="average").to_numpy()
    auc = float((ranks[event].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt(max(auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2), 0.0) / (n1 * n0))
    z = z_value(confidence)
    return auc, max(0.0, auc - z * se), min(1.0, auc + z * se)


def _within_segment(risk: pd.Series, event: np.ndarray, segment: pd.Series) -> float:
    """Concordance over pairs of accounts of the same segment only (stratified Harrell's C)."""
    concordant = pairs = 0.0
    seg = segment.astype(object).fillna("(none)").reset_index(drop=True)
    for idx in seg.groupby(seg).indices.values():
        e = event[idx]
        n1, n0 = int(e.sum()), int((~e).sum())
        if n1 and n0:  # a few segments
            concordant += concordance(risk.to_numpy()[idx], e)[0] * n1 * n0
            pairs += n1 * n0
    return concordant / pairs if pairs else math.nan


def _churned(subscriptions: pd.DataFrame, ids: pd.Series, cutoff: pd.Timestamp, horizon: int) -> np.ndarray:
    """True when the account has a month without revenue among the ``horizon`` months after the
    cutoff's month (``fl.monthly_revenue`` month-end convention)."""
    first = cutoff.to_period("M").start_time + pd.DateOffset(months=1)
    last = first + pd.DateOffset(months=horizon - 1)
    revenue = monthly_revenue(subscriptions, as_of=last + pd.offsets.MonthEnd(0))
    window = revenue.loc[(revenue["month"] >= first) & (revenue["month"] <= last) & (revenue["mrr"] > 0)]
    paid = window.groupby(window["account_id"].astype(object)).size()
    return ids.map(paid).fillna(0).to_numpy() < horizon


def backtest_health(
    dataset,
    *,
    cutoff,
    as_of,
    horizon_months: int = 6,
    weights: dict[str, float] | None = None,
    cuts: tuple[float, float] = (50, 75),
    compare: dict[str, pd.DataFrame] | None = None,
    churn_model: bool = True,
    confidence: float = 0.95,
) -> HealthBacktest:
    """Score health at ``cutoff`` and compare it with the churn of the next ``horizon_months``.

    Parameters
    ----------
    dataset
        A :class:`feedback_lib.Dataset`.
    cutoff
        Scoring date; the score reads nothing after it.
    as_of
        Last day of the data; must cover the outcome window.
    horizon_months
        Churn = a calendar month without revenue among the ``horizon_months`` months after the
        cutoff's month.
    weights, cuts
        As in :func:`health_score`.
    compare
        Other scorers: name -> DataFrame ``account_id, risk`` (higher = riskier).
    churn_model
        Also fit ``fl.ChurnModel`` on the history up to ``cutoff`` (landmark ``horizon_months``
        earlier) and compare its churn probability.

    Returns
    -------
    HealthBacktest

    Notes
    -----
    Concordance = AUC of risk = 100 - health (:func:`concordance`); calibration by band with
    Wilson intervals; lift = churn rate in the bottom decile of health (rounded up to whole
    accounts, lowest first, ties by account_id) / overall churn rate. The naive baseline ranks by
    the latest NPS score only (no response counts as 7).

    Examples
    --------
    >>> import feedback_lib as fl
    >>> ds = fl.generate_demo(seed=3, n_accounts=400, start="2024-01-01", end="2025-12-31")
    >>> bt = backtest_health(ds, cutoff="2025-03-31", as_of="2025-12-31", churn_model=False)
    >>> bt.comparison["scorer"].tolist()
    ['health score', 'latest NPS score (naive baseline)']
    """
    cutoff, as_of = parse_as_of(cutoff, name="cutoff"), parse_as_of(as_of)
    end = cutoff.to_period("M").start_time + pd.DateOffset(months=horizon_months + 1) - pd.Timedelta(days=1)
    if end > as_of:
        raise ParameterError(
            f"backtest_health: the outcome window runs to {end.date()} but as_of is {as_of.date()}; "
            f"pick a cutoff at least {horizon_months} whole months before as_of"
        )
    scores = health_score(dataset, as_of=cutoff, weights=weights, cuts=cuts)
    scores["churned"] = _churned(dataset.subscriptions, scores["account_id"], cutoff, horizon_months)
    event = scores["churned"].to_numpy()
    c, low, high = concordance(100 - scores["health"], event, confidence=confidence)
    cal = scores.groupby("band", observed=False)["churned"].agg(accounts="size", churned="sum").reset_index()
    cal = pd.concat([cal, proportion_columns(cal["churned"], cal["accounts"], confidence=confidence)], axis=1)
    k = math.ceil(0.1 * len(scores))
    bottom = scores.sort_values(["health", "account_id"]).head(k)
    decile = proportion_or_nan(bottom["churned"].sum(), k, confidence=confidence)
    overall = event.mean() if len(event) else math.nan
    segment = scores["segment"]
    naive = -scores["latest_score"].fillna(7.0)
    rows = [("health score", c, low, high, _within_segment(100 - scores["health"], event, segment)),
            ("latest NPS score (naive baseline)", *concordance(naive, event, confidence=confidence),
             _within_segment(naive, event, segment))]
    others = dict(compare or {})
    if churn_model:
        from feedback_lib.churn.features import account_covariates
        from feedback_lib.churn.model import ChurnModel

        model = ChurnModel(window_months=horizon_months).fit(dataset, as_of=cutoff)
        prob = model.predict_churn_probability(account_covariates(dataset, as_of=cutoff), horizon_months=horizon_months)
        others["churn model (fl.ChurnModel)"] = prob.rename("risk").reset_index()
    for name, frame in others.items():  # a few scorers
        risk = scores["account_id"].map(frame.set_index(frame["account_id"].astype(object))["risk"])
        ok = risk.notna().to_numpy()
        rows.append((name, *concordance(risk[ok], event[ok], confidence=confidence),
                     _within_segment(risk[ok], event[ok], segment[ok])))
    comparison = pd.DataFrame(rows, columns=["scorer", "c_index", "ci_low", "ci_high", "c_index_within_segment"])
    return HealthBacktest(
        cutoff=cutoff, horizon_months=horizon_months, n=len(scores), churned=int(event.sum()),
        c_index=c, ci_low=low, ci_high=high, calibration=cal, bottom_decile=decile,
        bottom_decile_lift=decile.share / overall if overall > 0 else math.nan,
        comparison=comparison, scores=scores,
    )
