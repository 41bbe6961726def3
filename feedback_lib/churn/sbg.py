"""Shifted-beta-geometric (sBG) retention model for contractual customers.

Fader & Hardie (2007) model each customer's renewal as a coin flip with a churn probability
``theta`` that is constant for that customer and Beta(``alpha``, ``beta``) distributed across
customers. The heterogeneity makes aggregate retention rates rise with tenure (the good customers
stay), which is why extrapolating a constant churn rate undervalues a customer base.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import betaln, digamma

from feedback_lib.churn.heterogeneity import discounted_expected_residual_lifetime
from feedback_lib.errors import (
    InsufficientDataError,
    ParameterError,
    SchemaError,
    SmallSampleWarning,
)

__all__ = ["cohort_survivors", "fit_sbg", "fit_sbg_cohorts", "SBGModel"]

_MIN_COHORT = 30  # below this many customers the two parameters are weakly identified


@dataclass(frozen=True)
class SBGModel:
    """A fitted shifted-beta-geometric model.

    Attributes
    ----------
    alpha, beta : float
        Parameters of the Beta distribution of churn probabilities across customers.
    log_likelihood : float
        Maximised log-likelihood (pooled over cohorts).
    n : int
        Customers in the fitted cohorts (sum of the cohort sizes).
    events : int
        Churned customers observed in the fitted periods.
    cohorts : tuple of tuple of float
        The survivor curves the model was fitted on (used by the bootstrap in :meth:`projection`).
    """

    alpha: float
    beta: float
    log_likelihood: float
    n: int
    events: int
    cohorts: tuple[tuple[float, ...], ...]

    @property
    def mean_churn(self) -> float:
        """Mean churn probability per period across new customers, alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    def survival(self, t):
        """Share of a cohort alive at period ``t``: S(t) = B(alpha, beta + t) / B(alpha, beta).

        Examples
        --------
        >>> SBGModel(1.0, 1.0, 0.0, 1, 1, ()).survival([0, 1, 3])
        array([1.  , 0.5 , 0.25])
        """
        t = _periods(t, minimum=0)
        return np.exp(betaln(self.alpha, self.beta + t) - betaln(self.alpha, self.beta))

    def retention_rate(self, t):
        """Share of those alive at ``t - 1`` who renew at ``t``: (beta + t - 1) / (alpha + beta + t - 1).

        Examples
        --------
        >>> SBGModel(1.0, 1.0, 0.0, 1, 1, ()).retention_rate([1, 2, 3])
        array([0.5       , 0.66666667, 0.75      ])
        """
        t = _periods(t, minimum=1)
        return (self.beta + t - 1) / (self.alpha + self.beta + t - 1)

    def churn_probability(self, t):
        """P(T = t): share of a new cohort churning at period ``t`` (t >= 1)."""
        t = _periods(t, minimum=1)
        return np.exp(betaln(self.alpha + 1, self.beta + t - 1) - betaln(self.alpha, self.beta))

    def expected_lifetime(self) -> float:
        """Expected lifetime E[T] = (alpha + beta - 1) / (alpha - 1) periods; infinite if alpha <= 1.

        With alpha <= 1 enough customers have churn probabilities near zero that the mean
        lifetime diverges; use :meth:`derl` (discounted) instead.
        """
        if self.alpha <= 1:
            return float("inf")
        return (self.alpha + self.beta - 1) / (self.alpha - 1)

    def derl(self, discount_rate: float, *, renewals: int = 0) -> float:
        """Discounted expected residual lifetime of a customer who has made ``renewals`` renewals.

        Fader & Hardie (2010), eq. for DERL(d | alpha, beta, n - 1 renewals) with n = renewals + 1:
        ``(beta + n - 1) / (alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))``.
        The customer is evaluated at the end of period n, just before the renewal decision; the
        next payment (if they renew) counts undiscounted and later ones at ``1 / (1 + d)`` per
        period. Multiply by the payment per period for the residual value of the customer.
        Computed by :func:`feedback_lib.churn.heterogeneity.discounted_expected_residual_lifetime`.

        Examples
        --------
        >>> m = SBGModel(1.0, 1.0, 0.0, 1, 1, ())
        >>> round(m.derl(0.1), 4)  # sum_k S(k) / (1.1 ** (k - 1)) with S(k) = 1 / (k + 1)
        1.8015
        """
        return discounted_expected_residual_lifetime(
            alpha=self.alpha, beta=self.beta, discount_rate=discount_rate, renewals=renewals
        )

    def projection(
        self,
        periods: int,
        *,
        confidence: float = 0.95,
        n_boot: int = 200,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Projected survival and retention for t = 0..``periods`` with parametric-bootstrap intervals.

        Each bootstrap replicate redraws every fitted cohort's churn counts from the fitted model
        (a multinomial over the churn periods and survival to the end), refits alpha and beta,
        and recomputes the curves; the interval is the percentile interval of the replicates.

        Returns
        -------
        DataFrame
            ``period, survival, survival_low, survival_high, retention_rate, retention_low,
            retention_high`` (retention is NaN at period 0).

        Examples
        --------
        >>> m = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> p = m.projection(12, n_boot=50)
        >>> bool((p.survival_low <= p.survival).all() and (p.survival <= p.survival_high).all())
        True
        """
        if not 0 < confidence < 1:
            raise ParameterError(f"confidence must be between 0 and 1, got {confidence!r}")
        if n_boot < 10:
            raise ParameterError(f"n_boot must be at least 10, got {n_boot!r}")
        t = np.arange(periods + 1)
        rng = np.random.default_rng(seed)
        draws = np.empty((n_boot, 2))
        for i in range(n_boot):  # loop over replicates, each a vectorised two-parameter fit
            sims = [self._simulate(len(c) - 1, int(round(c[0])), rng) for c in self.cohorts]
            draws[i] = _fit_params(sims, start=(self.alpha, self.beta))
        a, b = draws[:, :1], draws[:, 1:]
        surv = np.exp(betaln(a, b + t) - betaln(a, b))
        with np.errstate(invalid="ignore", divide="ignore"):
            ret = (b + t - 1) / (a + b + t - 1)
        q = [(1 - confidence) / 2, (1 + confidence) / 2]
        s_lo, s_hi = np.quantile(surv, q, axis=0)
        r_lo, r_hi = np.quantile(ret, q, axis=0)
        out = pd.DataFrame(
            {
                "period": t,
                "survival": self.survival(t),
                "survival_low": s_lo,
                "survival_high": s_hi,
                "retention_rate": np.r_[np.nan, self.retention_rate(t[1:])],
                "retention_low": np.r_[np.nan, r_lo[1:]],
                "retention_high": np.r_[np.nan, r_hi[1:]],
            }
        )
        return out

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame: alpha, beta, mean_churn, log_likelihood, n, events, cohorts."""
        return pd.DataFrame(
            [
                dict(
                    alpha=self.alpha,
                    beta=self.beta,
                    mean_churn=self.mean_churn,
                    log_likelihood=self.log_likelihood,
                    n=self.n,
                    events=self.events,
                    cohorts=len(self.cohorts),
                )
            ]
        )

    def _simulate(self, n_periods: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """Survivor curve of one simulated cohort of ``size`` customers over ``n_periods``."""
        p = np.r_[self.churn_probability(np.arange(1, n_periods + 1)), self.survival(n_periods)]
        churned = rng.multinomial(size, p / p.sum())[:-1]
        return size - np.r_[0, np.cumsum(churned)]


def fit_sbg(survivors: Sequence[float] | np.ndarray | pd.Series) -> SBGModel:
    """Maximum-likelihood shifted-beta-geometric fit to one cohort's survivor curve.

    Parameters
    ----------
    survivors
        Customers alive at t = 0, 1, 2, ... (first entry = cohort size); non-increasing.

    Returns
    -------
    SBGModel

    Notes
    -----
    Fader & Hardie (2007), eq. (5)-(7): P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta),
    S(t) = B(alpha, beta + t) / B(alpha, beta); the log-likelihood sums
    (s_{t-1} - s_t) log P(T = t) over the observed periods plus s_n log S(n) for those still
    alive. Maximised over (log alpha, log beta) by BFGS with the analytic gradient.

    References
    ----------
    Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention. *Journal of
    Interactive Marketing* 21(1), 76-90.

    Examples
    --------
    Fader & Hardie (2007), "regular" segment, years 0-7:

    >>> m = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(m.alpha, 3), round(m.beta, 3)
    (0.704, 1.182)
    """
    return _fit([_survivor_curve(survivors, where="fit_sbg")])


def fit_sbg_cohorts(table: pd.DataFrame) -> SBGModel:
    """Pooled sBG fit to several cohorts' survivor curves of different lengths.

    Parameters
    ----------
    table
        Tidy DataFrame with columns ``cohort, period, survivors`` (as returned by
        :func:`cohort_survivors`); every cohort needs periods 0..n without gaps.

    Returns
    -------
    SBGModel
        One (alpha, beta) for all cohorts: the log-likelihood is the sum of the cohorts'
        likelihoods (Fader & Hardie 2007, section "multiple cohorts"), so young cohorts contribute
        their early renewals and old cohorts the long tail.

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": [1] * 4 + [2] * 3,
    ...                   "period": [0, 1, 2, 3, 0, 1, 2],
    ...                   "survivors": [1000, 631, 468, 382, 500, 316, 234]})
    >>> m = fit_sbg_cohorts(t)
    >>> m.n, len(m.cohorts)
    (1500, 2)
    """
    missing = {"cohort", "period", "survivors"} - set(table.columns)
    if missing:
        raise SchemaError(
            f"fit_sbg_cohorts: table lacks column(s) {sorted(missing)}; expected cohort, period, "
            "survivors (see cohort_survivors)."
        )
    curves = []
    for name, g in table.sort_values(["cohort", "period"]).groupby("cohort", sort=True):
        periods = g["period"].to_numpy()
        if not np.array_equal(periods, np.arange(len(periods))):
            raise SchemaError(
                f"fit_sbg_cohorts: cohort {name!r} has periods {periods.tolist()[:8]}; "
                "they must run 0, 1, 2, ... without gaps."
            )
        if len(g) >= 2:
            curves.append(_survivor_curve(g["survivors"].to_numpy(), where=f"cohort {name!r}"))
    if not curves:
        raise InsufficientDataError("fit_sbg_cohorts: no cohort has two or more periods to fit.")
    return _fit(curves)


def cohort_survivors(lifetimes: pd.DataFrame) -> pd.DataFrame:
    """Survivor curves of monthly start cohorts from account lifetimes.

    Parameters
    ----------
    lifetimes
        Output of :func:`feedback_lib.account_lifetimes`: ``account_id, start_month,
        duration_months, churned``.

    Returns
    -------
    DataFrame
        ``cohort`` (start month), ``period`` (months since start, 0 = first paid month),
        ``survivors`` (accounts of the cohort still paying in that month). Every cohort runs up
        to the last observed month (the latest month any account was seen paying or churning),
        so young cohorts have short curves; feed the result to :func:`fit_sbg_cohorts`.

    Examples
    --------
    >>> lt = pd.DataFrame({"account_id": ["a", "b", "c"],
    ...                    "start_month": pd.to_datetime(["2024-01-01"] * 3),
    ...                    "duration_months": [1, 3, 4], "churned": [True, True, False]})
    >>> cohort_survivors(lt).survivors.tolist()
    [3, 2, 2, 1]
    """
    start = lifetimes["start_month"].to_numpy(dtype="datetime64[M]").astype(int)
    duration = lifetimes["duration_months"].to_numpy(dtype=int)
    churned = lifetimes["churned"].to_numpy(dtype=bool)
    # the as_of month: last paid month of a censored account, or the latest churn month
    last_seen = np.where(churned, start + duration, start + duration - 1).max()
    counts = (
        pd.DataFrame({"cohort": start, "duration": duration})
        .groupby(["cohort", "duration"]).size().rename("n").reset_index()
    )
    cohorts = np.unique(start)
    length = last_seen - cohorts + 1
    grid = pd.DataFrame(
        {
            "cohort": np.repeat(cohorts, length),
            "period": np.concatenate([np.arange(k) for k in length]),
        }
    )
    merged = grid.merge(counts, on="cohort")
    # alive at period t <=> more than t paid months
    merged["survivors"] = np.where(merged["duration"] > merged["period"], merged["n"], 0)
    out = merged.groupby(["cohort", "period"], as_index=False)["survivors"].sum()
    out["cohort"] = out["cohort"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    return out


def _periods(t, *, minimum: int) -> np.ndarray:
    arr = np.asarray(t, dtype=float)
    if np.any(arr < minimum):
        raise ParameterError(f"sBG periods must be >= {minimum}, got {np.min(arr)!r}")
    return arr


def _survivor_curve(survivors, *, where: str) -> np.ndarray:
    s = np.asarray(survivors, dtype=float)
    if s.ndim != 1 or len(s) < 2:
        raise ParameterError(
            f"{where}: survivors must be a 1-D sequence with at least two entries (t = 0, 1), "
            f"got shape {s.shape}."
        )
    if not np.isfinite(s).all() or s[0] <= 0 or (s < 0).any():
        raise ParameterError(f"{where}: survivors must be finite, >= 0, first entry > 0; got {s[:5]}...")
    bad = np.flatnonzero(np.diff(s) > 0)
    if len(bad):
        raise ParameterError(
            f"{where}: survivors must not increase; they rise at t = {(bad + 1).tolist()[:5]} "
            f"(e.g. {s[bad[0]]:g} -> {s[bad[0] + 1]:g})."
        )
    return s


def _stack(curves: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Flatten survivor curves into (t, churned at t, n_periods, alive at the end) arrays."""
    t = np.concatenate([np.arange(1, len(s)) for s in curves])
    churned = np.concatenate([s[:-1] - s[1:] for s in curves])
    ends = np.array([len(s) - 1 for s in curves], dtype=float)
    alive = np.array([s[-1] for s in curves])
    return t, churned, ends, alive


def _neg_loglik(log_ab: np.ndarray, t, churned, ends, alive) -> tuple[float, np.ndarray]:
    """Negative log-likelihood and its gradient in (log alpha, log beta)."""
    a, b = np.exp(log_ab)
    base = betaln(a, b)
    ll = np.sum(churned * (betaln(a + 1, b + t - 1) - base)) + np.sum(alive * (betaln(a, b + ends) - base))
    d_ab = digamma(a + b)
    d_a = np.sum(churned * (digamma(a + 1) - digamma(a + b + t) - digamma(a) + d_ab)) + np.sum(
        alive * (d_ab - digamma(a + b + ends))
    )
    d_b = np.sum(churned * (digamma(b + t - 1) - digamma(a + b + t) - digamma(b) + d_ab)) + np.sum(
        alive * (digamma(b + ends) - digamma(a + b + ends) - digamma(b) + d_ab)
    )
    return -ll, -np.array([d_a * a, d_b * b])


def _fit_params(curves: list[np.ndarray], *, start: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    res = optimize.minimize(
        _neg_loglik, np.log(start), args=_stack(curves), jac=True, method="BFGS"
    )
    return np.exp(res.x)


def _fit(curves: list[np.ndarray]) -> SBGModel:
    churned = sum(float(s[0] - s[-1]) for s in curves)
    survived = sum(float(s[-1]) for s in curves)
    if churned == 0:
        raise InsufficientDataError(
            "fit_sbg: nobody churned in the observed periods, so alpha and beta are not "
            "identified; report the observed retention (100%) instead."
        )
    if survived == 0 and all(s[1] == 0 for s in curves):
        raise InsufficientDataError(
            "fit_sbg: everybody churned in the first period; the sBG model has no heterogeneity "
            "to estimate (churn probability 1)."
        )
    n = sum(float(s[0]) for s in curves)
    if n < _MIN_COHORT:
        warnings.warn(
            f"fit_sbg: only {n:g} customers; alpha and beta are poorly identified below "
            f"{_MIN_COHORT}.",
            SmallSampleWarning,
            stacklevel=3,
        )
    a, b = _fit_params(curves)
    return SBGModel(
        alpha=float(a),
        beta=float(b),
        log_likelihood=float(-_neg_loglik(np.log([a, b]), *_stack(curves))[0]),
        n=int(round(n)),
        events=int(round(churned)),
        cohorts=tuple(tuple(float(x) for x in s) for s in curves),
    )
