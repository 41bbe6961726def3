"""The call-back queue: recent unhappy respondents, ranked by the revenue at stake."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._nps_inputs import require_columns, score_codes
from .errors import ParameterError
from .nps import CATEGORIES

__all__ = ["callback_queue"]

QUEUE_COLUMNS = ["rank", "response_id", "account_id", "name", "segment", "owner", "csm",
                 "respondent", "score", "category", "mrr", "comment", "channel", "responded_at",
                 "days_since_response", "last_conversation_on", "last_conversation_by"]


def _of_accounts(frame: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    return frame.loc[frame["account_id"].isin(ids)]


def account_mrr(subscriptions: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Current MRR per account: the sum over subscriptions active on ``as_of``.

    Active means ``start_date <= as_of < end_date`` (``end_date`` exclusive, NaT = running).
    """
    active = (subscriptions["start_date"] <= as_of) & (
        subscriptions["end_date"].isna() | (subscriptions["end_date"] > as_of))
    return subscriptions.loc[active].groupby("account_id", observed=True, sort=False)["mrr"].sum()


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
    require_columns(responses, "responses", ["response_id", "account_id", "respondent",
                                             "responded_at", "score", "comment", "channel"])
    require_columns(accounts, "accounts", ["account_id", "name", "segment", "owner", "csm"])
    require_columns(subscriptions, "subscriptions", ["account_id", "start_date", "end_date", "mrr"])
    if conversations is not None:
        require_columns(conversations, "conversations",
                        ["conversation_id", "account_id", "executive", "held_on"])
    codes = score_codes(responses["score"], where="responses: column 'score'", rows="rows")
    recent = ((responses["responded_at"] > as_of - pd.Timedelta(days=window_days))
              & (responses["responded_at"] <= as_of)).to_numpy()
    selected = recent & (responses["score"].to_numpy(dtype=float) < threshold)
    queue = responses.loc[selected, ["response_id", "account_id", "respondent", "responded_at",
                                     "score", "comment", "channel"]].copy()
    queue["category"] = pd.Categorical.from_codes(codes[selected], categories=list(CATEGORIES))
    queue["days_since_response"] = (as_of - queue["responded_at"]).dt.days.astype("int64")
    ids = queue["account_id"].unique()  # the queue is small: look up only its accounts
    mrr = account_mrr(_of_accounts(subscriptions, ids), as_of=as_of)
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
