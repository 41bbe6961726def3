"""Readable specification of ``account_covariates`` (the churn covariate snapshot)."""

from __future__ import annotations

import math

import pandas as pd

from .revenue import monthly_revenue

_NPS_CATEGORIES = ["promoter", "passive", "detractor", "none"]
_DTYPES = {
    "account_id": "string[pyarrow]", "segment": "string[pyarrow]", "plan": "string[pyarrow]", "mrr": "float64",
    "mrr_band": None, "tenure_months": "int64", "nps_category": None, "nps_latest": "float64",
    "nps_trend": "float64", "nps_responses": "int64", "tickets_90d": "int64", "high_critical_90d": "int64",
    "seat_utilisation": "float64", "usage_trend": "float64", "days_since_exec_conversation": "float64",
    "exec_conversation": "bool",
}


def _band_labels(edges: tuple[float, ...]) -> list[str]:
    """``<250``, ``250-1,000``, ``1,000-5,000``, ``5,000+`` for the default edges."""
    labels = [f"<{edges[0]:,.0f}"]
    labels += [f"{low:,.0f}-{high:,.0f}" for low, high in zip(edges[:-1], edges[1:])]
    return labels + [f"{edges[-1]:,.0f}+"]


def _ratio(users: float, seats: float) -> float:
    return users / seats if seats > 0 else math.nan


def account_covariates(dataset, *, as_of, mrr_band_edges: tuple[float, ...] = (250.0, 1000.0, 5000.0)) -> pd.DataFrame:
    """The readable specification of ``account_covariates`` (feedback_lib/churn/features.py).

    One row per account paying on ``as_of`` (its subscriptions active that day,
    ``start_date <= as_of < end_date``, with ``mrr > 0``), sorted by ``account_id``:

    - ``segment`` from the accounts table (``(unknown)`` when missing); ``plan`` of the largest
      active subscription (ties: the earliest row); ``mrr``, the sum over the active
      subscriptions; ``mrr_band``, the band ``[edge_i, edge_i+1)`` holding it;
      ``tenure_months``, months from the first paid month of ``monthly_revenue`` to the month of
      ``as_of``, both included;
    - from the responses up to ``as_of`` in ``(responded_at, response_id)`` order: the latest
      score (``nps_latest``) and its category (promoter 9-10, passive 7-8, detractor 0-6,
      ``none`` without a response), ``nps_trend`` = latest minus previous score,
      ``nps_responses``;
    - ``tickets_90d`` opened in the 90 days ending on ``as_of``, ``high_critical_90d`` of
      severity high or critical among them;
    - ``seat_utilisation`` = active users / seats summed over the usage weeks 0-27 days before
      ``as_of``, ``usage_trend`` = that minus the same ratio over the weeks 28-55 days before
      (NaN where there are no seats);
    - ``days_since_exec_conversation`` since the last conversation up to ``as_of`` (NaN when
      none) and ``exec_conversation``.
    """
    day = pd.Timestamp(as_of).normalize()
    subs, accounts = dataset.subscriptions, dataset.accounts
    active = subs[(subs["start_date"] <= day) & (subs["end_date"].isna() | (day < subs["end_date"]))
                  & (subs["mrr"] > 0)]
    revenue = monthly_revenue(subs, as_of=day)
    first_paid = revenue[revenue["mrr"] > 0].groupby("account_id")["month"].min()
    segment_of = {a: s for a, s in zip(accounts["account_id"], accounts["segment"]) if not pd.isna(s)}
    responses = dataset.responses[dataset.responses["responded_at"] <= day]
    tickets = dataset.tickets[(dataset.tickets["opened_at"] <= day)
                              & (dataset.tickets["opened_at"] > day - pd.Timedelta(days=90))]
    usage = dataset.usage.assign(age=(day - dataset.usage["week"]) / pd.Timedelta(days=1))
    conversations = dataset.conversations[dataset.conversations["held_on"] <= day]
    labels = _band_labels(tuple(float(e) for e in mrr_band_edges))
    rows = []
    for account_id in sorted(active["account_id"].unique()):
        own = active[active["account_id"] == account_id]
        mrr = float(own["mrr"].sum())
        first = first_paid[account_id]
        answers = responses[responses["account_id"] == account_id].sort_values(["responded_at", "response_id"])
        scores = answers["score"].astype(float).tolist()
        latest = scores[-1] if scores else math.nan
        category = ("none" if not scores else "promoter" if latest >= 9 else "passive" if latest >= 7
                    else "detractor")
        own_tickets = tickets[tickets["account_id"] == account_id]
        weeks = usage[usage["account_id"] == account_id]
        recent = weeks[(weeks["age"] >= 0) & (weeks["age"] < 28)]
        before = weeks[(weeks["age"] >= 28) & (weeks["age"] < 56)]
        utilisation = _ratio(recent["active_users"].sum(), recent["seats"].sum())
        held = conversations.loc[conversations["account_id"] == account_id, "held_on"]
        rows.append({
            "account_id": account_id,
            "segment": segment_of.get(account_id, "(unknown)"),
            "plan": own.loc[own["mrr"] == own["mrr"].max(), "plan"].iloc[0],
            "mrr": mrr,
            "mrr_band": labels[sum(mrr >= edge for edge in mrr_band_edges)],
            "tenure_months": (day.year - first.year) * 12 + day.month - first.month + 1,
            "nps_category": category,
            "nps_latest": latest,
            "nps_trend": latest - scores[-2] if len(scores) >= 2 else math.nan,
            "nps_responses": len(scores),
            "tickets_90d": len(own_tickets),
            "high_critical_90d": int(own_tickets["severity"].isin(["high", "critical"]).sum()),
            "seat_utilisation": utilisation,
            "usage_trend": utilisation - _ratio(before["active_users"].sum(), before["seats"].sum()),
            "days_since_exec_conversation": (day - held.max()) / pd.Timedelta(days=1) if len(held) else math.nan,
            "exec_conversation": len(held) > 0,
        })
    out = pd.DataFrame({c: pd.Series([row[c] for row in rows], dtype=object) for c in _DTYPES})
    out = out.astype({c: t for c, t in _DTYPES.items() if t is not None})
    out["mrr_band"] = pd.Categorical(out["mrr_band"], categories=labels, ordered=True)
    out["nps_category"] = pd.Categorical(out["nps_category"], categories=_NPS_CATEGORIES)
    return out
