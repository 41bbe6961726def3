"""What the verbatims say over time: theme trends with a test for rising themes, and the weekly
"few problems that matter most" ranked by the accounts and MRR behind them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import check_freq, parse_as_of
from feedback_lib.errors import InsufficientDataError
from feedback_lib.revenue.mrr import current_mrr
from feedback_lib.verbatims.problems import problem_themes
from feedback_lib.verbatims.themes import Lexicon, normalize_text

__all__ = ["theme_trends", "ThemeTrends", "top_problems"]


@dataclass(frozen=True)
class ThemeTrends:
    """Theme counts by period and the rising-theme test (see :func:`theme_trends`).

    Attributes
    ----------
    counts
        ``period, theme, mentions, comments`` (commented responses in the period), ``share``.
    rising
        One row per theme: ``theme, recent_mentions, recent_comments, recent_share,
        baseline_mentions, baseline_comments, baseline_share, rate_ratio, p_value, p_adjusted``
        (Holm), ``rising`` (p_adjusted < alpha), most significant first.
    recent_periods, baseline_periods
        The periods compared (first and last of each).
    """

    counts: pd.DataFrame
    rising: pd.DataFrame
    recent_periods: tuple[pd.Timestamp, pd.Timestamp]
    baseline_periods: tuple[pd.Timestamp, pd.Timestamp]

    def to_frame(self) -> pd.DataFrame:
        """The ``rising`` table."""
        return self.rising


def theme_trends(
    tagged: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    freq: str = "W",
    as_of=None,
    recent: int = 4,
    baseline: int = 13,
    alpha: float = 0.05,
) -> ThemeTrends:
    """Theme mentions per period and a one-sided test for themes rising in the last periods.

    Parameters
    ----------
    tagged
        Output of ``fl.tag_themes`` (``response_id, theme``).
    responses
        ``response_id, responded_at, comment``.
    freq
        Period: ``"W"`` (weeks starting Monday), ``"M"`` or ``"Q"``.
    as_of
        Last day included; its period is the last one (default: the latest ``responded_at``).
    recent, baseline
        The last ``recent`` periods are compared with the ``baseline`` periods before them.
    alpha
        Level of the rising flag, after Holm's adjustment over themes.

    Returns
    -------
    ThemeTrends

    Notes
    -----
    share = mentions / commented responses. With k1 mentions in N1 recent comments and k0 in N0
    baseline comments, under equal rates k1 given k1 + k0 is Binomial(k1 + k0, N1 / (N1 + N0))
    (the conditional test for two Poisson rates; Przyborowski & Wilenski 1940). p = P(X >= k1).
    Holm (1979) adjusts for testing every theme.

    Examples
    --------
    >>> days = pd.date_range("2026-01-05", periods=17, freq="W-MON")
    >>> resp = pd.DataFrame({"response_id": [f"r{i}" for i in range(34)],
    ...     "responded_at": np.repeat(days, 2), "comment": "x"})
    >>> tagged = pd.DataFrame({"response_id": [f"r{i}" for i in range(26, 34)], "theme": "pricing"})
    >>> tr = theme_trends(tagged, resp, as_of="2026-04-30")
    >>> tr.rising[["theme", "recent_mentions", "baseline_mentions", "rising"]]
         theme  recent_mentions  baseline_mentions  rising
    0  pricing                8                  0    True
    """
    require_columns(tagged, ["response_id", "theme"], table="tagged", where="theme_trends")
    require_columns(responses, ["response_id", "responded_at", "comment"], table="responses", where="theme_trends")
    check_freq(freq, allowed="WMQ", where="theme_trends")
    commented = responses.loc[normalize_text(responses["comment"]) != "", ["response_id", "responded_at"]]
    as_of = parse_as_of(commented["responded_at"].max() if as_of is None else as_of)
    commented = commented.loc[commented["responded_at"] <= as_of]
    if len(commented) == 0:
        raise InsufficientDataError(f"theme_trends: no commented response on or before {as_of.date()}")
    period = commented["responded_at"].dt.to_period(freq).dt.start_time
    last = as_of.to_period(freq).start_time
    first = min(commented["responded_at"].min().to_period(freq), as_of.to_period(freq) - (recent + baseline - 1))
    periods = pd.period_range(start=first, end=as_of.to_period(freq), freq=freq).start_time
    comments = period.value_counts().reindex(periods, fill_value=0)
    themes = list(dict.fromkeys(tagged["theme"]))
    ids = commented["response_id"].astype("string")
    hits = tagged.assign(response_id=tagged["response_id"].astype("string")).merge(
        pd.DataFrame({"response_id": ids.to_numpy(), "period": period.to_numpy()}), on="response_id")
    hits = hits.drop_duplicates(["response_id", "theme"])
    grid = pd.MultiIndex.from_product([periods, themes], names=["period", "theme"])
    mentions = hits.groupby(["period", "theme"]).size().reindex(grid, fill_value=0)
    counts = mentions.rename("mentions").reset_index()
    counts["comments"] = comments.reindex(counts["period"]).to_numpy()
    counts["share"] = counts["mentions"] / counts["comments"].replace(0, np.nan)

    tested = periods[-(recent + baseline):]
    window = counts.loc[counts["period"] >= tested[0]]
    is_recent = (window["period"] >= tested[baseline]).rename("recent")
    agg = window.groupby(["theme", is_recent])[["mentions", "comments"]].sum().unstack("recent")
    k1, n1 = agg[("mentions", True)], agg[("comments", True)]
    k0, n0 = agg[("mentions", False)], agg[("comments", False)]
    if n1.iloc[0] == 0 or n0.iloc[0] == 0:
        raise InsufficientDataError(
            f"theme_trends: the recent ({recent}) or baseline ({baseline}) periods before {as_of.date()} "
            "hold no commented response; choose a longer freq or fewer periods"
        )
    from scipy.stats import binom  # scipy.stats and statsmodels load in ~1 s: only here
    from statsmodels.stats.multitest import multipletests

    p_value = binom.sf(k1 - 1, k1 + k0, n1 / (n1 + n0))
    rising = pd.DataFrame({
        "theme": agg.index, "recent_mentions": k1.to_numpy(), "recent_comments": n1.to_numpy(),
        "recent_share": (k1 / n1).to_numpy(), "baseline_mentions": k0.to_numpy(),
        "baseline_comments": n0.to_numpy(), "baseline_share": (k0 / n0).to_numpy(),
    })
    rising["rate_ratio"] = rising["recent_share"] / rising["baseline_share"].replace(0, np.nan)
    rising["p_value"] = np.where(k1 + k0 > 0, p_value, 1.0)
    rising["p_adjusted"] = multipletests(rising["p_value"], method="holm")[1] if len(rising) else []
    rising["rising"] = (rising["p_adjusted"] < alpha) & (rising["recent_share"] > rising["baseline_share"])
    rising = rising.sort_values(["p_value", "theme"], ignore_index=True)
    return ThemeTrends(
        counts=counts, rising=rising,
        recent_periods=(tested[baseline], last), baseline_periods=(tested[0], tested[baseline - 1]),
    )


def top_problems(
    responses: pd.DataFrame,
    *,
    accounts: pd.DataFrame,
    subscriptions: pd.DataFrame,
    as_of,
    window_days: int = 7,
    max_score: int = 10,
    tagged: pd.DataFrame | None = None,
    lexicon: str | dict | Lexicon | None = None,
    top: int = 5,
) -> pd.DataFrame:
    """The few problems that matter most this week: themes raised in complaints, ranked by the MRR
    and the number of accounts behind them.

    Parameters
    ----------
    responses
        ``response_id, account_id, responded_at, score, comment``.
    accounts
        ``account_id`` (and ``segment``: the segments affected are listed).
    subscriptions
        For each account's MRR on ``as_of``.
    as_of
        Last day included; the window is the ``window_days`` days ending on it.
    max_score
        Only responses scoring at most this count (10 = everybody: a promoter's complaint is a
        problem too; 8 = detractors and passives; 6 = detractors).
    tagged
        ``response_id, theme`` rows to rank (default: :func:`~feedback_lib.verbatims.problems.problem_themes`,
        the themes of the *negative* statements only, so "no downtime this year" is not a
        reliability problem).
    top
        Number of themes returned.

    Returns
    -------
    DataFrame
        ``rank, theme, accounts, mrr`` (sum of MRR on ``as_of`` of the distinct accounts),
        ``mrr_share`` (of the MRR of all accounts that commented in the window), ``responses,
        detractors, segments, example`` (the complaining comment of the largest account).

    Examples
    --------
    >>> accts = pd.DataFrame({"account_id": ["a", "b", "c"], "segment": ["SMB", "SMB", "Enterprise"]})
    >>> subs = pd.DataFrame({"account_id": ["a", "b", "c"], "mrr": [100.0, 200, 5000],
    ...     "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT})
    >>> resp = pd.DataFrame({"response_id": ["r1", "r2", "r3", "r4"], "account_id": ["a", "b", "c", "c"],
    ...     "responded_at": pd.Timestamp("2026-03-30"), "score": [3, 5, 8, 10],
    ...     "comment": ["Price too high", "hinta nousi", "客服响应太慢", "great support"]})
    >>> top_problems(resp, accounts=accts, subscriptions=subs, as_of="2026-03-31")[
    ...     ["rank", "theme", "accounts", "mrr", "responses"]]
       rank    theme  accounts     mrr  responses
    0     1  support         1  5000.0          1
    1     2  pricing         2   300.0          2
    """
    require_columns(responses, ["response_id", "account_id", "responded_at", "score", "comment"],
                    table="responses", where="top_problems")
    as_of = parse_as_of(as_of)
    window = responses.loc[(responses["responded_at"] > as_of - pd.Timedelta(days=window_days))
                           & (responses["responded_at"] <= as_of) & (responses["score"] <= max_score)]
    window = window.loc[normalize_text(window["comment"]) != ""]
    columns = ["rank", "theme", "accounts", "mrr", "mrr_share", "responses", "detractors", "segments", "example"]
    if tagged is None:
        tagged = problem_themes(window[["response_id", "comment"]], lexicon=lexicon)
    mrr = current_mrr(subscriptions, as_of=as_of, func="top_problems")
    rows = window[["response_id", "account_id", "score", "comment"]].astype(
        {"response_id": "string", "account_id": object})
    rows["mrr"] = rows["account_id"].map(mrr).fillna(0.0).to_numpy()
    if "segment" in accounts.columns:
        rows["segment"] = rows["account_id"].map(accounts.set_index(accounts["account_id"].astype(object))["segment"])
    else:
        rows["segment"] = pd.NA
    hits = tagged[["response_id", "theme"]].astype({"response_id": "string"}).merge(rows, on="response_id")
    if len(hits) == 0:
        return pd.DataFrame(columns=columns)
    total_mrr = rows.drop_duplicates("account_id")["mrr"].sum()
    per_account = hits.sort_values("mrr", ascending=False).drop_duplicates(["theme", "account_id"])
    out = per_account.groupby("theme").agg(
        accounts=("account_id", "size"), mrr=("mrr", "sum"), example=("comment", "first"),
        segments=("segment", lambda s: ", ".join(sorted(s.dropna().astype(str).unique()))),
    )
    out = out.join(hits.groupby("theme").agg(responses=("response_id", "nunique"),
                                             detractors=("score", lambda s: int((s <= 6).sum()))))
    out["mrr_share"] = out["mrr"] / total_mrr if total_mrr > 0 else np.nan
    out = out.reset_index().sort_values(["mrr", "accounts", "theme"], ascending=[False, False, True],
                                        ignore_index=True).head(top)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[columns]
