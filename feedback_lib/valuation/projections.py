"""Retention value projections: what ARR does under today's churn, under a scenario, and with
small weekly improvements, each with an interval carried over from the churn estimate.

All rates are annual shares of ARR (0.10 = 10% a year). ``churn`` is a plain number or a
:class:`feedback_lib.Proportion` (for example from :func:`observed_churn`), whose interval is
propagated exactly: a projected ARR falls monotonically as churn rises, so its interval is its
value at the two ends of the churn interval; a gain is monotone except where a scenario's churn
is floored at 0, so its interval is its range over the ends and the kinks (no simulation).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import month_index, parse_as_of
from feedback_lib._util.money import UNITS
from feedback_lib._util.stats import Proportion, wilson_interval, z_value
from feedback_lib.errors import (
    InsufficientDataError,
    ParameterError,
    SmallSampleWarning,
)
from feedback_lib.revenue._frame import _canonical_revenue

__all__ = ["ChurnPointValue", "compounding_improvement", "observed_churn", "project_arr", "retention_scenario", "RetentionScenario", "value_of_churn_point"]

_WEEKS_PER_YEAR = 52


def observed_churn(
    revenue: pd.DataFrame,
    *,
    as_of,
    window_months: int = 12,
    weight: str = "accounts",
    confidence: float = 0.95,
) -> Proportion:
    """Share of the base paying ``window_months`` ago that pays nothing in the month of ``as_of``.

    Parameters
    ----------
    revenue
        Output of :func:`feedback_lib.monthly_revenue` (``account_id, month, mrr``).
    as_of
        Date whose month is compared with the month ``window_months`` earlier.
    window_months
        12 gives an annual rate.
    weight
        ``"accounts"`` (logo churn, Wilson interval) or ``"mrr"`` (gross revenue churn from
        lost accounts: their starting MRR / all starting MRR; contraction is not churn here).
    confidence
        Interval level.

    Returns
    -------
    Proportion
        ``share, ci_low, ci_high, n`` (accounts at the start) and ``successes`` (churned accounts,
        or churned MRR with ``weight="mrr"``).

    See Also
    --------
    feedback_lib.logo_churn_rate : the same logo rate (with ``annualise=True`` over 12 months) as
        a plain number, for monthly windows and trends.

    Notes
    -----
    Logo churn: Wilson (1927) score interval. Revenue churn is a ratio estimator
    ``R = sum(y) / sum(x)`` (x = starting MRR, y = starting MRR of churned accounts); its
    standard error is the linearised ``sqrt(sum((y - R x)^2) / (n (n - 1))) / mean(x)``
    (Cochran 1977, *Sampling Techniques*, section 6.4), a normal interval clipped to [0, 1].

    Examples
    --------
    >>> rev = pd.DataFrame({"account_id": ["a", "b", "c", "d", "a", "b"],
    ...     "month": pd.to_datetime(["2024-01-01"] * 4 + ["2025-01-01"] * 2),
    ...     "mrr": [100.0, 100.0, 100.0, 700.0, 120.0, 90.0]})
    >>> p = observed_churn(rev, as_of="2025-01-31")
    >>> p.share, p.n
    (0.5, 4)
    >>> observed_churn(rev, as_of="2025-01-31", weight="mrr").share
    0.8
    """
    as_of = parse_as_of(as_of, where="observed_churn")
    require_columns(revenue, ("account_id", "month", "mrr"), table="revenue", where="observed_churn")
    if weight not in ("accounts", "mrr"):
        raise ParameterError(f"observed_churn: weight must be 'accounts' or 'mrr', got {weight!r}")
    now, then = month_index(as_of), month_index(as_of) - int(window_months)
    rv = _canonical_revenue(revenue, last_month=now)  # one row per account and month, in order
    paid = rv.units > 0
    start_rows = np.flatnonzero(paid & (rv.month == then))
    if len(start_rows) == 0:
        raise InsufficientDataError(
            f"observed_churn: no account paid in the month {window_months} months before {as_of.date()}; "
            "pass a later as_of or a shorter window_months."
        )
    still = np.zeros(len(rv.labels), dtype=bool)
    still[rv.account[paid & (rv.month == now)]] = True
    churned = ~still[rv.account[start_rows]]
    n = len(start_rows)
    if weight == "accounts":
        return wilson_interval(int(churned.sum()), n, confidence=confidence)
    x = rv.units[start_rows] / UNITS
    y = np.where(churned, x, 0.0)
    r = y.sum() / x.sum()
    se = np.sqrt(np.sum((y - r * x) ** 2) / (n * max(n - 1, 1))) / x.mean()
    z = z_value(confidence)
    return Proportion(share=float(r), ci_low=float(max(0.0, r - z * se)), ci_high=float(min(1.0, r + z * se)),
                      n=n, successes=float(y.sum()), confidence=confidence)


def project_arr(
    arr: float,
    *,
    churn: float | Proportion,
    expansion: float = 0.0,
    new_arr: float = 0.0,
    years: int = 5,
) -> pd.DataFrame:
    """ARR year by year under constant annual churn, expansion and new bookings.

    Parameters
    ----------
    arr
        ARR now (year 0).
    churn
        Annual gross churn share of ARR, or a :class:`Proportion` whose interval is carried over.
    expansion
        Annual expansion of the retained base as a share of ARR (net of contraction).
    new_arr
        New ARR booked each year (added at the end of the year).
    years
        Horizon.

    Returns
    -------
    DataFrame
        ``year, arr, arr_low, arr_high`` for years 0..``years``. ``arr_low`` uses the high end
        of the churn interval and vice versa; without an interval the three columns agree.

    Notes
    -----
    ``ARR_{t+1} = ARR_t (1 - c + e) + new``, i.e. ``ARR_N = ARR_0 g^N + new (g^N - 1) / (g - 1)``
    with ``g = 1 - c + e``.

    Examples
    --------
    >>> project_arr(1000.0, churn=0.2, expansion=0.1, years=2)["arr"].round(6).tolist()
    [1000.0, 900.0, 810.0]
    """
    c, lo, hi = _rates(churn)
    _check(arr=arr, expansion=expansion, new_arr=new_arr, years=years)
    return pd.DataFrame(
        {
            "year": np.arange(years + 1),
            "arr": _path(arr, c, expansion, new_arr, years),
            "arr_low": _path(arr, hi, expansion, new_arr, years),
            "arr_high": _path(arr, lo, expansion, new_arr, years),
        }
    )


@dataclass(frozen=True)
class RetentionScenario:
    """ARR under today's retention and under a scenario, with the gain and its interval.

    Attributes
    ----------
    table : DataFrame
        ``year, current, current_low, current_high, scenario, scenario_low, scenario_high, gain,
        gain_low, gain_high`` (gain = scenario - current ARR).
    arr_gain, arr_gain_low, arr_gain_high : float
        ARR gain in the final year.
    revenue_gain, revenue_gain_low, revenue_gain_high : float
        Gain in revenue summed over the ``years`` years: year t earns the mean of its opening and
        closing ARR (trapezoid rule), discounted by ``(1 + discount_rate)^-t``.
    churn, churn_change, expansion, expansion_change : float
        Inputs (``churn`` is the point estimate).
    years : int
    """

    table: pd.DataFrame
    arr_gain: float
    arr_gain_low: float
    arr_gain_high: float
    revenue_gain: float
    revenue_gain_low: float
    revenue_gain_high: float
    churn: float
    churn_change: float
    expansion: float
    expansion_change: float
    years: int

    def to_frame(self) -> pd.DataFrame:
        """The year-by-year table."""
        return self.table.copy()


def retention_scenario(
    arr: float,
    *,
    churn: float | Proportion,
    churn_change: float = -0.01,
    expansion: float = 0.0,
    expansion_change: float = 0.0,
    new_arr: float = 0.0,
    years: int = 5,
    discount_rate: float = 0.0,
) -> RetentionScenario:
    """Compare ARR under the current churn and expansion with a scenario (e.g. churn 2 points lower).

    Parameters
    ----------
    arr, churn, expansion, new_arr, years
        As in :func:`project_arr`.
    churn_change, expansion_change
        Scenario minus current, in shares per year (``churn_change=-0.02`` = two points less
        churn). The scenario's churn is floored at 0.
    discount_rate
        Annual discount rate of the summed revenue.

    Returns
    -------
    RetentionScenario

    Notes
    -----
    Both paths follow :func:`project_arr`. The gain falls as the current churn rate rises (its
    derivative in ``c`` is ``-N ((g + delta)^(N-1) - g^(N-1))``), except below the point where the
    scenario's churn is floored at 0; so the gain's interval is its range over the ends of the
    churn interval and that kink.

    Examples
    --------
    >>> s = retention_scenario(1000.0, churn=0.2, churn_change=-0.1, years=1)
    >>> round(s.arr_gain, 6), round(s.revenue_gain, 6)  # gain grows from 0 to 100 over the year
    (100.0, 50.0)
    """
    c, lo, hi = _rates(churn)
    _check(arr=arr, expansion=expansion, new_arr=new_arr, years=years)
    t = np.arange(years + 1)
    disc = (1 + discount_rate) ** -t[1:]

    def paths(rate: float) -> tuple[np.ndarray, np.ndarray, float]:
        cur = _path(arr, rate, expansion, new_arr, years)
        new = _path(arr, max(rate + churn_change, 0.0), expansion + expansion_change, new_arr, years)
        gain = new - cur
        return cur, new, float(np.sum((gain[:-1] + gain[1:]) / 2 * disc))

    cur, new, revenue = paths(c)
    (cur_lo, new_lo, _), (cur_hi, new_hi, _) = paths(hi), paths(lo)
    # the gain falls with churn except below the kink where the scenario's churn hits 0:
    # its extremes over the churn interval lie at the interval's ends or at the kink
    ends = [lo, hi] + ([-churn_change] if lo < -churn_change < hi else [])
    gain_paths, rev_gains = [], []
    for rate in ends:
        a, b, r = paths(rate)
        gain_paths.append(b - a)
        rev_gains.append(r)
    gains = np.array(gain_paths)
    table = pd.DataFrame(
        {
            "year": t, "current": cur, "current_low": cur_lo, "current_high": cur_hi,
            "scenario": new, "scenario_low": new_lo, "scenario_high": new_hi,
            "gain": new - cur, "gain_low": gains.min(axis=0), "gain_high": gains.max(axis=0),
        }
    )
    return RetentionScenario(
        table=table,
        arr_gain=float(new[-1] - cur[-1]), arr_gain_low=float(gains[:, -1].min()),
        arr_gain_high=float(gains[:, -1].max()),
        revenue_gain=revenue, revenue_gain_low=min(rev_gains), revenue_gain_high=max(rev_gains),
        churn=c, churn_change=float(churn_change), expansion=float(expansion),
        expansion_change=float(expansion_change), years=int(years),
    )


@dataclass(frozen=True)
class ChurnPointValue:
    """What one point (or ``point``) less annual churn is worth over ``years``.

    Attributes
    ----------
    arr_gain, arr_gain_low, arr_gain_high : float
        Extra ARR in the final year.
    revenue_gain, revenue_gain_low, revenue_gain_high : float
        Extra revenue summed over the years (discounted).
    point, churn, years : float, float, int
    """

    arr_gain: float
    arr_gain_low: float
    arr_gain_high: float
    revenue_gain: float
    revenue_gain_low: float
    revenue_gain_high: float
    point: float
    churn: float
    years: int

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the fields."""
        return pd.DataFrame([self.__dict__])


def value_of_churn_point(
    arr: float,
    *,
    churn: float | Proportion,
    point: float = 0.01,
    expansion: float = 0.0,
    new_arr: float = 0.0,
    years: int = 5,
    discount_rate: float = 0.0,
) -> ChurnPointValue:
    """Value of lowering annual churn by ``point`` (default one percentage point).

    Returns
    -------
    ChurnPointValue
        The gains of :func:`retention_scenario` with ``churn_change = -point``.

    Notes
    -----
    Without new bookings and expansion, the final-year gain is
    ``ARR_0 ((1 - c + p)^N - (1 - c)^N)``.

    Examples
    --------
    >>> v = value_of_churn_point(1_000_000.0, churn=0.10, years=1)
    >>> round(v.arr_gain, 6)
    10000.0
    """
    s = retention_scenario(arr, churn=churn, churn_change=-point, expansion=expansion, new_arr=new_arr,
                           years=years, discount_rate=discount_rate)
    return ChurnPointValue(
        arr_gain=s.arr_gain, arr_gain_low=s.arr_gain_low, arr_gain_high=s.arr_gain_high,
        revenue_gain=s.revenue_gain, revenue_gain_low=s.revenue_gain_low,
        revenue_gain_high=s.revenue_gain_high, point=float(point), churn=s.churn, years=s.years,
    )


def compounding_improvement(
    arr: float,
    *,
    churn: float | Proportion,
    improvement_per_week: float = 0.001,
    weeks: int = 52,
    expansion: float = 0.0,
    years: int = 1,
) -> pd.DataFrame:
    """ARR week by week when annual churn falls a little every week, against no improvement.

    Parameters
    ----------
    arr, churn, expansion
        As in :func:`project_arr`.
    improvement_per_week
        Annual churn rate taken off each week (0.001 = 0.1 point a week), cumulatively, floored
        at 0.
    weeks
        Weeks during which improvements keep coming; after that the churn rate stays.
    years
        Horizon in years (52 weeks each).

    Returns
    -------
    DataFrame
        ``week, churn_rate`` (annual rate in force that week), ``current, improved, gain`` and
        ``gain_low, gain_high`` (the gain's range over 101 churn values spanning the churn
        interval: the floor at 0 churn makes the gain non-monotone in churn), weeks
        0..52 * ``years``.

    Notes
    -----
    Week ``w`` grows ARR by ``(1 - c_w + e)^(1/52)`` with ``c_w = max(c - d min(w, weeks), 0)``, so
    ``ARR_W = ARR_0 prod_{w=1..W} (1 - c_w + e)^(1/52)``; with no improvement this is
    ``ARR_0 (1 - c + e)^(W/52)``.

    Examples
    --------
    >>> t = compounding_improvement(1000.0, churn=0.2, improvement_per_week=0.2, weeks=1)
    >>> round(float(t["improved"].iloc[-1]), 6)  # churn 0 from week 1: ARR stays
    1000.0
    """
    c, lo, hi = _rates(churn)
    _check(arr=arr, expansion=expansion, new_arr=0.0, years=years)
    if improvement_per_week < 0 or weeks < 0:
        raise ParameterError(
            f"compounding_improvement: improvement_per_week and weeks must be >= 0, got "
            f"{improvement_per_week!r} and {weeks!r}"
        )
    w = np.arange(1, _WEEKS_PER_YEAR * years + 1)

    def paths(rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        improved_rate = np.maximum(rate - improvement_per_week * np.minimum(w, weeks), 0.0)
        base = arr * np.r_[1.0, np.cumprod(np.full(len(w), (1 - rate + expansion) ** (1 / _WEEKS_PER_YEAR)))]
        better = arr * np.r_[1.0, np.cumprod((1 - improved_rate + expansion) ** (1 / _WEEKS_PER_YEAR))]
        return base, better, np.r_[rate, improved_rate]

    base, better, rate_path = paths(c)
    # the floor at 0 churn makes the gain non-monotone in c: take its range over a grid
    gains = np.array([b - a for a, b, _ in map(paths, np.unique(np.r_[np.linspace(lo, hi, 101), c]))])
    return pd.DataFrame(
        {
            "week": np.r_[0, w],
            "churn_rate": rate_path,
            "current": base,
            "improved": better,
            "gain": better - base,
            "gain_low": gains.min(axis=0),
            "gain_high": gains.max(axis=0),
        }
    )


def _rates(churn: float | Proportion) -> tuple[float, float, float]:
    if isinstance(churn, Proportion):
        c, lo, hi = float(churn.share), float(churn.ci_low), float(churn.ci_high)
        if churn.n < 30:
            warnings.warn(
                f"churn was estimated on {churn.n} accounts; its interval ({lo:.1%} - {hi:.1%}) is wide.",
                SmallSampleWarning,
                stacklevel=3,
            )
    else:
        c = lo = hi = float(churn)
    if not 0 <= lo <= c <= hi <= 1:
        raise ParameterError(f"churn must be an annual share between 0 and 1, got {churn!r}")
    return c, lo, hi


def _check(*, arr: float, expansion: float, new_arr: float, years: int) -> None:
    if not (np.isfinite(arr) and arr >= 0):
        raise ParameterError(f"arr must be a finite amount >= 0, got {arr!r}")
    if not -1 < expansion <= 10:
        raise ParameterError(f"expansion must be an annual share above -1, got {expansion!r}")
    if not (np.isfinite(new_arr) and new_arr >= 0):
        raise ParameterError(f"new_arr must be a finite amount >= 0 a year, got {new_arr!r}")
    if int(years) != years or years < 1:
        raise ParameterError(f"years must be a whole number >= 1, got {years!r}")


def _path(arr: float, churn: float, expansion: float, new_arr: float, years: int) -> np.ndarray:
    g = 1.0 - churn + expansion
    if g < 0:
        raise ParameterError(f"1 - churn + expansion = {g:g} is negative; churn above 100% a year is not a rate")
    t = np.arange(years + 1)
    growth = g ** t
    bookings = new_arr * (t if g == 1 else (growth - 1) / (g - 1))
    return arr * growth + bookings
