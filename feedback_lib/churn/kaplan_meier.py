"""Account lifetimes and Kaplan-Meier survival curves.

Lifetimes are counted in paid calendar months (the month-end MRR convention of
:func:`feedback_lib.monthly_revenue`); churn is the first month without revenue after a paid one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib.errors import (
    InsufficientDataError,
    ParameterError,
    SchemaError,
    SmallSampleWarning,
)

__all__ = ["kaplan_meier", "KaplanMeierResult", "plot_km"]

_MIN_GROUP = 10  # accounts per Kaplan-Meier group below which a SmallSampleWarning is raised
_CONF_TYPES = ("log", "log-log", "plain")  # R survfit's conf.type values
_TOL = float(np.sqrt(np.finfo(float).eps))  # R quantile.survfit's tolerance for "exactly 0.5"


@dataclass(frozen=True)
class KaplanMeierResult:
    """Kaplan-Meier curves, medians, restricted means and log-rank tests by group.

    Attributes
    ----------
    curves : DataFrame
        ``group, time, at_risk, events, censored, survival, std_error, ci_low, ci_high`` (one row
        per group and distinct time, starting at time 0; ``std_error`` is Greenwood's standard
        error of ``survival``, what R's ``summary(survfit(...))`` prints as ``std.err``).
    summary : DataFrame
        ``group, n, events, median, median_ci_low, median_ci_high, rmst, rmst_se, horizon``;
        a median (or a limit of its interval) that is not reached is ``inf``.
    logrank : DataFrame
        ``comparison, test_statistic, df, p_value``: first the test across all groups, then every
        pair when there are more than two groups; empty with a single group.
    by : str or None
        Grouping column.
    confidence : float
        Level of the pointwise and median intervals.
    conf_type : str
        Scale of the pointwise bands: ``"log"``, ``"log-log"`` or ``"plain"``.
    """

    curves: pd.DataFrame
    summary: pd.DataFrame
    logrank: pd.DataFrame
    by: str | None
    confidence: float
    conf_type: str = "log-log"

    @property
    def logrank_p(self) -> float:
        """p-value of the log-rank test across all groups; NaN with fewer than two groups."""
        overall = self.logrank.loc[self.logrank["comparison"] == "all groups", "p_value"]
        return float(overall.iloc[0]) if len(overall) else float("nan")

    def group_rmst(self, group: str) -> float:
        """Restricted mean lifetime of one group; NaN when the group is absent."""
        hit = self.summary.loc[self.summary["group"] == group, "rmst"]
        return float(hit.iloc[0]) if len(hit) else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """The per-group summary table."""
        return self.summary.copy()


def kaplan_meier(
    lifetimes: pd.DataFrame,
    *,
    by: str | None = None,
    horizon: float | None = None,
    confidence: float = 0.95,
    duration_col: str = "duration_months",
    event_col: str = "churned",
    conf_type: str = "log-log",
) -> KaplanMeierResult:
    """Kaplan-Meier survival by group with intervals, medians, restricted means and log-rank tests.

    Parameters
    ----------
    lifetimes
        One row per subject with ``duration_col`` and ``event_col`` (as returned by
        :func:`account_lifetimes`), plus the ``by`` column when grouping (merge ``segment`` from
        the accounts table, or derive a cohort from ``start_month``).
    by
        Column to group by; ``None`` for one curve. Missing group values form the group
        ``"(missing)"``.
    horizon
        Time up to which the restricted mean lifetime is computed; default the longest observed
        duration. Use the same horizon to compare groups.
    confidence
        Level of the pointwise bands and of the median interval.
    duration_col, event_col
        Columns holding the time and the event flag (True/1 = event, False/0 = censored).
    conf_type
        Scale on which the pointwise band is symmetric: ``"log-log"`` (default here, as before),
        ``"log"`` (R ``survfit``'s default) or ``"plain"`` (S +- z se, clipped to [0, 1]).

    Returns
    -------
    KaplanMeierResult

    Notes
    -----
    Kaplan & Meier (1958) product-limit estimator S(t) = prod over t_i <= t of (1 - d_i / n_i),
    with Greenwood's variance V(t) = sum d_i / (n_i (n_i - d_i)) of log S(t), so that
    ``std_error`` = S sqrt(V). Pointwise bands, z the normal quantile (R ``survfit``'s
    ``conf.type``): ``"log"`` S exp(+-z sqrt(V)) (upper capped at 1); ``"log-log"``
    S ** exp(-+z sqrt(V) / log S) (Kalbfleisch & Prentice 2002); ``"plain"`` S +- z S sqrt(V)
    clipped to [0, 1]. Where S is 1 the band is [1, 1], where it is 0, [0, 0]. The median is R's
    rule (``quantile.survfit``): the first time the curve is at or below 0.5, except that when it
    is exactly 0.5 (within sqrt(machine epsilon)) over an interval, the midpoint of that interval
    (up to the last observed time if the curve ends there). Its interval applies the same rule to
    the band curves (Brookmeyer & Crowley 1982). The restricted mean
    lifetime is the area under the curve up to ``horizon`` (Royston & Parmar 2013), with the
    standard error of Klein & Moeschberger (2003, section 4.5). Log-rank tests: Mantel (1966), via ``lifelines.statistics``.

    References
    ----------
    Kleinbaum, D. G. and Klein, M. (2012). *Survival Analysis: A Self-Learning Text*, 3rd ed.,
    chapter 2 (the Freireich et al. 1963 leukemia remission data used in the tests).

    Examples
    --------
    >>> lt = pd.DataFrame({"duration_months": [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19,
    ...                                        20, 22, 23, 25, 32, 32, 34, 35],
    ...                    "churned": [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0,
    ...                                0, 0, 0]})
    >>> km = kaplan_meier(lt)
    >>> float(km.summary["median"].iloc[0])
    23.0
    >>> km.curves.query("time == 6").survival.round(3).tolist()
    [0.857]
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"kaplan_meier: confidence must be between 0 and 1, got {confidence!r}")
    if conf_type not in _CONF_TYPES:
        raise ParameterError(f"kaplan_meier: conf_type must be one of {list(_CONF_TYPES)}, got {conf_type!r}")
    cols = (duration_col, event_col) + ((by,) if by is not None else ())
    require_columns(lifetimes, cols, table="lifetimes", where="kaplan_meier")
    if len(lifetimes) == 0:
        raise InsufficientDataError("kaplan_meier: lifetimes is empty; there is nothing to estimate.")
    durations = lifetimes[duration_col].to_numpy(dtype=float)
    events = lifetimes[event_col].to_numpy(dtype=bool)
    if np.isnan(durations).any() or (durations < 0).any():
        bad = np.flatnonzero(np.isnan(durations) | (durations < 0))
        raise SchemaError(
            f"kaplan_meier: {duration_col} must be >= 0 and not missing; rows {(bad + 1).tolist()[:5]} "
            f"break it (e.g. {durations[bad[0]]!r})."
        )
    if by is None:
        groups = np.full(len(durations), "all", dtype=object)
    else:
        groups = lifetimes[by].astype(object).where(lifetimes[by].notna(), "(missing)").to_numpy()
    horizon = float(durations.max()) if horizon is None else float(horizon)
    codes, uniques = pd.factorize(groups)
    labels = sorted(uniques, key=str)
    # one row per (group, time, event) with its count: the estimates are those of the subjects,
    # and the work no longer grows with the number of subjects (Kaplan-Meier, log-rank and RMST
    # only depend on these counts)
    counted = pd.DataFrame({"group": codes, "time": durations, "event": events}).value_counts(sort=False)
    counted = counted.reset_index(name="count")
    times = counted["time"].to_numpy(dtype=float)
    observed = counted["event"].to_numpy(dtype=bool)
    counts = counted["count"].to_numpy(dtype=float)
    group_of = np.asarray(uniques.take(counted["group"].to_numpy()) if len(uniques) else [], dtype=object)
    curves, summary = [], []
    for label in labels:  # one fit per group (a handful)
        mask = group_of == label
        curve, row = _km_group(times[mask], observed[mask], counts[mask], label, horizon, confidence, conf_type)
        curves.append(curve)
        summary.append(row)
    small = [f"{r['group']} (n={r['n']})" for r in summary if r["n"] < _MIN_GROUP]
    if small:
        warnings.warn(
            f"kaplan_meier: groups with fewer than {_MIN_GROUP} subjects: {', '.join(small[:5])}; "
            "their curves and medians are unstable.",
            SmallSampleWarning,
            stacklevel=2,
        )
    return KaplanMeierResult(
        curves=pd.concat(curves, ignore_index=True),
        summary=pd.DataFrame(summary),
        logrank=_logrank(times, observed, counts, group_of, labels),
        by=by,
        confidence=confidence,
        conf_type=conf_type,
    )


def plot_km(result: KaplanMeierResult, *, ax=None, bands: bool = True, xlabel: str = "months since first payment"):
    """Step plot of the Kaplan-Meier curves in ``result``, one line per group.

    Parameters
    ----------
    result
        Output of :func:`kaplan_meier`.
    ax
        Matplotlib axes to draw on; a new figure's axes when ``None``.
    bands
        Shade the pointwise confidence bands.
    xlabel
        Label of the time axis.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> lt = pd.DataFrame({"duration_months": range(1, 13), "churned": [1, 0] * 6})
    >>> ax = plot_km(kaplan_meier(lt))
    >>> ax.get_ylabel()
    'share still paying'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for group, g in result.curves.groupby("group", sort=False):
        n = int(result.summary.loc[result.summary["group"] == group, "n"].iloc[0])
        line = ax.step(g["time"], g["survival"], where="post", label=f"{group} (n={n:,})")[0]
        if bands:
            ax.fill_between(
                g["time"], g["ci_low"], g["ci_high"], step="post", alpha=0.2, color=line.get_color()
            )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share still paying")
    ax.set_ylim(0, 1.02)
    title = "Kaplan-Meier survival" + (f" by {result.by}" if result.by else "")
    ax.set_title(f"{title} ({result.confidence:.0%} bands)")
    if result.by:
        ax.legend(frameon=False)
    return ax


def _km_group(durations, events, counts, label, horizon, confidence, conf_type) -> tuple[pd.DataFrame, dict]:
    """One group's curve and summary row from distinct (duration, event) pairs and their counts."""
    from statistics import NormalDist

    time = np.unique(np.r_[0.0, durations])
    at = np.searchsorted(time, durations)
    d = np.bincount(at, weights=counts * events, minlength=len(time))
    c = np.bincount(at, weights=counts * ~events, minlength=len(time))
    n = (d + c)[::-1].cumsum()[::-1]  # at risk just before each time
    survival = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore"):
        greenwood = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))  # inf once all have had the event
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    low, high = _band(survival, greenwood, z, conf_type)
    curve = pd.DataFrame(
        {
            "group": label,
            "time": time,
            "at_risk": np.rint(n).astype(np.int64),
            "events": np.rint(d).astype(np.int64),
            "censored": np.rint(c).astype(np.int64),
            "survival": survival,
            "std_error": np.where(survival > 0, survival * np.sqrt(np.where(survival > 0, greenwood, 0.0)), 0.0),
            "ci_low": low,
            "ci_high": high,
        }
    )
    rmst, se = _rmst(curve, horizon)
    row = dict(
        group=label,
        n=int(round(counts.sum())),
        events=int(round(counts[events].sum())),
        median=_r_median(time, survival),
        median_ci_low=_r_median(time, low),
        median_ci_high=_r_median(time, high),
        rmst=float(rmst),
        rmst_se=se,
        horizon=horizon,
    )
    return curve, row


def _band(s: np.ndarray, greenwood: np.ndarray, z: float, conf_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise band of a Kaplan-Meier curve on the ``conf_type`` scale (see :func:`kaplan_meier`)."""
    inside = (s > 0) & (s < 1)
    root = np.sqrt(np.where(inside, greenwood, 0.0))
    safe = np.where(inside, s, 0.5)
    if conf_type == "log":
        low, high = safe * np.exp(-z * root), np.minimum(safe * np.exp(z * root), 1.0)
    elif conf_type == "plain":
        low, high = np.maximum(safe * (1 - z * root), 0.0), np.minimum(safe * (1 + z * root), 1.0)
    else:  # log-log
        log_s = np.log(safe)
        low, high = safe ** np.exp(-z * root / log_s), safe ** np.exp(z * root / log_s)
    return np.where(inside, low, s), np.where(inside, high, s)


def _r_median(time: np.ndarray, curve: np.ndarray) -> float:
    """R's ``quantile.survfit`` median of a step curve: the midpoint where it is flat at 0.5.

    The first time the curve is at or below 0.5 (within ``_TOL``); when it is 0.5 there, the mean
    of that time and the time of the next drop, or of the last time if it never drops again.
    ``inf`` when the curve stays above 0.5.
    """
    first = np.flatnonzero(curve <= 0.5 + _TOL)
    if not len(first):
        return float("inf")
    i = first[0]
    if abs(curve[i] - 0.5) >= _TOL:
        return float(time[i])
    below = np.flatnonzero(curve < 0.5 - _TOL)
    return float((time[i] + (time[below[0]] if len(below) else time[-1])) / 2)


def _rmst(curve: pd.DataFrame, horizon: float) -> tuple[float, float]:
    """Area under a KM step curve up to ``horizon`` and its Greenwood-type standard error.

    Klein & Moeschberger (2003), section 4.5: Var = sum over event times t_i <= horizon of
    A_i^2 d_i / (Y_i (Y_i - d_i)), with A_i the area under the curve from t_i to ``horizon``.
    """
    t = curve["time"].to_numpy()
    s = curve["survival"].to_numpy()
    edges = np.minimum(np.r_[t, np.inf], horizon)
    widths = np.clip(np.diff(edges), 0, None)  # S = s[j] on [t[j], t[j + 1])
    if t[0] > 0:  # curve starts later than 0: survival 1 before the first time
        area_before = min(t[0], horizon)
    else:
        area_before = 0.0
    pieces = s * widths
    rmst = area_before + pieces.sum()
    tail = pieces[::-1].cumsum()[::-1]  # area from t[j] to horizon
    d, y = curve["events"].to_numpy(float), curve["at_risk"].to_numpy(float)
    use = (d > 0) & (t <= horizon) & (tail > 0)
    var = np.sum(tail[use] ** 2 * d[use] / (y[use] * (y[use] - d[use])))
    return float(rmst), float(np.sqrt(var))


def _logrank(durations, events, counts, groups, labels) -> pd.DataFrame:
    """Log-rank tests on (duration, event, count, group) rows: all groups, then every pair."""
    columns = ["comparison", "test_statistic", "df", "p_value"]
    if len(labels) < 2:
        return pd.DataFrame({c: pd.Series([], dtype=float if c != "comparison" else object) for c in columns})
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    overall = multivariate_logrank_test(durations, groups, events, weights=counts)
    rows = [("all groups", overall.test_statistic, overall.degrees_of_freedom, overall.p_value)]
    if len(labels) > 2:
        for a, b in combinations(labels, 2):
            ia, ib = groups == a, groups == b
            pair = logrank_test(durations[ia], durations[ib], events[ia], events[ib],
                                weights_A=counts[ia], weights_B=counts[ib])
            rows.append((f"{a} vs {b}", pair.test_statistic, 1, pair.p_value))
    out = pd.DataFrame(rows, columns=columns)
    return out.astype({"test_statistic": float, "df": int, "p_value": float})
