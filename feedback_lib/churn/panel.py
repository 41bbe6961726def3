"""The monthly account panel for time-varying Cox models: one row per paying account and month with
the covariates as they stood at the start of the month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_lib._util.arrow import lookup
from feedback_lib._util.dates import (
    last_complete_month,
    month_of_dates,
    month_start,
    parse_as_of,
)
from feedback_lib.churn.features import _K, _slug
from feedback_lib.errors import InsufficientDataError
from feedback_lib.revenue.mrr import monthly_revenue

__all__ = ["monthly_panel"]


def monthly_panel(dataset, *, as_of) -> pd.DataFrame:
    """Monthly account panel in counting-process form for a time-varying Cox model.

    Parameters
    ----------
    dataset
        A :class:`feedback_lib.Dataset`.
    as_of
        Last day observed; only complete months (up to the last month end on or before
        ``as_of``) become rows.

    Returns
    -------
    DataFrame
        One row per account and month ``m`` at risk (the account paid at the end of ``m - 1``,
        :func:`feedback_lib.monthly_revenue`'s month-end MRR), with columns

        - ``account_id`` (categorical), ``life`` (1 = first paid spell, 2 = after the first
          reactivation, ...), ``month`` (first day of ``m``);
        - ``start``, ``stop``: months since the spell's first paid month, the row covering
          ``(start, stop]``; ``event`` = 1 when ``m`` has no revenue (churn in ``m``);
        - ``detractor`` (D: the latest NPS response dated before the first day of ``m`` has
          score <= 6; none yet -> 0), ``ticket_burst`` (B: >= 3 tickets opened in months
          ``m - 3 .. m - 1``), ``low_usage`` (U: sum of active users / sum of seats over the
          usage weeks whose Monday falls in ``m - 1`` is below 0.4; no usage week -> 0);
        - ``segment`` and one 0/1 column ``segment_<name>`` per segment;
        - ``tickets_so_far``, ``detractor_responses`` (responses scoring <= 6 so far),
          ``utilisation`` (the ratio behind U; NaN without usage), ``usage_drop`` (utilisation in
          ``m - 2`` minus in ``m - 1``; 0 when either is missing), ``mrr`` (MRR at the end of
          ``m - 1``).

    Notes
    -----
    The counting-process (start, stop] layout of Andersen & Gill (1982), as read by lifelines'
    ``CoxTimeVaryingFitter``; covariates are fixed within a month and use only records dated
    before its first day, so no row looks ahead.

    Examples
    --------
    >>> from feedback_lib.io.dataset import Dataset
    >>> ds = Dataset(
    ...     accounts=pd.DataFrame({"account_id": ["a"], "segment": ["SMB"]}),
    ...     subscriptions=pd.DataFrame({"subscription_id": ["s1"], "account_id": ["a"],
    ...         "plan": ["Pro"], "start_date": pd.to_datetime(["2024-01-10"]),
    ...         "end_date": pd.to_datetime(["2024-04-15"]), "mrr": [100.0]}),
    ...     responses=pd.DataFrame({"response_id": ["r1"], "account_id": ["a"],
    ...         "responded_at": pd.to_datetime(["2024-02-20"]), "score": [3]}))
    >>> monthly_panel(ds, as_of="2024-06-30")[["month", "start", "stop", "event", "detractor"]]
           month  start  stop  event  detractor
    0 2024-02-01      0     1      0          0
    1 2024-03-01      1     2      0          1
    2 2024-04-01      2     3      1          1
    """
    as_of = parse_as_of(as_of, where="monthly_panel")
    last_full = last_complete_month(as_of)
    revenue = monthly_revenue(dataset.subscriptions, as_of=as_of)
    paid = revenue.loc[(revenue["mrr"].to_numpy(dtype=float) > 0) & (month_of_dates(revenue["month"]) <= last_full)]
    codes, ids = pd.factorize(paid["account_id"], sort=True)
    pm = month_of_dates(paid["month"])
    order = np.lexsort((pm, codes))
    codes, pm, mrr = codes[order], pm[order], paid["mrr"].to_numpy(dtype=float)[order]
    key = codes.astype(np.int64) * _K + pm
    # spells: a new one starts where the previous paid month is not the month before
    new_spell = np.r_[True, np.diff(key) != 1]
    spell_start = pm[np.maximum.accumulate(np.where(new_spell, np.arange(len(pm)), 0))]
    first_of_acc = np.r_[True, codes[1:] != codes[:-1]]
    spell_no = np.cumsum(new_spell)
    life = spell_no - spell_no[np.maximum.accumulate(np.where(first_of_acc, np.arange(len(pm)), 0))] + 1
    # one row per paid month whose next month is observed: the next month is the month at risk
    keep = pm + 1 <= last_full
    nxt_paid = np.r_[key[1:] == key[:-1] + 1, False]
    c, m = codes[keep], pm[keep] + 1
    panel = pd.DataFrame(
        {
            "account_id": pd.Categorical.from_codes(c, categories=pd.Index(ids, dtype="string")),
            "life": life[keep].astype(np.int16),
            "month": month_start(m),
            "start": (m - 1 - spell_start[keep]).astype(np.int32),
            "stop": (m - spell_start[keep]).astype(np.int32),
            "event": (~nxt_paid[keep]).astype(np.int8),
        }
    )
    if len(panel) == 0:
        raise InsufficientDataError(
            f"monthly_panel: no account paid in a month followed by a complete month up to "
            f"{as_of.date()}; pass a later as_of or check the subscriptions table."
        )
    code_of = pd.Index(ids)
    _panel_nps(panel, dataset.responses, code_of, c, m)
    _panel_tickets(panel, dataset.tickets, code_of, c, m)
    _panel_usage(panel, dataset.usage, code_of, c, m)
    seg = dataset.accounts.set_index("account_id")["segment"].reindex(code_of).astype("string")
    seg = seg.fillna("(unknown)").to_numpy()
    panel["segment"] = pd.Categorical(seg[c])
    for name in sorted(pd.unique(seg)):
        panel[f"segment_{_slug(name)}"] = (seg[c] == name).astype(np.int8)
    panel["mrr"] = mrr[keep]
    return panel


def _codes(frame: pd.DataFrame, ids: pd.Index) -> np.ndarray:
    return lookup(frame["account_id"], ids)


# ---------------------------------------------------------------- panel pieces
def _sorted_keys(frame: pd.DataFrame, code_of: pd.Index, date_col: str, extra_sort: list[str]):
    """Rows of ``frame`` for accounts in ``code_of``, sorted, with their ``code * K + month`` keys."""
    code = _codes(frame, code_of)
    f = frame.assign(_code=code).loc[code >= 0].sort_values(["_code", date_col, *extra_sort], kind="stable")
    keys = f["_code"].to_numpy(np.int64) * _K + month_of_dates(f[date_col])
    return f, keys


def _panel_nps(panel, responses, code_of, c, m) -> None:
    r, keys = _sorted_keys(responses, code_of, "responded_at", ["response_id"])
    det = (r["score"].to_numpy(dtype=float) <= 6).astype(np.int64)
    q = c.astype(np.int64) * _K + (m - 1)
    pos = np.searchsorted(keys, q, side="right") - 1  # latest response dated before month m
    first = np.searchsorted(keys, c.astype(np.int64) * _K, side="left")  # account's first response
    valid = pos >= first
    panel["detractor"] = (valid & (det[np.maximum(pos, 0)] == 1) if len(det) else np.zeros(len(c), bool)).astype(np.int8)
    cum = np.r_[0, np.cumsum(det)]
    panel["detractor_responses"] = (cum[pos + 1] - cum[first]).astype(np.int32)


def _panel_tickets(panel, tickets, code_of, c, m) -> None:
    _, keys = _sorted_keys(tickets, code_of, "opened_at", [])
    base = c.astype(np.int64) * _K
    upto_prev = np.searchsorted(keys, base + m - 1, side="right")
    upto_m4 = np.searchsorted(keys, base + m - 4, side="right")
    first = np.searchsorted(keys, base, side="left")
    panel["ticket_burst"] = ((upto_prev - upto_m4) >= 3).astype(np.int8)
    panel["tickets_so_far"] = (upto_prev - first).astype(np.int32)


def _panel_usage(panel, usage, code_of, c, m) -> None:
    code = _codes(usage, code_of)
    ok = code >= 0
    keys = code[ok].astype(np.int64) * _K + month_of_dates(usage["week"].to_numpy()[ok])
    ukeys, inv = np.unique(keys, return_inverse=True)
    users = np.bincount(inv, weights=usage["active_users"].to_numpy(dtype=float)[ok], minlength=len(ukeys))
    seats = np.bincount(inv, weights=usage["seats"].to_numpy(dtype=float)[ok], minlength=len(ukeys))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(seats > 0, users / seats, np.nan)

    def lookup(q: np.ndarray) -> np.ndarray:
        pos = np.clip(np.searchsorted(ukeys, q), 0, max(len(ukeys) - 1, 0))
        hit = (ukeys[pos] == q) if len(ukeys) else np.zeros(len(q), bool)
        return np.where(hit, ratio[pos] if len(ukeys) else np.nan, np.nan)

    base = c.astype(np.int64) * _K
    last = lookup(base + m - 1)
    before = lookup(base + m - 2)
    panel["low_usage"] = (last < 0.4).astype(np.int8)  # NaN compares False: no usage -> 0
    panel["utilisation"] = last
    panel["usage_drop"] = np.nan_to_num(before - last, nan=0.0)
