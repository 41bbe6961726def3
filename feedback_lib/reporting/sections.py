"""Small compositions of library calls that report sections share.

Each is a thin wrapper that keeps selection logic out of the notebooks; the statistics come from
the metric modules (``nps_table``, ``at_risk_accounts``) unchanged.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from feedback_lib.errors import SmallSampleWarning
from feedback_lib.reporting.params import parse_as_of


@dataclass(frozen=True)
class WeeklyNPS:
    """This week's NPS against last week and the normal range (see :func:`weekly_nps`).

    Attributes
    ----------
    week_start : Timestamp
        Monday of the week of ``as_of``.
    score, ci_low, ci_high : float
        This week's NPS and its interval (NaN when the week has no responses).
    n : int
        Responses this week.
    change, change_p_value : float
        Difference to the previous week and the two-sample test's p-value (NaN when either week
        has no responses).
    significant : bool
        ``change_p_value < alpha``.
    normal_low, normal_high : float
        Control limits of the week from the previous ``trend_weeks`` weeks.
    outside_normal_range : bool
        The week's NPS lies outside them.
    trend : NPSResult
        NPS of all responses of the last ``trend_weeks`` weeks (this one included); NaN with
        ``n = 0`` when there are none.
    table, chart : DataFrame
        The full ``nps_table`` and ``nps_control_chart`` by week.
    """

    week_start: pd.Timestamp
    score: float
    ci_low: float
    ci_high: float
    n: int
    change: float
    change_p_value: float
    significant: bool
    normal_low: float
    normal_high: float
    outside_normal_range: bool
    trend: object
    table: pd.DataFrame
    chart: pd.DataFrame

    @property
    def margin(self) -> float:
        """Half-width of this week's interval, in points."""
        return (self.ci_high - self.ci_low) / 2


def _value(row: pd.DataFrame, column: str) -> float:
    return float(row[column].iloc[0]) if len(row) and pd.notna(row[column].iloc[0]) else math.nan


def _nps_or_missing(scores: pd.Series, *, confidence: float):
    """``fl.nps`` of the scores, or a result of NaNs with ``n = 0`` when there are none."""
    import dataclasses

    from feedback_lib.survey.score import NPSResult, nps

    if len(scores):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            return nps(scores, confidence=confidence)
    values: dict[str, Any] = {f.name: 0 for f in dataclasses.fields(NPSResult)}
    values.update(score=math.nan, ci_low=math.nan, ci_high=math.nan, std_error=math.nan,
                  confidence=confidence, method="adjusted-wald")
    return NPSResult(**values)


def weekly_nps(responses: pd.DataFrame, *, as_of, trend_weeks: int = 13, alpha: float = 0.05,
               confidence: float = 0.95) -> WeeklyNPS:
    """This week's NPS with its interval, the change against last week, and the normal range.

    Composes :func:`feedback_lib.nps_table` (weekly NPS, interval, change test),
    :func:`feedback_lib.nps_control_chart` (limits from the previous ``trend_weeks`` weeks) and
    :func:`feedback_lib.survey.score` (pooled NPS of the last ``trend_weeks`` weeks).

    Parameters
    ----------
    responses
        Canonical responses up to ``as_of`` (later ones are ignored).
    as_of
        Last day included; "this week" is its Monday-based week.
    trend_weeks
        Weeks of the pooled trend NPS and of the control-chart baseline.
    alpha
        Significance level of the week-on-week change.
    confidence
        Interval level.
    """
    from feedback_lib.reporting.context import trailing_weeks
    from feedback_lib.survey.periods import nps_control_chart, nps_table

    day = pd.Timestamp(parse_as_of(as_of))
    known = responses[responses["responded_at"] <= day]
    start = day - pd.Timedelta(days=day.weekday())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)  # weekly samples are small by design
        table = nps_table(known, freq="W", confidence=confidence)
        chart = nps_control_chart(known, freq="W", baseline_periods=trend_weeks)
    row = table[table["period"] == start]
    limits = chart[chart["period"] == start]
    p_value = _value(row, "change_p_value")
    score = _value(row, "nps")
    low, high = _value(limits, "lower_limit"), _value(limits, "upper_limit")
    recent = trailing_weeks(known, "responded_at", as_of=day, weeks=trend_weeks)
    return WeeklyNPS(
        week_start=start,
        score=score,
        ci_low=_value(row, "ci_low"),
        ci_high=_value(row, "ci_high"),
        n=int(row["n"].iloc[0]) if len(row) else 0,
        change=_value(row, "change"),
        change_p_value=p_value,
        significant=bool(p_value < alpha),
        normal_low=low,
        normal_high=high,
        outside_normal_range=bool(score < low or score > high),
        trend=_nps_or_missing(recent["score"], confidence=confidence),
        table=table,
        chart=chart,
    )

__all__ = ["WeeklyNPS", "entered_list", "nps_by_group", "significance", "weekly_nps"]


def nps_by_group(responses: pd.DataFrame, *, by: str, min_n: int = 30,
                 confidence: float = 0.95) -> pd.DataFrame:
    """NPS with its interval for each value of ``by`` over all the given responses (no periods).

    This is :func:`feedback_lib.nps_table` with every response placed in one period, so the
    intervals and the ``small_sample`` flag are exactly that function's.

    Parameters
    ----------
    responses
        Responses with a ``by`` column (e.g. ``segment`` added by ``load_report_data``).
    by
        Grouping column.
    min_n, confidence
        As in ``nps_table``.

    Returns
    -------
    DataFrame
        ``by, n, promoters, passives, detractors, nps, ci_low, ci_high, small_sample``, largest
        group first.

    Examples
    --------
    >>> r = pd.DataFrame({"responded_at": pd.to_datetime(["2026-01-05", "2026-03-02"] * 2),
    ...                   "score": [10, 9, 0, 10], "channel": ["a", "a", "b", "b"]})
    >>> nps_by_group(r, by="channel", min_n=1)[["channel", "n", "nps"]]
      channel  n    nps
    0       a  2  100.0
    1       b  2    0.0
    """
    from feedback_lib.survey import periods as nps_periods

    one_period = responses.assign(responded_at=pd.Timestamp("2000-01-01"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)  # the flag column says it
        table = nps_periods.nps_table(one_period, freq="Y", by=by, min_n=min_n,
                                      confidence=confidence)
    columns = [by, "n", "promoters", "passives", "detractors", "nps", "ci_low", "ci_high",
               "small_sample"]
    return (table[columns].sort_values(["n", by], ascending=[False, True], kind="stable")
            .reset_index(drop=True))


def entered_list(current: pd.DataFrame, previous: pd.DataFrame, *, top: int,
                 key: str = "account_id") -> pd.DataFrame:
    """Rows in the first ``top`` of ``current`` that were not in the first ``top`` of ``previous``.

    For ranked lists such as ``at_risk_accounts`` computed at two dates: the accounts that
    entered the list, in their current order.

    Examples
    --------
    >>> now = pd.DataFrame({"account_id": ["a", "b", "c"]})
    >>> before = pd.DataFrame({"account_id": ["b", "x", "a"]})
    >>> entered_list(now, before, top=2)["account_id"].tolist()
    ['a']
    """
    head = current.head(top)
    return head[~head[key].isin(previous.head(top)[key])].reset_index(drop=True)


def significance(p_value: float, *, alpha: float = 0.05) -> str:
    """Plain words for a two-sided test result.

    Examples
    --------
    >>> significance(0.012)
    'a statistically significant change (p = 0.012)'
    >>> significance(0.41)
    'within normal variation (p = 0.41)'
    >>> significance(float("nan"))
    'not testable (a period without responses)'
    """
    if p_value is None or p_value is pd.NA or math.isnan(p_value):
        return "not testable (a period without responses)"
    shown = f"{p_value:.3f}" if p_value < 0.1 else f"{p_value:.2f}"
    if p_value < alpha:
        return f"a statistically significant change (p = {shown})"
    return f"within normal variation (p = {shown})"
