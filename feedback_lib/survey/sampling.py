"""The weekly NPS survey sampler: whom to survey this week.

Every paying account is heard regularly, large accounts more often, nobody twice within the
no-repeat window, and enough are sent to expect the number of responses the NPS planner asks for.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import parse_as_of
from feedback_lib._util.privacy import mask_contacts
from feedback_lib.errors import ParameterError, SmallSampleWarning
from feedback_lib.revenue.mrr import current_mrr

__all__ = ["inclusion_probabilities", "survey_send_list"]


def inclusion_probabilities(weights, n: int) -> np.ndarray:
    """Inclusion probabilities proportional to ``weights`` that sum to ``n``, capped at 1.

    Units whose share would exceed 1 are taken with certainty and the rest is re-spread over the
    others (the usual iterative capping of probability-proportional-to-size designs; Sarndal,
    Swensson & Wretman 1992, *Model Assisted Survey Sampling*, section 3.6).

    Examples
    --------
    >>> inclusion_probabilities([8, 1, 1, 1, 1], 2).round(2).tolist()
    [1.0, 0.25, 0.25, 0.25, 0.25]
    """
    w = np.asarray(weights, dtype=float)
    if n > len(w):
        raise ParameterError(f"cannot select {n} units from {len(w)}")
    if np.any(w <= 0):
        raise ParameterError("inclusion_probabilities: weights must be positive")
    certain = np.zeros(len(w), dtype=bool)
    while True:  # at most n rounds: each round fixes at least one more certainty unit
        rest = n - certain.sum()
        p = np.where(certain, 1.0, rest * w / w[~certain].sum() if rest > 0 else 0.0)
        over = (p > 1) & ~certain
        if not over.any():
            return np.minimum(p, 1.0)
        certain |= over


def _systematic_pps(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Systematic sampling with inclusion probabilities ``p`` (sum n): exactly n units, unit i
    selected with probability p_i. Units are put in random order first (Madow 1949)."""
    order = rng.permutation(len(p))
    cum = np.cumsum(p[order])
    start = rng.random()
    hits = np.floor(cum - start) - np.floor(np.concatenate([[0.0], cum[:-1]]) - start)
    chosen = np.zeros(len(p), dtype=bool)
    chosen[order[hits > 0]] = True
    return chosen


def survey_send_list(
    accounts: pd.DataFrame,
    subscriptions: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    as_of,
    target_responses: int,
    response_rate: float,
    no_repeat_days: int = 90,
    seed: int,
    sent: pd.DataFrame | None = None,
    mrr_power: float = 0.5,
    max_staleness: float = 3.0,
) -> pd.DataFrame:
    """This week's survey send list: one contact per selected account.

    Parameters
    ----------
    accounts
        ``account_id, name, segment`` and optionally ``contact_email`` (only ever returned
        masked).
    subscriptions
        The subscriptions table; only accounts paying on ``as_of`` are surveyed.
    responses
        ``account_id, responded_at``: the last answer per account starts its no-repeat window.
    as_of
        The send date.
    target_responses
        Responses wanted (e.g. from ``fl.nps_sample_size``).
    response_rate
        Expected share of surveyed contacts who answer (``truth["response_rate"]`` in the demo).
    no_repeat_days
        Nobody is surveyed again within this many days of their last answer (or last send).
    seed
        Seed of the draw.
    sent
        Optional send history ``account_id, sent_at``; a send also starts the no-repeat window.
    mrr_power
        Size effect: weight grows with ``mrr ** mrr_power`` (0 = all equal, 1 = proportional).
    max_staleness
        Cap of the staleness factor (never-heard accounts get the cap).

    Returns
    -------
    DataFrame
        ``account_id, name, segment, mrr, contact`` (masked e-mail, e.g. ``c***@example.com``),
        ``last_heard, days_since_heard, selection_probability, reason``; largest MRR first.
        ``len(result) * response_rate >= target_responses`` unless too few accounts are eligible
        (then everybody eligible is listed and a ``SmallSampleWarning`` says so).

    Notes
    -----
    n = ceil(target_responses / response_rate) accounts are drawn from the eligible ones (paying,
    not heard within ``no_repeat_days``) with probability proportional to the weight
    mrr ** mrr_power * min(days_since_heard / no_repeat_days, max_staleness) (never heard:
    ``max_staleness``), capped at 1 (certainty for the largest), by systematic PPS sampling in
    random order, which selects exactly n accounts and each with its stated probability. Rising
    staleness means nobody waits for ever; the MRR term means large accounts are heard more often.

    Examples
    --------
    >>> accts = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "name": list("ABCD"),
    ...     "segment": "SMB", "contact_email": ["ann@x.example", "bo@y.example", None, "d@z.example"]})
    >>> subs = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "mrr": [100.0, 100, 400, 100],
    ...     "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT})
    >>> resp = pd.DataFrame({"account_id": ["a"], "responded_at": pd.to_datetime(["2026-03-01"])})
    >>> out = survey_send_list(accts, subs, resp, as_of="2026-03-31", target_responses=1,
    ...     response_rate=0.5, seed=1)
    >>> len(out), "a" in set(out["account_id"])
    (2, False)
    """
    for frame, table, cols in (
        (accounts, "accounts", ["account_id", "name", "segment"]),
        (responses, "responses", ["account_id", "responded_at"]),
    ):
        require_columns(frame, cols, table=table, where="survey_send_list")
    if not 0 < response_rate <= 1:
        raise ParameterError(f"survey_send_list: response_rate must lie in (0, 1], got {response_rate!r}")
    if target_responses < 1:
        raise ParameterError(f"survey_send_list: target_responses must be >= 1, got {target_responses!r}")
    as_of = parse_as_of(as_of)
    mrr = current_mrr(subscriptions, as_of=as_of, func="survey_send_list")
    heard = responses.loc[responses["responded_at"] <= as_of, ["account_id", "responded_at"]]
    heard = heard.set_axis(["account_id", "date"], axis=1)
    if sent is not None:
        require_columns(sent, ["account_id", "sent_at"], table="sent", where="survey_send_list")
        past = sent.loc[sent["sent_at"] <= as_of, ["account_id", "sent_at"]].set_axis(["account_id", "date"], axis=1)
        heard = pd.concat([heard, past], ignore_index=True)
    last = heard.groupby(heard["account_id"].astype(object))["date"].max()
    info = accounts.set_index(accounts["account_id"].astype(object))
    pool = mrr.reset_index()
    pool = pool.join(info[["name", "segment"]], on="account_id")
    emails = info["contact_email"] if "contact_email" in info.columns else pd.Series(pd.NA, index=info.index)
    pool["contact"] = mask_contacts(pool["account_id"].map(emails)).to_numpy()
    pool["last_heard"] = pool["account_id"].map(last).astype("datetime64[ns]")
    pool["days_since_heard"] = (as_of - pool["last_heard"]).dt.days.astype(float)
    pool = pool.loc[~(pool["days_since_heard"] <= no_repeat_days)].reset_index(drop=True)
    wanted = math.ceil(target_responses / response_rate)
    if len(pool) < wanted:
        warnings.warn(
            f"survey_send_list: {len(pool)} accounts are eligible on {as_of.date()} (paying, not heard "
            f"for {no_repeat_days} days) but {wanted} sends are needed to expect {target_responses} "
            f"responses at a {response_rate:.0%} response rate; listing all of them (expected "
            f"{len(pool) * response_rate:.0f}). Shorten no_repeat_days or accept a wider interval.",
            SmallSampleWarning, stacklevel=2,
        )
        wanted = len(pool)
    staleness = (pool["days_since_heard"] / no_repeat_days).clip(upper=max_staleness).fillna(max_staleness)
    weight = pool["mrr"] ** mrr_power * staleness
    if len(pool) == 0:
        pool["selection_probability"] = pd.Series(dtype=float)
    else:
        pool["selection_probability"] = inclusion_probabilities(weight.to_numpy(), wanted)
    chosen = _systematic_pps(pool["selection_probability"].to_numpy(), np.random.default_rng(seed))
    out = pool.loc[chosen].copy()
    days = out["days_since_heard"].astype("Int64").astype("string")
    out["reason"] = np.select(
        [out["selection_probability"] >= 1, out["last_heard"].isna()],
        ["large account: always included", "never surveyed"],
        default=("not heard for " + days + " days").to_numpy(dtype=object),
    )
    out = out.sort_values(["mrr", "account_id"], ascending=[False, True], ignore_index=True)
    return out[["account_id", "name", "segment", "mrr", "contact", "last_heard", "days_since_heard",
                "selection_probability", "reason"]]
