"""The callback loop: are unhappy respondents called back, how fast, and did those called back
churn less than comparable ones who were not?
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import parse_as_of
from feedback_lib._util.stats import (
    Proportion,
    assign_band,
    band_edges,
    wilson_interval,
    z_value,
)
from feedback_lib.errors import InsufficientDataError, ParameterError
from feedback_lib.revenue.mrr import current_mrr, mrr_on
from feedback_lib.survey._inputs import score_codes
from feedback_lib.survey.score import CATEGORIES

__all__ = ["callback_loop", "callback_queue", "CallbackLoop"]


@dataclass(frozen=True)
class CallbackLoop:
    """Callback-loop results (see :func:`callback_loop`).

    Attributes
    ----------
    called_back
        Share of queue responses (score < threshold) followed by a conversation within
        ``within_days`` (Wilson interval; ``n`` = responses whose window had ended).
    median_days_to_contact
        Median days from response to the first conversation, among those called back.
    churn_called_back, churn_not_called_back
        Matched churn rates of the compared detractors (strata weighted like the called-back).
    churn_difference, ci_low, ci_high
        ``churn_called_back - churn_not_called_back`` and its normal interval.
    compared_called_back, compared_not_called_back, strata
        Responses in strata holding both groups, and the number of such strata.
    responses
        One row per queue response: ``response_id, account_id, responded_at, score,
        first_contact, days_to_contact, called_back``, and for compared detractors ``segment,
        mrr_band, quarter, churned`` (NaN where not compared).
    statement
        The result in plain words with the confounding caveat.
    """

    called_back: Proportion
    median_days_to_contact: float
    churn_called_back: float
    churn_not_called_back: float
    churn_difference: float
    ci_low: float
    ci_high: float
    compared_called_back: int
    compared_not_called_back: int
    strata: int
    responses: pd.DataFrame
    statement: str

    def to_frame(self) -> pd.DataFrame:
        """One-row summary (the interval of ``called_back`` as ``called_back_ci_low/high``)."""
        row = {k: v for k, v in asdict(self).items() if k not in ("responses", "called_back", "statement")}
        p = self.called_back
        row = {"called_back": p.share, "called_back_ci_low": p.ci_low, "called_back_ci_high": p.ci_high,
               "queue_responses": p.n, **row}
        return pd.DataFrame([row])


def _first_contact(queue: pd.DataFrame, conversations: pd.DataFrame) -> pd.Series:
    """Date of the first conversation with the account on or after the response date."""
    probe = queue[["account_id", "responded_at"]].astype({"account_id": object}).reset_index()
    probe = probe.sort_values("responded_at")
    held = pd.DataFrame({"account_id": conversations["account_id"].astype(object),
                         "first_contact": conversations["held_on"]}).dropna().sort_values("first_contact")
    found = pd.merge_asof(probe, held, left_on="responded_at", right_on="first_contact",
                          by="account_id", direction="forward")
    return found.set_index("index")["first_contact"].reindex(queue.index)


def callback_loop(
    responses: pd.DataFrame,
    conversations: pd.DataFrame,
    *,
    accounts: pd.DataFrame,
    subscriptions: pd.DataFrame,
    as_of,
    threshold: int = 9,
    within_days: int = 14,
    detractor_max: int = 6,
    churn_days: int = 180,
    bands: int = 4,
    confidence: float = 0.95,
) -> CallbackLoop:
    """Measure the callback loop and compare churn of called-back detractors with matched ones.

    Parameters
    ----------
    responses
        The responses table (``fl.callback_queue`` selects the queue: ``score < threshold``).
    conversations
        ``account_id, held_on``: any conversation with the account counts as the callback.
    accounts
        The accounts table (``segment`` is matched on).
    subscriptions
        The subscriptions table (for MRR bands and churn).
    as_of
        Last day of data: only responses whose follow-up (``within_days``) or churn window
        (``churn_days``) ended by then are counted in the respective part.
    threshold
        Responses with ``score < threshold`` enter the callback queue (9 = detractors and
        passives, as in ``fl.callback_queue``).
    within_days
        A conversation within this many days of the response (same day included) is a callback.
    detractor_max
        Highest score of the detractors compared for churn (6 = NPS detractors).
    churn_days
        Churn = the account pays on ``responded_at + within_days`` but not on
        ``responded_at + churn_days``. Starting after the callback window avoids crediting the
        callback with accounts that were gone before anybody could call.
    bands
        Number of MRR bands for matching (equal-count bands of the compared responses' MRR).

    Returns
    -------
    CallbackLoop

    Notes
    -----
    Matching is exact on segment, MRR band on the response date and calendar quarter of the
    response. In each stratum s holding both groups, churn rates p1_s (called back) and p0_s are
    compared; the difference is sum_s w_s (p1_s - p0_s) with w_s = n1_s / sum n1_s (the effect on
    the called-back, ATT), variance sum_s w_s^2 (p1_s(1-p1_s)/n1_s + p0_s(1-p0_s)/n0_s) and a
    normal interval. Responses, not accounts, are the unit. This adjusts only for what is matched;
    who gets called back is chosen by people, so the difference is an association, not an effect.

    Examples
    --------
    >>> accts = pd.DataFrame({"account_id": ["a", "b"], "name": ["A", "B"], "segment": "SMB",
    ...     "owner": "CEO", "csm": "Li"})
    >>> subs = pd.DataFrame({"account_id": ["a", "b"], "mrr": [100.0, 100.0],
    ...     "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.to_datetime([None, "2025-05-01"])})
    >>> resp = pd.DataFrame({"response_id": ["r1", "r2"], "account_id": ["a", "b"], "respondent": "c",
    ...     "responded_at": pd.to_datetime(["2025-02-03", "2025-02-10"]), "score": [3, 5],
    ...     "comment": "", "channel": "email"})
    >>> conv = pd.DataFrame({"account_id": ["a"], "held_on": pd.to_datetime(["2025-02-07"])})
    >>> loop = callback_loop(resp, conv, accounts=accts, subscriptions=subs, as_of="2025-12-31")
    >>> loop.called_back.share, loop.median_days_to_contact, loop.churn_difference
    (0.5, 4.0, -1.0)

    (a was called back after 4 days and stayed; b was not and churned on 2025-05-01.)
    """
    require_columns(responses, ["response_id", "account_id", "responded_at", "score"], table="responses",
                    where="callback_loop")
    require_columns(conversations, ["account_id", "held_on"], table="conversations", where="callback_loop")
    require_columns(accounts, ["account_id", "segment"], table="accounts", where="callback_loop")
    as_of = parse_as_of(as_of)
    within, horizon = pd.Timedelta(days=within_days), pd.Timedelta(days=churn_days)
    last_day = as_of - within  # responses after it have no complete follow-up window yet
    span = (last_day - responses["responded_at"].min()).days + 1 if len(responses) else 0
    queue = pd.DataFrame(columns=["response_id", "account_id", "responded_at", "score"])
    if span >= 1:
        queue = callback_queue(responses, accounts=accounts, subscriptions=subscriptions, as_of=last_day,
                               window_days=int(span), threshold=threshold)
    if len(queue) == 0:
        raise InsufficientDataError(
            f"callback_loop: no response with score < {threshold} has a complete {within_days}-day "
            f"follow-up window by {as_of.date()}; check threshold, as_of and the responses table"
        )
    queue = queue[["response_id", "account_id", "responded_at", "score"]].astype(
        {"account_id": object, "score": float}).sort_values(["responded_at", "response_id"], ignore_index=True)
    queue["first_contact"] = _first_contact(queue, conversations)
    queue["days_to_contact"] = (queue["first_contact"] - queue["responded_at"]).dt.days.astype(float)
    queue["called_back"] = queue["days_to_contact"] <= within_days
    called = wilson_interval(float(queue["called_back"].sum()), len(queue), confidence=confidence)
    median_days = float(queue.loc[queue["called_back"], "days_to_contact"].median())

    # churn comparison among detractors whose churn window has ended and who outlived the callback window
    segment = accounts.set_index(accounts["account_id"].astype(object))["segment"].astype(object)
    cmp = queue.loc[(queue["score"] <= detractor_max) & (queue["responded_at"] + horizon <= as_of)].copy()
    cmp["mrr"] = mrr_on(subscriptions, cmp["account_id"], cmp["responded_at"])
    alive = mrr_on(subscriptions, cmp["account_id"], cmp["responded_at"] + within) > 0
    cmp = cmp.loc[(cmp["mrr"] > 0) & alive].copy()
    cmp["churned"] = mrr_on(subscriptions, cmp["account_id"], cmp["responded_at"] + horizon) == 0
    cmp["segment"] = cmp["account_id"].map(segment)
    cmp["mrr_band"] = assign_band(cmp["mrr"], band_edges(cmp["mrr"], bands=bands))
    cmp["quarter"] = cmp["responded_at"].dt.to_period("Q").astype(str)
    cells = cmp.groupby(["segment", "mrr_band", "quarter", "called_back"])["churned"].agg(["size", "mean"])
    cells = cells.unstack("called_back").reindex(
        columns=pd.MultiIndex.from_product([["size", "mean"], [False, True]]))
    both = cells.dropna()
    if len(both) == 0:
        p1 = p0 = diff = low = high = math.nan
        n1 = n0 = strata = 0
    else:
        n1, m1 = both[("size", True)], both[("mean", True)]
        n0, m0 = both[("size", False)], both[("mean", False)]
        w = n1 / n1.sum()
        p1, p0 = float((w * m1).sum()), float((w * m0).sum())
        diff = p1 - p0
        se = math.sqrt(float((w**2 * (m1 * (1 - m1) / n1 + m0 * (1 - m0) / n0)).sum()))
        z = z_value(confidence)
        low, high = diff - z * se, diff + z * se
        n1, n0, strata = int(n1.sum()), int(n0.sum()), len(both)
    queue = queue.join(cmp[["segment", "mrr_band", "quarter", "churned"]])
    statement = (
        f"{called.share:.0%} of {called.n} responses scoring below {threshold} were followed by a conversation "
        f"within {within_days} days (median {median_days:.0f} days to contact). Among comparable detractors "
        f"(same segment, MRR band and quarter; {strata} strata, {n1} called back, {n0} not), "
        f"{p1:.1%} of those called back churned within {churn_days} days against {p0:.1%} of those not "
        f"called back: a difference of {100 * diff:+.1f} points ({100 * low:+.1f} to {100 * high:+.1f}, "
        f"{confidence:.0%}). Caveat: this is a comparison, not an experiment. Whom to call back is chosen "
        f"by people who may favour accounts they expect to save (or to lose), so the difference can be "
        f"confounded by anything not matched here (usage, relationships, the comment itself). Only a "
        f"randomised callback test shows the effect of calling."
    )
    return CallbackLoop(
        called_back=called, median_days_to_contact=median_days, churn_called_back=p1,
        churn_not_called_back=p0, churn_difference=diff, ci_low=low, ci_high=high,
        compared_called_back=n1, compared_not_called_back=n0, strata=strata, responses=queue,
        statement=statement,
    )


QUEUE_COLUMNS = ["rank", "response_id", "account_id", "name", "segment", "owner", "csm",
                 "respondent", "score", "category", "mrr", "comment", "channel", "responded_at",
                 "days_since_response", "last_conversation_on", "last_conversation_by"]


def _of_accounts(frame: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    return frame.loc[frame["account_id"].isin(ids)]


def last_conversations(conversations: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """Date and executive of each account's last conversation held on or before ``as_of``.

    Ties on the same day go to the highest ``conversation_id``.
    """
    held = conversations.loc[conversations["held_on"] <= as_of]
    last = held.sort_values(["held_on", "conversation_id"]).drop_duplicates("account_id", keep="last")
    return last.set_index("account_id")[["held_on", "executive"]].rename(
        columns={"held_on": "last_conversation_on", "executive": "last_conversation_by"})


def callback_queue(responses: pd.DataFrame, *, accounts: pd.DataFrame,
                   subscriptions: pd.DataFrame, conversations: pd.DataFrame | None = None,
                   as_of, window_days: int = 7, threshold: int = 9) -> pd.DataFrame:
    """Responses scoring below ``threshold`` in the last ``window_days``, largest MRR first.

    Parameters
    ----------
    responses, accounts, subscriptions, conversations
        Canonical tables. ``conversations`` is optional (the last-conversation columns are then
        empty).
    as_of
        Last day included (anything ``pd.Timestamp`` accepts).
    window_days
        Responses with ``as_of - window_days < responded_at <= as_of`` are queued.
    threshold
        Scores strictly below it are queued: 9 (default) = detractors and passives, the usual
        call-back rule; 7 = detractors only.

    Returns
    -------
    DataFrame
        One row per queued response: ``rank`` (1 = most MRR at stake), ``response_id``,
        ``account_id``, ``name``, ``segment``, ``owner``, ``csm``, ``respondent``, ``score``,
        ``category`` (detractor/passive), ``mrr`` (the account's MRR on ``as_of``, 0 when it has
        no active subscription), ``comment`` (verbatim), ``channel``, ``responded_at``,
        ``days_since_response``, ``last_conversation_on`` and ``last_conversation_by`` (the last
        conversation on or before ``as_of``, NaT/NA when none). Sorted by MRR descending, then
        score ascending, then oldest response first. Nothing is masked, but ``contact_email`` is
        never included.

    Notes
    -----
    The call-back cohort (score < 9) is deliberately not an NPS category: it adds passives to
    detractors because a 7 or 8 is still a customer one good conversation can win back.

    Examples
    --------
    >>> day = pd.Timestamp("2025-06-06")
    >>> responses = pd.DataFrame({"response_id": ["R1", "R2", "R3"], "account_id": ["A1", "A2", "A2"],
    ...     "respondent": ["c1", "c2", "c3"], "responded_at": [day, day, day], "score": [3, 8, 10],
    ...     "comment": ["slow", "ok", "great"], "channel": ["email"] * 3})
    >>> accounts = pd.DataFrame({"account_id": ["A1", "A2"], "name": ["Acme", "Globex"],
    ...     "segment": ["SMB", "Enterprise"], "owner": ["Ann", "Bo"], "csm": ["Cy", "Di"]})
    >>> subscriptions = pd.DataFrame({"account_id": ["A1", "A2"], "start_date": [day, day],
    ...     "end_date": [pd.NaT, pd.NaT], "mrr": [100.0, 900.0]})
    >>> callback_queue(responses, accounts=accounts, subscriptions=subscriptions,
    ...                as_of="2025-06-07")[["rank", "response_id", "name", "category", "mrr"]]
       rank response_id    name   category    mrr
    0     1          R2  Globex    passive  900.0
    1     2          R1    Acme  detractor  100.0
    """
    as_of = pd.Timestamp(as_of)
    if not (isinstance(window_days, (int, np.integer)) and window_days >= 1):
        raise ParameterError(f"window_days must be a positive whole number of days; got {window_days!r}")
    if not 0 < threshold <= 11:
        raise ParameterError(f"threshold must be between 1 and 11 (scores below it are queued); "
                             f"got {threshold!r}")
    require_columns(responses, ["response_id", "account_id", "respondent",
                                             "responded_at", "score", "comment", "channel"], table="responses")
    require_columns(accounts, ["account_id", "name", "segment", "owner", "csm"], table="accounts")
    require_columns(subscriptions, ["account_id", "start_date", "end_date", "mrr"], table="subscriptions")
    if conversations is not None:
        require_columns(conversations, ["conversation_id", "account_id", "executive", "held_on"], table="conversations")
    codes = score_codes(responses["score"], where="responses: column 'score'", rows="rows")
    recent = ((responses["responded_at"] > as_of - pd.Timedelta(days=window_days))
              & (responses["responded_at"] <= as_of)).to_numpy()
    selected = recent & (responses["score"].to_numpy(dtype=float) < threshold)
    queue = responses.loc[selected, ["response_id", "account_id", "respondent", "responded_at",
                                     "score", "comment", "channel"]].copy()
    queue["category"] = pd.Categorical.from_codes(codes[selected], categories=list(CATEGORIES))
    queue["days_since_response"] = (as_of - queue["responded_at"]).dt.days.astype("int64")
    ids = queue["account_id"].unique()  # the queue is small: look up only its accounts
    mrr = current_mrr(_of_accounts(subscriptions, ids), as_of=as_of, func="callback_queue")
    queue["mrr"] = queue["account_id"].map(mrr).fillna(0.0).astype(float)
    profile = _of_accounts(accounts, ids).drop_duplicates("account_id").set_index("account_id")[
        ["name", "segment", "owner", "csm"]]
    queue = queue.join(profile, on="account_id")
    if conversations is None:
        queue["last_conversation_on"] = pd.Series(pd.NaT, index=queue.index, dtype="datetime64[ns]")
        queue["last_conversation_by"] = pd.Series(pd.NA, index=queue.index, dtype="string")
    else:
        last = last_conversations(_of_accounts(conversations, ids), as_of=as_of)
        queue = queue.join(last, on="account_id")
    queue = queue.sort_values(["mrr", "score", "responded_at", "response_id"],
                              ascending=[False, True, True, True], kind="stable")
    queue["rank"] = np.arange(1, len(queue) + 1)
    return queue[QUEUE_COLUMNS].reset_index(drop=True)
