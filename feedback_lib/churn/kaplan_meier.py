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










@dataclass(frozen=True)
class KaplanMeierResult:
    """Kaplan-Meier curves, medians, restricted means and log-rank tests by group.

    Attributes
    ----------
    curves : DataFrame
        ``group, time, at_risk, events, censored, survival, ci_low, ci_high`` (one row per group
        and distinct time, starting at time 0 with survival 1).
    summary : DataFrame
        ``group, n, events, median, median_ci_low, median_ci_high, rmst, rmst_se, horizon``;
        a median that is not reached is ``inf``.
    logrank : DataFrame
        ``comparison, test_statistic, df, p_value``: first the test across all groups, then every
        pair when there are more than two groups; empty with a single group.
    by : str or None
        Grouping column.
    confidence : float
        Level of the pointwise and median intervals.
    """

    curves: pd.DataFrame
    summary: pd.DataFrame
    logrank: pd.DataFrame
    by: str | None
    confidence: float

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

    Returns
    -------
    KaplanMeierResult

    Notes
    -----
    Kaplan & Meier (1958) product-limit estimator via lifelines ``KaplanMeierFitter``; pointwise
    bands use Greenwood's variance on the log(-log) scale (Kalbfleisch & Prentice 2002). The median
    interval is where the band curves cross 0.5 (Brookmeyer & Crowley 1982). The restricted mean
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
        curve, row = _km_group(times[mask], observed[mask], counts[mask], label, horizon, confidence)
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


def _km_group(durations, events, counts, label, horizon, confidence) -> tuple[pd.DataFrame, dict]:
    """One group's curve and summary row from distinct (duration, event) pairs and their counts."""
    from lifelines import (
        KaplanMeierFitter,  # lifelines loads in ~1 s: only when a curve is fitted
    )
    from lifelines.utils import median_survival_times

    kmf = KaplanMeierFitter(alpha=1 - confidence).fit(durations, events, weights=counts)
    table = kmf.event_table
    ci = kmf.confidence_interval_survival_function_
    curve = pd.DataFrame(
        {
            "group": label,
            "time": table.index.to_numpy(dtype=float),
            "at_risk": _whole(table["at_risk"]),
            "events": _whole(table["observed"]),
            "censored": _whole(table["censored"]),
            "survival": kmf.survival_function_.iloc[:, 0].to_numpy(),
            "ci_low": ci.iloc[:, 0].to_numpy(),
            "ci_high": ci.iloc[:, 1].to_numpy(),
        }
    )
    med_ci = median_survival_times(ci)
    rmst, se = _rmst(curve, horizon)
    row = dict(
        group=label,
        n=int(round(counts.sum())),
        events=int(round(counts[events].sum())),
        median=float(kmf.median_survival_time_),
        median_ci_low=float(med_ci.iloc[0, 0]),
        median_ci_high=float(med_ci.iloc[0, 1]),
        rmst=float(rmst),
        rmst_se=se,
        horizon=horizon,
    )
    return curve, row


def _whole(counts: pd.Series) -> np.ndarray:
    """Weighted counts of lifelines' event table back as integers (the weights are whole counts)."""
    return np.rint(counts.to_numpy()).astype(np.int64)


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












