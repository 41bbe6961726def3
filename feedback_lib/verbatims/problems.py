"""Problems, not topics: themes raised in negative statements, this week and over a quarter.

:func:`problem_themes` tags the themes of the negative statements only (see
:mod:`feedback_lib.verbatims.polarity`); :func:`persistent_problems` ranks them over the last 13
weeks by the accounts and MRR behind them, says whether each is rising or falling and gives the
cumulative MRR share for a Pareto chart.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import ndtr

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import parse_as_of
from feedback_lib.revenue.mrr import current_mrr
from feedback_lib.verbatims.polarity import statement_polarity
from feedback_lib.verbatims.themes import Lexicon, tag_themes

__all__ = ["persistent_problems", "problem_themes"]

PERSISTENT_COLUMNS = ["rank", "theme", "accounts", "mrr", "mrr_share", "cumulative_mrr_share", "responses",
                      "weeks", "earlier_share", "recent_share", "p_value", "direction", "example"]


def problem_themes(responses: pd.DataFrame, *, lexicon: str | dict | Lexicon | None = None) -> pd.DataFrame:
    """Themes named in the *negative* statements of each comment (one row per response and theme).

    Parameters
    ----------
    responses
        ``response_id, comment``.
    lexicon
        Theme lexicon as in :func:`feedback_lib.tag_themes`.

    Returns
    -------
    DataFrame
        ``response_id, theme, keyword, statement`` (the first complaining statement naming it).

    Examples
    --------
    >>> r = pd.DataFrame({"response_id": ["r1", "r2"], "comment": [
    ...     "Very reliable, no downtime this year", "Great support, but the price went up again"]})
    >>> problem_themes(r)[["response_id", "theme", "statement"]]
      response_id    theme                 statement
    0          r2  pricing  the price went up again
    """
    statements = statement_polarity(responses)
    negative = statements.loc[statements["polarity"] == "negative"].reset_index(drop=True)
    tagged = tag_themes(pd.DataFrame({"response_id": negative.index.astype(str),
                                      "comment": negative["statement"]}), lexicon=lexicon)
    row = tagged["response_id"].astype(int).to_numpy()
    out = pd.DataFrame({"response_id": negative["response_id"].to_numpy()[row], "theme": tagged["theme"].to_numpy(),
                        "keyword": tagged["keyword"].to_numpy(), "statement": negative["statement"].to_numpy()[row]})
    out["response_id"] = out["response_id"].astype("string")
    return out.drop_duplicates(["response_id", "theme"], ignore_index=True)


def _trend_test(k1, n1, k0, n0) -> np.ndarray:
    """Two-sided pooled two-proportion z test, vectorised; 1.0 where nothing can be tested."""
    n1, n0 = np.float64(n1), np.float64(n0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (k1 + k0) / (n1 + n0)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        z = np.abs(k1 / n1 - k0 / n0) / se
    return np.where(np.isfinite(z), 2 * ndtr(-np.nan_to_num(z)), 1.0)


def persistent_problems(responses: pd.DataFrame, *, accounts: pd.DataFrame, subscriptions: pd.DataFrame,
                        as_of, weeks: int = 13, alpha: float = 0.05,
                        lexicon: str | dict | Lexicon | None = None, top: int | None = None) -> pd.DataFrame:
    """Problems raised over the last ``weeks`` weeks, ranked by MRR, with their direction.

    Parameters
    ----------
    responses
        ``response_id, account_id, responded_at, score, comment``.
    accounts
        ``account_id`` (only the ids are needed; kept for symmetry with ``top_problems``).
    subscriptions
        For each account's MRR on ``as_of``.
    as_of
        Last day included; the window is the ``7 * weeks`` days ending on it.
    weeks
        Length of the window; its first ``weeks // 2`` weeks are "earlier", the rest "recent".
    alpha
        Level of the rising/falling test.
    top
        Keep only the first ``top`` themes (all by default).

    Returns
    -------
    DataFrame
        ``rank, theme, accounts`` (distinct accounts complaining), ``mrr`` (their MRR on
        ``as_of``), ``mrr_share`` (of the MRR of all complaining accounts),
        ``cumulative_mrr_share`` (Pareto), ``responses``, ``weeks`` (weeks with at least one
        complaint), ``earlier_share, recent_share`` (complaints per commented response in each
        half), ``p_value``, ``direction`` ("rising", "falling" or "steady") and ``example`` (the
        complaining comment of the largest account). Empty, with these columns, when nobody
        complained.

    Notes
    -----
    Direction: the share of commented responses complaining about the theme in the recent half
    against the earlier half, pooled two-proportion z test (two-sided); "rising" or "falling"
    only when ``p < alpha``, otherwise "steady". Ranking by MRR, then accounts, follows the
    Pareto principle (Juran 1951): the few themes behind most of the MRR at stake.

    Examples
    --------
    >>> subs = pd.DataFrame({"account_id": ["a", "b"], "mrr": [100.0, 900], "start_date":
    ...     pd.Timestamp("2025-01-01"), "end_date": pd.NaT})
    >>> r = pd.DataFrame({"response_id": ["r1", "r2", "r3"], "account_id": ["a", "b", "b"],
    ...     "responded_at": pd.to_datetime(["2026-08-03", "2026-09-21", "2026-09-22"]),
    ...     "score": [3, 5, 9], "comment": ["Price is too high", "Support never answers", "Great support"]})
    >>> persistent_problems(r, accounts=subs[["account_id"]], subscriptions=subs,
    ...     as_of="2026-09-27")[["rank", "theme", "accounts", "mrr", "cumulative_mrr_share"]]
       rank    theme  accounts    mrr  cumulative_mrr_share
    0     1  support         1  900.0                   0.9
    1     2  pricing         1  100.0                   1.0
    """
    require_columns(responses, ["response_id", "account_id", "responded_at", "score", "comment"],
                    table="responses", where="persistent_problems")
    as_of = parse_as_of(as_of, where="persistent_problems")
    start = as_of - pd.Timedelta(days=7 * weeks)
    window = responses.loc[(responses["responded_at"] > start) & (responses["responded_at"] <= as_of)]
    window = window.loc[window["comment"].astype("string").fillna("").str.strip() != ""]
    problems = problem_themes(window[["response_id", "comment"]], lexicon=lexicon)
    if len(problems) == 0:
        return pd.DataFrame(columns=PERSISTENT_COLUMNS)
    rows = window[["response_id", "account_id", "responded_at", "comment"]].astype({"response_id": "string"})
    hits = problems.merge(rows, on="response_id")
    hits["mrr"] = hits["account_id"].astype(object).map(current_mrr(subscriptions, as_of=as_of,
                                                                    func="persistent_problems")).fillna(0.0)
    hits["week"] = ((as_of - hits["responded_at"]).dt.days // 7).astype(int)  # 0 = this week
    split_day = as_of - pd.Timedelta(days=7 * (weeks - weeks // 2))
    hits["recent"] = hits["responded_at"] > split_day
    recent_n = int((rows["responded_at"] > split_day).sum())
    earlier_n = len(rows) - recent_n
    per_account = hits.sort_values(["mrr", "responded_at"], ascending=[False, False]).drop_duplicates(
        ["theme", "account_id"])
    out = per_account.groupby("theme").agg(accounts=("account_id", "size"), mrr=("mrr", "sum"),
                                            example=("comment", "first"))
    counts = hits.groupby("theme").agg(responses=("response_id", "nunique"), weeks=("week", "nunique"),
                                       recent=("recent", "sum"))
    out = out.join(counts)
    earlier = out["responses"] - out["recent"]
    out["earlier_share"] = earlier / earlier_n if earlier_n else math.nan
    out["recent_share"] = out["recent"] / recent_n if recent_n else math.nan
    out["p_value"] = _trend_test(out["recent"].to_numpy(float), recent_n, earlier.to_numpy(float), earlier_n)
    up = out["recent_share"] > out["earlier_share"]
    out["direction"] = np.where(out["p_value"] >= alpha, "steady", np.where(up, "rising", "falling"))
    out = out.reset_index().sort_values(["mrr", "accounts", "theme"], ascending=[False, False, True],
                                        ignore_index=True)
    total = per_account.drop_duplicates("account_id")["mrr"].sum()
    # an account complaining about several themes counts once, under its highest-ranked theme
    rank = pd.Series(np.arange(len(out)), index=out["theme"])
    first = per_account.assign(rank=per_account["theme"].map(rank)).sort_values("rank").drop_duplicates("account_id")
    covered = first.groupby("rank")["mrr"].sum().reindex(range(len(out)), fill_value=0.0).cumsum()
    out["mrr_share"] = out["mrr"] / total if total > 0 else math.nan
    out["cumulative_mrr_share"] = covered.to_numpy() / total if total > 0 else math.nan
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out = out[PERSISTENT_COLUMNS]
    return out if top is None else out.head(top)
