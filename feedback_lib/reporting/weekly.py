"""Sections of the weekly feedback-loop report, each a defined result for any week.

Every builder takes the report's dataset (as :func:`~feedback_lib.reporting.load_report_data`
returns it) and ``as_of`` and returns a :class:`Section`: a title, one sentence generated from the
numbers, a table (possibly empty, with its columns), an optional figure and ``metrics()``. A quiet
week gives sentences such as "no respondent scored below 9 this week" instead of an error.
``weekly_metrics`` assembles ``metrics.json`` from the sections; ``data_date_range`` is what a
runner checks ``--as-of`` against before starting the notebook.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from feedback_lib.errors import InsufficientDataError, ModelFitError, ParameterError, SmallSampleWarning
from feedback_lib.reporting.params import parse_as_of

__all__ = ["Section", "data_date_range", "check_as_of", "interval_text", "nps_section", "callback_section",
           "problems_section", "persistent_section", "loop_section", "calls_section", "at_risk_section",
           "segments_section", "conversations_section", "weekly_metrics", "publish_weekly", "show", "weekly_summary"]

_DATES = {"responses": "responded_at", "conversations": "held_on", "tickets": "opened_at", "usage": "month",
          "subscriptions": "start_date"}


@dataclass(frozen=True)
class Section:
    """One report section: ``title``, ``sentence`` (the takeaway, from the numbers), ``table``
    (empty with its columns when there is nothing), ``figure`` (matplotlib or None), the
    values it contributes to ``metrics.json`` (:meth:`metrics`) and ``attachments`` (name ->
    table written next to the report, e.g. ``call_briefs``); ``view`` holds the ``columns``,
    ``formats`` and ``labels`` :func:`show` uses."""

    title: str
    sentence: str
    table: pd.DataFrame
    figure: Any = None
    values: dict[str, Any] = field(default_factory=dict)
    attachments: dict[str, pd.DataFrame] = field(default_factory=dict)
    view: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        """The section's entries of ``metrics.json``."""
        return dict(self.values)


def _num(x) -> float | None:
    """A JSON-safe number: None for NaN/inf/missing."""
    if x is None or x is pd.NA:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def interval_text(low, high, *, fmt: str = "{:+.0f}") -> str:
    """An interval as "low to high" (never "±", intervals of NPS are asymmetric).

    Examples
    --------
    >>> interval_text(7.2, 65.4), interval_text(float("nan"), 3)
    ('+7 to +65', 'not defined')
    """
    if _num(low) is None or _num(high) is None:
        return "not defined"
    return f"{fmt.format(low)} to {fmt.format(high)}"


def data_date_range(dataset) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last date of any event in the dataset (responses, conversations, tickets, usage,
    subscription starts).

    Raises
    ------
    ParameterError
        The dataset has no dated rows at all.
    """
    lows, highs = [], []
    for table, column in _DATES.items():
        frame = getattr(dataset, table, None)
        if frame is None or column not in frame or not len(frame):
            continue
        dates = pd.to_datetime(frame[column]).dropna()
        if len(dates):
            lows.append(dates.min())
            highs.append(dates.max())
    if not lows:
        raise ParameterError("the data has no dated rows (responses, conversations, tickets, usage, subscriptions)")
    return pd.Timestamp(min(lows)).normalize(), pd.Timestamp(max(highs)).normalize()


def check_as_of(dataset, as_of) -> pd.Timestamp:
    """``as_of`` as a Timestamp, or a :class:`ParameterError` naming the data's date range.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ds = SimpleNamespace(responses=pd.DataFrame({"responded_at": pd.to_datetime(["2024-01-05", "2026-09-30"])}))
    >>> check_as_of(ds, "2027-01-04")
    Traceback (most recent call last):
    ...
    feedback_lib.errors.ParameterError: as_of 2027-01-04 is outside the data's date range 2024-01-05 to 2026-09-30
    """
    day = pd.Timestamp(parse_as_of(as_of))
    first, last = data_date_range(dataset)
    if not first <= day <= last:
        raise ParameterError(f"as_of {day:%Y-%m-%d} is outside the data's date range {first:%Y-%m-%d} to {last:%Y-%m-%d}")
    return day


def _week_scores(responses: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return responses.loc[(responses["responded_at"] >= start) & (responses["responded_at"] <= end), "score"]


def nps_section(data, *, as_of, trend_weeks: int = 13, confidence: float = 0.95) -> Section:
    """This week's NPS, last week's, the adjusted-Wald change test and the control-chart verdict."""
    import matplotlib.pyplot as plt

    from feedback_lib.reporting.sections import _nps_or_missing, weekly_nps
    from feedback_lib.survey.plots import plot_control_chart
    from feedback_lib.survey.score import MIN_N_COMPARE, nps_change

    day = pd.Timestamp(parse_as_of(as_of))
    week = weekly_nps(data.responses, as_of=day, trend_weeks=trend_weeks, confidence=confidence)
    start = week.week_start
    this = _week_scores(data.responses, start, day)
    last = _week_scores(data.responses, start - pd.Timedelta(days=7), start - pd.Timedelta(days=1))
    now, before = _nps_or_missing(this, confidence=confidence), _nps_or_missing(last, confidence=confidence)
    change = None
    if len(this) and len(last):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            change = nps_change(last, this, confidence=confidence, method="adjusted-wald")
    significant = bool(change is not None and change.significant)
    outside = bool(week.outside_normal_range)
    if not len(this):
        sentence = "No responses this week, so there is no NPS to report."
    else:
        sentence = (f"This week's NPS is {now.score:+.0f} from {now.n} responses (95% interval "
                    f"{interval_text(now.ci_low, now.ci_high)}); ")
        if not len(last):
            sentence += "last week had no responses, so there is nothing to compare."
        elif change is None or min(len(this), len(last)) < MIN_N_COMPARE:
            sentence += (f"last week {before.score:+.0f} from {before.n}: too few responses to compare "
                         f"(at least {MIN_N_COMPARE} a week are needed).")
        else:
            verdict = (f"a statistically significant change (p = {change.p_value:.3f})" if significant
                       else f"within normal variation (p = {change.p_value:.2f})")
            sentence += (f"{change.difference:+.0f} points against last week ({before.score:+.0f} from "
                         f"{before.n}; change {interval_text(change.ci_low, change.ci_high)}), {verdict}.")
        if _num(week.normal_low) is not None:
            sentence += f" It is {'outside' if outside else 'inside'} the {trend_weeks}-week normal range"
            if outside != significant and change is not None:
                sentence += (" (the range compares with the average of the previous weeks, the test with "
                             "last week only, so the two can differ)")
            sentence += "."
    fig = None
    chart = week.chart.tail(trend_weeks)
    if len(chart):
        fig, ax = plt.subplots(figsize=(10, 4))
        plot_control_chart(chart, ax=ax)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4, frameon=False)
        plt.close(fig)
    trend: Any = week.trend
    values = {
        "nps_week": {"score": _num(now.score), "ci_low": _num(now.ci_low), "ci_high": _num(now.ci_high),
                     "n": int(now.n)},
        "nps_last_week": {"score": _num(before.score), "n": int(before.n)},
        "nps_change_vs_last_week": {
            "difference": None if change is None else _num(change.difference),
            "ci_low": None if change is None else _num(change.ci_low),
            "ci_high": None if change is None else _num(change.ci_high),
            "p_value": None if change is None else _num(change.p_value),
            "significant": significant, "method": "adjusted-wald", "min_n_per_week": MIN_N_COMPARE},
        "nps_outside_normal_range": outside,
        "nps_trend": {"weeks": trend_weeks, "score": _num(trend.score), "ci_low": _num(trend.ci_low),
                      "ci_high": _num(trend.ci_high), "n": int(trend.n)},
    }
    return Section("NPS this week", sentence, chart, fig, values, view={"columns": []})


def callback_section(data, *, as_of) -> Section:
    """Respondents of the last 7 days scoring below 9, largest MRR first."""
    from feedback_lib.program.callbacks import callback_queue

    queue = callback_queue(data.responses, accounts=data.accounts, subscriptions=data.subscriptions,
                           conversations=data.conversations, as_of=as_of)
    if len(queue) == 0:
        sentence = "No respondent scored below 9 this week, so nobody is waiting for a callback."
    else:
        never = int(queue["last_conversation_on"].isna().sum())
        sentence = (f"{len(queue)} {'respondent' if len(queue) == 1 else 'respondents'} to call back, with {queue['mrr'].sum():,.0f} MRR at stake; "
                    f"{int((queue['score'] <= 6).sum())} are detractors (0-6) and {never} have never had an "
                    "executive conversation.")
    values = {"callback_queue": {"respondents": len(queue), "mrr_at_stake_mrr": float(queue["mrr"].sum())}}
    view = {"columns": ["rank", "name", "segment", "score", "mrr", "comment", "owner", "days_since_response",
                        "last_conversation_on"], "formats": {"mrr": "{:,.0f}"},
            "labels": {"rank": "#", "days_since_response": "Days ago",
                       "last_conversation_on": "Last executive conversation"}}
    return Section("Callback queue", sentence, queue, None, values, view=view)


def problems_section(data, *, as_of, top: int = 5) -> Section:
    """This week's problems: themes of complaining statements, ranked by MRR and accounts."""
    from feedback_lib.verbatims.trends import top_problems

    day = pd.Timestamp(parse_as_of(as_of))
    week = data.responses.loc[(data.responses["responded_at"] > day - pd.Timedelta(days=7))
                              & (data.responses["responded_at"] <= day)]
    commented = int(week["comment"].astype("string").fillna("").str.strip().ne("").sum())
    problems = top_problems(data.responses, accounts=data.accounts, subscriptions=data.subscriptions,
                            as_of=day, top=top)
    if commented == 0:
        sentence = "No comments this week, so there are no problems to report."
    elif len(problems) == 0:
        sentence = f"None of this week's {commented} comments complains about a known theme."
    else:
        first = problems.iloc[0]
        sentence = (f"{len(problems)} problems raised in {commented} comments; the largest is "
                    f"{str(first['theme']).replace('_', ' ')} ({int(first['accounts'])} accounts, "
                    f"{first['mrr']:,.0f} MRR).")
    values = {"top_problems": [{"theme": str(r.theme), "accounts": int(r.accounts), "mrr": float(r.mrr)}
                               for r in problems.itertuples()], "comments_week": commented}
    view = {"columns": ["rank", "theme", "accounts", "mrr", "responses", "detractors", "segments", "example"],
            "formats": {"mrr": "{:,.0f}"}, "labels": {"rank": "#", "example": "Example complaint (largest account)"}}
    return Section("Top problems this week", sentence, problems, None, values, view=view)


def persistent_section(data, *, as_of, weeks: int = 13) -> Section:
    """Problems of the last ``weeks`` weeks with their direction, and a Pareto chart."""
    import matplotlib.pyplot as plt

    from feedback_lib.verbatims.problems import persistent_problems

    table = persistent_problems(data.responses, accounts=data.accounts, subscriptions=data.subscriptions,
                                as_of=as_of, weeks=weeks)
    fig = None
    if len(table) == 0:
        sentence = f"No complaints about a known theme in the last {weeks} weeks."
    else:
        few = int(np.searchsorted(table["cumulative_mrr_share"].to_numpy(), 0.8) + 1)
        few = min(few, len(table))
        rising = table.loc[table["direction"] == "rising", "theme"].str.replace("_", " ").tolist()
        sentence = (f"Over {weeks} weeks {few} of {len(table)} problems cover "
                    f"{table['cumulative_mrr_share'].iloc[few - 1]:.0%} of the MRR of complaining accounts; "
                    + (f"rising: {', '.join(rising)}." if rising else "none is rising significantly."))
        fig, ax = plt.subplots(figsize=(10, 4))
        labels = table["theme"].str.replace("_", " ")
        ax.bar(labels, table["mrr"], color="#c0504d")
        ax.set_ylabel("MRR of complaining accounts")
        twin = ax.twinx()
        twin.plot(labels, 100 * table["cumulative_mrr_share"], color="#1f3b73", marker="o")
        twin.set_ylim(0, 105)
        twin.set_ylabel("Cumulative share of MRR (%)")
        ax.set_title(f"Problems of the last {weeks} weeks (Pareto)")
        plt.close(fig)
    values = {"persistent_problems": [{"theme": str(r.theme), "accounts": int(r.accounts), "mrr": float(r.mrr),
                                       "direction": str(r.direction)} for r in table.itertuples()]}
    view = {"columns": ["rank", "theme", "accounts", "mrr", "cumulative_mrr_share", "weeks", "direction", "example"],
            "formats": {"mrr": "{:,.0f}", "cumulative_mrr_share": "{:.0%}"},
            "labels": {"rank": "#", "cumulative_mrr_share": "Cumulative MRR share", "weeks": "Weeks raised",
                       "example": "Example complaint (largest account)"}}
    return Section(f"Persistent problems, last {weeks} weeks", sentence, table, fig, values, view=view)


def loop_section(data, *, as_of) -> Section:
    """Whether last week's callback queue was followed up (needs a ``followups`` table)."""
    from feedback_lib.program.callbacks import callback_queue

    day = pd.Timestamp(parse_as_of(as_of))
    last_week = day - pd.Timedelta(days=7)
    queue = callback_queue(data.responses, accounts=data.accounts, subscriptions=data.subscriptions,
                           conversations=data.conversations, as_of=last_week)
    sentence = (f"Last week's queue had {len(queue)} respondents. This source has no followups table, so "
                "whether they were called back is not known (callbacks are not inferred from other contact).")
    values = {"callback_loop": {"available": False, "queue_responses": len(queue)}}
    return Section("Did last week's callbacks happen?", sentence, queue.head(0), None, values, view={"columns": []})


def calls_section(data, *, as_of, seed: int = 0, per_day: int = 5) -> Section:
    """Today's calls: the outreach list and a call brief for each account on it or in the queue."""
    from feedback_lib.program.callbacks import callback_queue
    from feedback_lib.program.capacity import call_brief, outreach_list
    from feedback_lib.program.health import health_score

    day = pd.Timestamp(parse_as_of(as_of))
    health = health_score(data, as_of=day)
    calls = outreach_list(health, accounts=data.accounts, conversations=data.conversations, as_of=day,
                          seed=seed, per_day=per_day)
    queue = callback_queue(data.responses, accounts=data.accounts, subscriptions=data.subscriptions,
                           conversations=data.conversations, as_of=day)
    ids = list(dict.fromkeys([*map(str, queue["account_id"]), *map(str, calls["account_id"])]))
    briefs = pd.DataFrame([{**call_brief(data, account_id=a, as_of=day, health=health).to_dict(),
                            "why": "callback queue" if a in set(map(str, queue["account_id"])) else "outreach"}
                           for a in ids])
    if len(calls) == 0:
        sentence = "No accounts on today's outreach list (every account was touched in the last 30 days)."
    else:
        sentence = (f"Today's outreach list: {len(calls)} accounts for {calls['csm'].nunique()} CSMs; "
                    f"{len(briefs)} call briefs (queue and outreach) are in call_briefs.csv.")
    values = {"outreach_list": [str(a) for a in calls["account_id"]], "call_briefs": len(briefs)}
    view = {"columns": ["csm", "name", "mrr", "band", "days_since_touch", "reason"],
            "formats": {"mrr": "{:,.0f}", "days_since_touch": "{:.0f}"},
            "labels": {"csm": "CSM", "band": "Health", "days_since_touch": "Days since touch"}}
    return Section("Today's calls", sentence, calls, None, values, {"call_briefs": briefs}, view=view)


def at_risk_section(data, *, as_of, top: int = 25) -> Section:
    """Accounts in the top ``top`` by MRR at risk this week that were not there last week.

    One :class:`~feedback_lib.churn.model.ChurnModel` is fitted on the history up to ``as_of``
    and scores the accounts twice, as they stood on ``as_of`` and seven days earlier: an account
    enters the list because its own covariates moved, not because the model was refitted (and the
    section costs one fit, not two).
    """
    from feedback_lib.churn.model import ChurnModel
    from feedback_lib.reporting.sections import entered_list

    day = pd.Timestamp(parse_as_of(as_of))
    try:
        model = ChurnModel().fit(data, as_of=day)
        now = model.predict_at_risk(data, as_of=day)
        before = model.predict_at_risk(data, as_of=day - pd.Timedelta(days=7))
    except (InsufficientDataError, ModelFitError) as error:
        sentence = f"No at-risk list this week: the churn model cannot be fitted ({error})."
        return Section("Accounts that entered the at-risk list", sentence, pd.DataFrame(), None,
                       {"at_risk_entered": []}, view={"columns": []})
    entered = entered_list(now, before, top=top).merge(data.accounts[["account_id", "name", "owner"]],
                                                       on="account_id", how="left")
    if len(entered) == 0:
        sentence = f"No new accounts at risk: the top {top} by MRR at risk are the same as last week."
    else:
        sentence = (f"{len(entered)} of the top {top} accounts by MRR at risk are new this week, putting "
                    f"{entered['mrr_at_risk'].sum():,.0f} MRR at risk over the next 3 months.")
    values = {"at_risk_entered": [str(a) for a in entered["account_id"]]}
    view = {"columns": ["rank", "name", "segment", "mrr", "churn_probability", "mrr_at_risk", "main_driver_label", "owner"],
            "formats": {"mrr": "{:,.0f}", "churn_probability": "{:.1%}", "mrr_at_risk": "{:,.0f}"},
            "labels": {"rank": "Rank", "main_driver_label": "Main driver",
                       "churn_probability": "Churn probability (3 months)"}}
    return Section("Accounts that entered the at-risk list", sentence, entered, None, values, view=view)


def segments_section(data, *, as_of, trend_weeks: int = 13) -> Section:
    """NPS by segment and by channel over the last ``trend_weeks`` weeks (one table, ``group`` column)."""
    from feedback_lib.reporting.context import trailing_weeks
    from feedback_lib.reporting.sections import nps_by_group

    recent = trailing_weeks(data.responses, "responded_at", as_of=as_of, weeks=trend_weeks)
    columns = ["group", "value", "n", "nps", "ci_low", "ci_high", "small_sample"]
    parts = [nps_by_group(recent, by=by).rename(columns={by: "value"}).assign(group=by.capitalize())[columns]
             for by in ("segment", "channel") if by in recent.columns]
    table = pd.concat(parts, ignore_index=True) if parts and len(recent) else pd.DataFrame(columns=columns)
    segments = table.loc[table["group"] == "Segment"]
    if len(segments) == 0:
        sentence = f"No responses in the last {trend_weeks} weeks, so there is no NPS by segment."
    elif len(segments) == 1:
        only = segments.iloc[0]
        sentence = (f"One segment answered: {only['value']} ({only['nps']:+.0f}, "
                    f"{interval_text(only['ci_low'], only['ci_high'])}, {int(only['n'])} responses).")
    else:
        best, worst = segments.loc[segments["nps"].idxmax()], segments.loc[segments["nps"].idxmin()]
        sentence = (f"Highest NPS: {best['value']} ({best['nps']:+.0f}, {interval_text(best['ci_low'], best['ci_high'])}); "
                    f"lowest: {worst['value']} ({worst['nps']:+.0f}, {interval_text(worst['ci_low'], worst['ci_high'])}). "
                    "Overlapping intervals do not show a real difference.")
    values = {"nps_by_segment": [{"segment": str(r.value), "n": int(r.n), "score": _num(r.nps),
                                  "ci_low": _num(r.ci_low), "ci_high": _num(r.ci_high)} for r in segments.itertuples()]}
    view = {"formats": {"nps": "{:+.0f}", "ci_low": "{:+.0f}", "ci_high": "{:+.0f}"},
            "labels": {"value": "Segment or channel", "n": "Responses", "ci_low": "95% low", "ci_high": "95% high",
                       "small_sample": "Under 30 responses"}}
    return Section(f"NPS by segment and channel, last {trend_weeks} weeks", sentence, table, None, values, view=view)


def conversations_section(data, *, as_of, trend_weeks: int = 13) -> Section:
    """Executive conversation cadence this week and competitor mentions over ``trend_weeks`` weeks."""
    from feedback_lib._util.stats import proportion_or_nan
    from feedback_lib.program.conversations import competitor_mention_rate, competitor_mentions, conversation_cadence
    from feedback_lib.reporting.context import trailing_weeks

    day = pd.Timestamp(parse_as_of(as_of))
    recent = trailing_weeks(data.conversations, "held_on", as_of=day, weeks=trend_weeks)
    cadence = conversation_cadence(data.conversations, as_of=day, weeks=trend_weeks)
    met = proportion_or_nan(float(cadence["met"].sum()), len(cadence), confidence=0.95)
    if len(recent) == 0:
        table = pd.DataFrame(columns=["competitor", "conversations", "share", "ci_low", "ci_high"])
        sentence = f"No executive conversations in the last {trend_weeks} weeks."
        mention = proportion_or_nan(0.0, 0, confidence=0.95)
    else:
        table = competitor_mentions(recent)[["competitor", "conversations", "share", "ci_low", "ci_high"]]
        rate = mention = competitor_mention_rate(recent)
        week = cadence.loc[cadence["week"] == day - pd.Timedelta(days=day.weekday())]
        sentence = (f"{int(week['met'].sum())} of {cadence['executive'].nunique()} executives met their conversation "
                    f"target this week; competitors came up in {rate.share:.0%} of {rate.n} conversations "
                    f"({interval_text(rate.ci_low, rate.ci_high, fmt='{:.0%}')}).")

    def rate_of(p) -> dict[str, Any]:
        return {"value": _num(p.share), "n": int(p.n), "ci_low": _num(p.ci_low), "ci_high": _num(p.ci_high)}

    values = {"cadence_met": rate_of(met), "competitor_mention_rate": rate_of(mention)}
    view = {"formats": {"share": "{:.0%}", "ci_low": "{:.0%}", "ci_high": "{:.0%}"},
            "labels": {"share": "Share of conversations", "ci_low": "95% low", "ci_high": "95% high"}}
    return Section("Executive conversations and competitors", sentence, table, None, values, view=view)


def weekly_metrics(sections: list[Section], *, period: str, as_of, segment: str = "") -> dict[str, Any]:
    """``metrics.json`` of the weekly report: identification plus every section's metrics."""
    out: dict[str, Any] = {"report": "weekly", "period": period,
                           "as_of": f"{pd.Timestamp(parse_as_of(as_of)):%Y-%m-%d}", "segment": segment}
    for section in sections:
        out.update(section.metrics())
    return out


def publish_weekly(sections: list[Section], *, period: str, as_of, segment: str, output_dir) -> dict[str, Any]:
    """Write ``metrics.json`` (validated against ``schemas/weekly.metrics.schema.json``), the
    callback queue and every section attachment as spreadsheet-safe CSVs; return the metrics.

    Raises
    ------
    ReportError
        The assembled metrics break the schema.
    """
    from pathlib import Path

    from feedback_lib.reporting.export import read_metrics, write_metrics
    from feedback_lib.reporting.metrics_schema import validate_metrics
    from feedback_lib.reporting.safety import safe_csv

    folder = Path(output_dir)
    for section in sections:
        if section.title == "Callback queue":
            safe_csv(section.table, folder / "callback_queue.csv")
        for name, table in section.attachments.items():
            safe_csv(table, folder / f"{name}.csv")
    path = write_metrics(weekly_metrics(sections, period=period, as_of=as_of, segment=segment), folder)
    metrics = read_metrics(path)
    validate_metrics("weekly", metrics)
    return metrics


def show(section: Section, *, max_rows: int | None = 20) -> None:
    """Display a section in a notebook: its sentence, its figure and its table (escaped; a table
    is shown only when it has rows and the view lists columns)."""
    from IPython.display import display

    from feedback_lib.reporting.display import narrate, safe_table

    display(narrate("{sentence}", sentence=section.sentence))
    if section.figure is not None:
        display(section.figure)
    columns = section.view.get("columns", list(section.table.columns))
    if len(section.table) and columns:
        display(safe_table(section.table[columns], formats=section.view.get("formats"),
                           labels=section.view.get("labels"), max_rows=max_rows))


def weekly_summary(sections: list[Section]) -> str:
    """The summary paragraph: the sentences of the NPS, callback, problem, loop and at-risk
    sections, in that order (those present)."""
    order = ("NPS this week", "Callback queue", "Top problems this week", "Did last week's callbacks happen?",
             "Accounts that entered the at-risk list")
    by_title = {s.title: s.sentence for s in sections}
    return " ".join(by_title[t] for t in order if t in by_title)
