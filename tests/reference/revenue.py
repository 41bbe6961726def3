"""Readable specifications of ``fl.monthly_revenue`` and ``fl.cohort_retention``."""

from __future__ import annotations

import pandas as pd


def monthly_revenue(subscriptions: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """The readable specification of ``fl.monthly_revenue`` (feedback_lib/revenue/mrr.py).

    For each account and each calendar month from its first start month to the month of
    ``as_of``, the month-end MRR: the sum of ``mrr`` over the account's subscriptions active on
    the month's last day (``start_date <= day < end_date``, an empty ``end_date`` still
    running), or on ``as_of`` in the month of ``as_of``. An account's rows run from its first to
    its last month with MRR > 0, gap months (MRR 0) included; sorted by account and month.
    """
    as_of = pd.Timestamp(as_of).normalize()
    rows = []
    for account_id, subs in subscriptions.groupby("account_id", sort=True):
        months, mrr = [], []
        for month in pd.period_range(subs["start_date"].min(), as_of, freq="M"):
            day = min(month.end_time.normalize(), as_of)
            active = (subs["start_date"] <= day) & (subs["end_date"].isna() | (day < subs["end_date"]))
            months.append(month.start_time)
            mrr.append(float(subs.loc[active, "mrr"].sum()))
        paid = [i for i, value in enumerate(mrr) if value > 0]
        if paid:
            rows += [(account_id, months[i], mrr[i]) for i in range(paid[0], paid[-1] + 1)]
    return pd.DataFrame({
        "account_id": pd.Series([r[0] for r in rows], dtype=subscriptions["account_id"].dtype),
        "month": pd.Series([r[1] for r in rows], dtype="datetime64[ns]"),
        "mrr": pd.Series([r[2] for r in rows], dtype="float64"),
    })


def cohort_retention(revenue: pd.DataFrame, *, as_of, freq: str = "M",
                     count_reactivated: bool = True) -> pd.DataFrame:
    """The readable specification of ``fl.cohort_retention`` (feedback_lib/revenue/cohorts.py).

    Rows after the month of ``as_of`` are ignored. An account's cohort is the period (``freq``)
    of its first paid month (MRR > 0); ``starting_mrr`` sums the cohort's MRR in each account's
    first paid month. For each cohort and each period from the cohort's own up to the period of
    ``as_of``, the snapshot month is the period's last month (the month of ``as_of`` for the
    current period); ``retained`` counts the cohort accounts paying in the snapshot month (with
    ``count_reactivated=False`` only those that paid in every month from their first paid month
    to it) and ``mrr`` sums their MRR there. ``share = retained / accounts`` and
    ``mrr_retention = mrr / starting_mrr``.
    """
    as_of_month = pd.Timestamp(as_of).to_period("M")
    last_period = as_of_month.asfreq(freq)
    # per account: its MRR by month and its first paid month
    history: dict = {}
    for account_id, rows in revenue.groupby("account_id", sort=True):
        mrr = {month.to_period("M"): value for month, value in zip(rows["month"], rows["mrr"])
               if month.to_period("M") <= as_of_month}
        paid = sorted(month for month, value in mrr.items() if value > 0)
        if paid:
            history[account_id] = (mrr, paid[0])
    cohorts: dict = {}
    for account_id, (_, first) in history.items():
        cohorts.setdefault(first.asfreq(freq), []).append(account_id)

    def pays(account_id, snapshot) -> bool:
        mrr, first = history[account_id]
        if count_reactivated:
            return mrr.get(snapshot, 0.0) > 0
        return all(mrr.get(month, 0.0) > 0 for month in pd.period_range(first, snapshot, freq="M"))

    out = []
    for cohort in sorted(cohorts):
        members = cohorts[cohort]
        starting = sum(history[a][0][history[a][1]] for a in members)
        for k in range((last_period - cohort).n + 1):
            snapshot = min((cohort + k).asfreq("M", how="end"), as_of_month)
            retained = [a for a in members if pays(a, snapshot)]
            mrr = sum(history[a][0][snapshot] for a in retained)
            out.append({"cohort": cohort.start_time, "period_index": k, "accounts": len(members),
                        "retained": len(retained), "mrr": float(mrr), "starting_mrr": float(starting),
                        "share": len(retained) / len(members), "mrr_retention": mrr / starting})
    dtypes = {"cohort": "datetime64[ns]", "period_index": "int64", "accounts": "int64", "retained": "int64",
              "mrr": "float64", "starting_mrr": "float64", "share": "float64", "mrr_retention": "float64"}
    frame = pd.DataFrame({c: pd.Series([row[c] for row in out], dtype=t) for c, t in dtypes.items()})
    frame.attrs["freq"] = freq
    return frame
