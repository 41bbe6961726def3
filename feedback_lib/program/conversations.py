"""The executive conversation programme: cadence, coverage of the largest accounts, accounts
nobody has spoken to, and competitor mentions.

Conversations are the "4Q" talks of the ``conversations`` table (one row per conversation). The
expansion that followed the opportunities found in them is in :mod:`feedback_lib.program.opportunities`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import parse_as_of, working_days
from feedback_lib._util.stats import Proportion, proportion_columns, wilson_interval
from feedback_lib.errors import InsufficientDataError, ParameterError
from feedback_lib.revenue.mrr import current_mrr

__all__ = ["accounts_not_spoken_to", "competitor_mention_rate", "competitor_mentions", "conversation_cadence", "coverage_of_top_accounts"]


def _competitor_long(conversations: pd.DataFrame) -> pd.DataFrame:
    """One row per (conversation row position, competitor named), each competitor once."""
    lists = conversations["competitors_mentioned"].astype(object).reset_index(drop=True)
    # a ';'-separated string (an export not loaded through fl.load_dataset) is split as well
    items = lists.explode().dropna().astype(str).str.split(";").explode().str.strip()
    items = items[items != ""]
    long = pd.DataFrame({"row": items.index.to_numpy(), "competitor": items.to_numpy()})
    return long.drop_duplicates()


def competitor_mention_rate(conversations: pd.DataFrame, *, confidence: float = 0.95) -> Proportion:
    """Share of conversations in which the customer named at least one competitor.

    Parameters
    ----------
    conversations
        The ``conversations`` table; uses ``competitors_mentioned`` (a list of names per row; an
        empty list, ``None`` or NaN means none was named).
    confidence
        Confidence level of the interval.

    Returns
    -------
    Proportion
        ``share``, ``ci_low``, ``ci_high`` (Wilson score interval), ``n`` (conversations) and
        ``successes`` (conversations naming a competitor).

    Notes
    -----
    share = #{conversations with a non-empty ``competitors_mentioned``} / #{conversations};
    interval: Wilson (1927), see :func:`feedback_lib.wilson_interval`.

    Examples
    --------
    >>> conv = pd.DataFrame({"competitors_mentioned": [["Globex"], [], ["Initech", "Globex"], []]})
    >>> p = competitor_mention_rate(conv)
    >>> p.share, p.n, round(p.ci_low, 3), round(p.ci_high, 3)
    (0.5, 4, 0.15, 0.85)
    """
    require_columns(conversations, ["competitors_mentioned"], table="conversations", where="competitor_mention_rate")
    if len(conversations) == 0:
        raise InsufficientDataError(
            "competitor_mention_rate: the conversations table is empty; a mention rate needs at "
            "least one conversation (check the date filter or the conversations export)"
        )
    mentioned = _competitor_long(conversations)["row"].nunique()
    return wilson_interval(mentioned, len(conversations), confidence=confidence)


def competitor_mentions(conversations: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Mention rate of each competitor: share of conversations naming it, with Wilson intervals.

    Returns
    -------
    DataFrame
        ``competitor, conversations`` (naming it), ``n`` (all conversations), ``share, ci_low,
        ci_high``; most mentioned first. A competitor named twice in one conversation counts once.

    Examples
    --------
    >>> conv = pd.DataFrame({"competitors_mentioned": [["Globex"], [], ["Initech", "Globex"], []]})
    >>> competitor_mentions(conv)[["competitor", "conversations", "share"]]
      competitor  conversations  share
    0     Globex              2   0.50
    1    Initech              1   0.25
    """
    rate = competitor_mention_rate(conversations, confidence=confidence)  # validates and checks n > 0
    counts = _competitor_long(conversations)["competitor"].value_counts()
    counts = counts.rename_axis("competitor").reset_index(name="conversations")
    counts = counts.sort_values(["conversations", "competitor"], ascending=[False, True], ignore_index=True)
    counts["n"] = rate.n
    return pd.concat(
        [counts, proportion_columns(counts["conversations"], counts["n"], confidence=confidence)], axis=1
    )


def conversation_cadence(
    conversations: pd.DataFrame,
    *,
    as_of,
    weeks: int = 13,
    target_per_week: float = 1.0,
    target_per_day: float | None = None,
    executives: list[str] | None = None,
) -> pd.DataFrame:
    """Conversations per executive per week against a target, for the last ``weeks`` weeks.

    Parameters
    ----------
    conversations
        ``executive, held_on``.
    as_of
        Last day included; its week (Monday to Sunday) is the last row of each executive.
    weeks
        Number of weeks shown, ending with the week of ``as_of``.
    target_per_week
        Conversations each executive should hold per week.
    target_per_day
        Alternative target per working day (``5`` = "five a day"); overrides ``target_per_week``.
    executives
        Executives to show (default: everyone in ``conversations``); one with no conversation
        gets zero rows, not missing rows.

    Returns
    -------
    DataFrame
        ``executive, week`` (Monday), ``working_days`` (Monday-Friday days of the week up to
        ``as_of``), ``conversations, target, met`` (conversations >= target), ``shortfall``.

    Notes
    -----
    The target of the week of ``as_of`` is pro-rated by the working days elapsed:
    target = target_per_week * working_days / 5, or target_per_day * working_days.

    Examples
    --------
    >>> conv = pd.DataFrame({"executive": ["CEO", "CEO", "CFO"],
    ...     "held_on": pd.to_datetime(["2026-03-02", "2026-03-04", "2026-03-10"])})
    >>> conversation_cadence(conv, as_of="2026-03-15", weeks=2)[["executive", "conversations", "met"]]
      executive  conversations    met
    0       CEO              2   True
    1       CEO              0  False
    2       CFO              0  False
    3       CFO              1   True
    """
    require_columns(conversations, ["executive", "held_on"], table="conversations", where="conversation_cadence")
    as_of = parse_as_of(as_of)
    if weeks < 1:
        raise ParameterError(f"conversation_cadence: weeks must be >= 1, got {weeks!r}")
    last_monday = as_of - pd.Timedelta(days=as_of.weekday())
    mondays = pd.DatetimeIndex([last_monday - pd.Timedelta(weeks=k) for k in range(weeks - 1, -1, -1)])
    if executives is None:
        executives = sorted(conversations["executive"].dropna().astype(str).unique())
    held = conversations.loc[(conversations["held_on"] >= mondays[0]) & (conversations["held_on"] <= as_of)]
    week = held["held_on"] - pd.to_timedelta(held["held_on"].dt.weekday, unit="D")
    counts = held.groupby([held["executive"].astype(str), week]).size()
    grid = pd.MultiIndex.from_product([executives, mondays], names=["executive", "week"])
    out = counts.reindex(grid, fill_value=0).rename("conversations").reset_index()
    days = np.full(weeks, 5)
    days[-1] = working_days(last_monday, as_of)
    out["working_days"] = np.tile(days, len(executives))
    per_day = target_per_week / 5 if target_per_day is None else target_per_day
    out["target"] = per_day * out["working_days"]
    out["met"] = out["conversations"] >= out["target"]
    out["shortfall"] = (out["target"] - out["conversations"]).clip(lower=0)
    return out[["executive", "week", "working_days", "conversations", "target", "met", "shortfall"]]


def _spoken_since(conversations: pd.DataFrame, start: pd.Timestamp, as_of: pd.Timestamp) -> pd.Index:
    held = conversations.loc[(conversations["held_on"] > start) & (conversations["held_on"] <= as_of)]
    return pd.Index(held["account_id"].astype(object).unique())


def coverage_of_top_accounts(
    conversations: pd.DataFrame,
    revenue_or_subscriptions: pd.DataFrame,
    *,
    as_of,
    weeks: int = 13,
    tops: tuple[float, ...] = (0.05, 0.20),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of the largest accounts (by MRR on ``as_of``) spoken to in the last ``weeks`` weeks.

    Parameters
    ----------
    conversations
        ``account_id, held_on``.
    revenue_or_subscriptions
        The ``subscriptions`` table, or the output of ``fl.monthly_revenue``.
    as_of
        Last day included; the window is the ``7 * weeks`` days ending on it.
    weeks
        Window length in weeks.
    tops
        Top fractions of paying accounts (rounded up to whole accounts; ties broken by
        account_id).

    Returns
    -------
    DataFrame
        One row per fraction: ``top, accounts, spoken_to, share, ci_low, ci_high`` (Wilson),
        ``mrr, mrr_spoken_to, mrr_share``.

    Examples
    --------
    >>> subs = pd.DataFrame({"subscription_id": list("123456"), "account_id": list("abcdef"),
    ...     "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT,
    ...     "mrr": [600.0, 500, 400, 300, 200, 100]})
    >>> conv = pd.DataFrame({"account_id": ["a", "c"], "held_on": pd.to_datetime(["2026-03-01"] * 2)})
    >>> cov = coverage_of_top_accounts(conv, subs, as_of="2026-03-31", tops=(0.2, 0.5))
    >>> cov[["top", "accounts", "spoken_to", "share", "mrr_share"]]
       top  accounts  spoken_to  share  mrr_share
    0  0.2         2          1    0.5   0.545455
    1  0.5         3          2    0.666667   0.666667
    """
    require_columns(conversations, ["account_id", "held_on"], table="conversations", where="coverage_of_top_accounts")
    as_of = parse_as_of(as_of)
    mrr = current_mrr(revenue_or_subscriptions, as_of=as_of, func="coverage_of_top_accounts")
    if len(mrr) == 0:
        raise InsufficientDataError(f"coverage_of_top_accounts: no account pays on {as_of.date()}; check as_of")
    ranked = mrr.reset_index().sort_values(["mrr", "account_id"], ascending=[False, True], ignore_index=True)
    ranked["spoken"] = ranked["account_id"].isin(_spoken_since(conversations, as_of - pd.Timedelta(weeks=weeks), as_of))
    ranked["mrr_spoken"] = ranked["mrr"].where(ranked["spoken"], 0.0)
    cum = ranked[["spoken", "mrr", "mrr_spoken"]].cumsum()
    rows = []
    for top in tops:
        if not 0 < top <= 1:
            raise ParameterError(f"coverage_of_top_accounts: tops must lie in (0, 1], got {top!r}")
        k = math.ceil(top * len(ranked))
        rows.append({"top": top, "accounts": k, "spoken_to": int(cum["spoken"].iloc[k - 1]),
                     "mrr": cum["mrr"].iloc[k - 1], "mrr_spoken_to": cum["mrr_spoken"].iloc[k - 1]})
    out = pd.DataFrame(rows)
    out = pd.concat([out, proportion_columns(out["spoken_to"], out["accounts"], confidence=confidence)], axis=1)
    out["mrr_share"] = out["mrr_spoken_to"] / out["mrr"]
    return out[["top", "accounts", "spoken_to", "share", "ci_low", "ci_high", "mrr", "mrr_spoken_to", "mrr_share"]]


def accounts_not_spoken_to(
    conversations: pd.DataFrame,
    revenue_or_subscriptions: pd.DataFrame,
    *,
    as_of,
    days: int = 90,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Paying accounts with no conversation in the last ``days`` days, largest MRR first.

    Returns
    -------
    DataFrame
        ``rank, account_id, mrr, last_conversation`` (NaT = never), ``days_since_conversation``
        (NaN = never), plus ``name, segment, owner, csm`` when ``accounts`` is given.

    Examples
    --------
    >>> subs = pd.DataFrame({"subscription_id": ["1", "2", "3"], "account_id": ["a", "b", "c"],
    ...     "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT, "mrr": [100.0, 300, 200]})
    >>> conv = pd.DataFrame({"account_id": ["a", "b"], "held_on": pd.to_datetime(["2026-03-01", "2025-06-01"])})
    >>> accounts_not_spoken_to(conv, subs, as_of="2026-03-31")[["rank", "account_id", "days_since_conversation"]]
       rank account_id  days_since_conversation
    0     1          b                    303.0
    1     2          c                      NaN
    """
    require_columns(conversations, ["account_id", "held_on"], table="conversations", where="accounts_not_spoken_to")
    as_of = parse_as_of(as_of)
    mrr = current_mrr(revenue_or_subscriptions, as_of=as_of, func="accounts_not_spoken_to")
    past = conversations.loc[conversations["held_on"] <= as_of]
    last = past.groupby(past["account_id"].astype(object))["held_on"].max()
    out = mrr.reset_index()
    out["last_conversation"] = out["account_id"].map(last).astype("datetime64[ns]")
    out["days_since_conversation"] = (as_of - out["last_conversation"]).dt.days.astype(float)
    out = out.loc[~(out["days_since_conversation"] < days)]
    out = out.sort_values(["mrr", "account_id"], ascending=[False, True], ignore_index=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    if accounts is not None:
        extra = [c for c in ("name", "segment", "owner", "csm") if c in accounts.columns]
        info = accounts.set_index(accounts["account_id"].astype(object))[extra]
        out = out.join(info, on="account_id")
    return out
