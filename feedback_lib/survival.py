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

from ._revenue_frame import _canonical_revenue, _month_of_dates, _months_to_datetime
from .errors import FeedbackLibError, ParameterError, SmallSampleWarning

__all__ = ["KaplanMeierResult", "account_lifetimes", "kaplan_meier", "landmark_lifetimes", "plot_km"]

_MIN_GROUP = 10  # accounts per Kaplan-Meier group below which a SmallSampleWarning is raised


def account_lifetimes(revenue: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """First paid lifetime of every account, in months.

    Parameters
    ----------
    revenue
        Account-months as returned by :func:`feedback_lib.monthly_revenue`: ``account_id, month,
        mrr`` (0 in gap months). Rows after the month of ``as_of`` are ignored, so a revenue
        table computed to a later date gives the lifetimes as they stood at ``as_of``.
    as_of
        Last day observed (inclusive).

    Returns
    -------
    DataFrame
        One row per account with a paid month up to ``as_of``: ``account_id, start_month``
        (first paid month), ``duration_months`` (paid months from ``start_month`` up to the first
        month without revenue, or up to the month of ``as_of`` if it never churned),
        ``churned`` (bool; False = censored at ``as_of``) and ``churn_month`` (first month
        without revenue; NaT when censored). Reactivations do not extend the first lifetime.

    Notes
    -----
    Vectorised over the paid months in (account, month) order (already sorted input, as
    :func:`feedback_lib.monthly_revenue` returns, is only checked): the first lifetime runs from
    an account's first paid month to the first month that does not follow its predecessor. Discrete time: ``duration_months = d`` with ``churned`` means the
    account paid ``d`` months and had no revenue in month ``start_month + d``.

    Examples
    --------
    >>> rev = pd.DataFrame({
    ...     "account_id": ["a"] * 5 + ["b"] * 2,
    ...     "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01",
    ...                              "2024-05-01", "2024-04-01", "2024-05-01"]),
    ...     "mrr": [10.0, 10.0, 0.0, 10.0, 10.0, 5.0, 5.0]})
    >>> account_lifetimes(rev, as_of="2024-05-31")[["account_id", "duration_months", "churned"]]
      account_id  duration_months  churned
    0          a                2     True
    1          b                2    False
    """
    as_of = parse_as_of(as_of, where="account_lifetimes")
    require_columns(revenue, ("account_id", "month", "mrr"), where="account_lifetimes: revenue")
    asof_m = month_index(as_of)
    rv = _canonical_revenue(revenue, last_month=asof_m, money=False)
    paid = rv.units  # bool: the row is paid
    first_rows = np.flatnonzero(rv.first)
    if not paid[first_rows].all():  # an account's first row unpaid: work on the paid rows alone
        return _first_lifetimes(rv, np.flatnonzero(paid), asof_m)
    # every account starts paid (monthly_revenue's rows do): a lifetime runs from the account's
    # first row to the first row that is unpaid, starts another account, or skips a month
    runs_on = np.zeros(len(paid), dtype=bool)
    runs_on[1:] = ~rv.first[1:] & paid[1:] & (rv.month[1:] == rv.month[:-1] + 1)
    breaks = np.flatnonzero(~runs_on)
    ends = np.r_[breaks, len(paid)][np.searchsorted(breaks, first_rows, side="right")]
    return _lifetime_frame(rv.labels, rv.month[first_rows], (ends - first_rows).astype(np.int64), asof_m)


def _lifetime_frame(labels, first: np.ndarray, duration: np.ndarray, asof_m: int) -> pd.DataFrame:
    """The frame :func:`account_lifetimes` returns, from each account's first month and duration."""
    churn_m = first + duration  # first month without revenue after the first lifetime
    churned = churn_m <= asof_m
    return pd.DataFrame(
        {
            "account_id": labels,
            "start_month": _months_to_datetime(first),
            "duration_months": duration,
            "churned": churned,
            "churn_month": np.where(churned, _months_to_datetime(churn_m), np.datetime64("NaT", "ns")),
        }
    )


def _first_lifetimes(rv, paid: np.ndarray, asof_m: int) -> pd.DataFrame:
    """:func:`account_lifetimes` of the canonical revenue rows ``paid`` (paid months, in order)."""
    acc, month = rv.account[paid], rv.month[paid]
    same_account = acc[1:] == acc[:-1]
    head = np.ones(min(len(paid), 1), dtype=bool)  # the first row opens an account and a run
    starts = np.flatnonzero(np.r_[head, ~same_account])  # first paid row of each account
    breaks = np.flatnonzero(np.r_[head, ~(same_account & (month[1:] == month[:-1] + 1))])
    # the first lifetime runs from the account's first paid row to the next break in the months
    ends = np.r_[breaks, len(paid)][np.searchsorted(breaks, starts) + 1]
    return _lifetime_frame(rv.labels.take(acc[starts]), month[starts], (ends - starts).astype(np.int64), asof_m)


def landmark_lifetimes(
    revenue: pd.DataFrame, *, landmark, as_of, groups: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Lifetimes counted from a landmark month, for survival by a state measured at that month.

    Grouping :func:`account_lifetimes` by something measured later (an account's *latest* NPS,
    say) is biased: an account must survive long enough to answer, so the groups differ in who
    could be counted (immortal-time bias). The landmark method fixes the time origin instead:
    take the accounts paying in the landmark month, classify them by their state at the
    landmark, and follow each from there.

    Parameters
    ----------
    revenue
        Account-months as returned by :func:`feedback_lib.monthly_revenue`.
    landmark
        Date whose month is the time origin; only accounts with MRR > 0 in that month count.
    as_of
        Last day observed; lifetimes still running then are censored.
    groups
        Optional frame with ``account_id`` and group columns measured at the landmark (for
        example ``account_covariates(dataset, as_of=landmark)[["account_id", "nps_category"]]``),
        merged on; accounts without a row get missing group values.

    Returns
    -------
    DataFrame
        As :func:`account_lifetimes` (``duration_months`` = paid months from the landmark month
        on, up to the first churn or the month of ``as_of``), plus the group columns.

    Notes
    -----
    Anderson, Cain & Gelber (1983), Analysis of survival by tumor response, *J. Clinical Oncology*
    1(11); Dafni (2011), Landmark analysis at the 25-year landmark point, *Circulation:
    Cardiovascular Quality and Outcomes* 4(3).

    Examples
    --------
    >>> rev = pd.DataFrame({
    ...     "account_id": ["a"] * 4 + ["b"] * 2 + ["c"],
    ...     "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01",
    ...                              "2024-02-01", "2024-03-01", "2024-04-01"]),
    ...     "mrr": [10.0, 10.0, 10.0, 10.0, 5.0, 5.0, 7.0]})
    >>> groups = pd.DataFrame({"account_id": ["a", "b"], "nps": ["promoter", "detractor"]})
    >>> landmark_lifetimes(rev, landmark="2024-02-15", as_of="2024-04-30", groups=groups)[
    ...     ["account_id", "duration_months", "churned", "nps"]]
      account_id  duration_months  churned        nps
    0          a                3    False   promoter
    1          b                2     True  detractor
    """
    landmark = parse_as_of(landmark, where="landmark_lifetimes: landmark")
    as_of = parse_as_of(as_of, where="landmark_lifetimes")
    require_columns(revenue, ("account_id", "month", "mrr"), where="landmark_lifetimes: revenue")
    origin = month_index(landmark)
    if origin > month_index(as_of):
        raise FeedbackLibError(f"landmark_lifetimes: landmark {landmark} is after as_of {as_of}")
    asof_m = month_index(as_of)
    rv = _canonical_revenue(revenue, last_month=asof_m, money=False)
    paid = rv.units  # bool: the row is paid
    paying = np.zeros(len(rv.labels), dtype=bool)
    paying[rv.account[paid & (rv.month == origin)]] = True
    lifetimes = _first_lifetimes(rv, np.flatnonzero(paid & (rv.month >= origin) & paying[rv.account]), asof_m)
    if groups is None:
        return lifetimes
    require_columns(groups, ("account_id",), where="landmark_lifetimes: groups")
    return lifetimes.merge(groups, on="account_id", how="left", validate="one_to_one")


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
    require_columns(lifetimes, cols, where="kaplan_meier: lifetimes")
    if len(lifetimes) == 0:
        raise FeedbackLibError("kaplan_meier: lifetimes is empty; there is nothing to estimate.")
    durations = lifetimes[duration_col].to_numpy(dtype=float)
    events = lifetimes[event_col].to_numpy(dtype=bool)
    if np.isnan(durations).any() or (durations < 0).any():
        bad = np.flatnonzero(np.isnan(durations) | (durations < 0))
        raise FeedbackLibError(
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
    from lifelines import KaplanMeierFitter  # lifelines loads in ~1 s: only when a curve is fitted
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


# ---------------------------------------------------------------- helpers shared by the churn modules
def parse_as_of(as_of, *, where: str) -> pd.Timestamp:
    """``as_of`` as a midnight Timestamp, or a ParameterError naming the caller."""
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{where}: as_of must be a date like '2026-06-30', got {as_of!r}") from exc
    if pd.isna(ts):
        raise ParameterError(f"{where}: as_of must be a date like '2026-06-30', got {as_of!r}")
    return ts.normalize()


def require_columns(frame: pd.DataFrame, columns, *, where: str) -> None:
    """Raise a FeedbackLibError naming the missing columns of ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FeedbackLibError(
            f"{where} lacks column(s) {missing}; it has {list(frame.columns)[:12]}. Pass the "
            "canonical columns (see feedback_lib.schema)."
        )


def month_index(values) -> np.ndarray | int:
    """Months since 1970-01 of a date or an array/Series of dates (NaT -> a very negative int)."""
    if isinstance(values, pd.Timestamp):
        return int(np.datetime64(values.date(), "M").astype(np.int64))
    return _month_of_dates(np.asarray(values, dtype="datetime64[ns]"))


def month_start(index) -> np.ndarray:
    """First day of the month for month indexes (inverse of :func:`month_index`)."""
    return np.asarray(index, dtype=np.int64).astype("datetime64[M]").astype("datetime64[ns]")


def last_complete_month(as_of: pd.Timestamp) -> int:
    """Month index of the last month that ends on or before ``as_of``."""
    return month_index(as_of) - (0 if (as_of + pd.Timedelta(days=1)).day == 1 else 1)


def month_end(index: int) -> pd.Timestamp:
    """Last day of the month with index ``index``."""
    return pd.Timestamp(np.datetime64(int(index) + 1, "M")) - pd.Timedelta(days=1)
