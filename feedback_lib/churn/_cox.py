"""Helpers shared by the Cox models (``model`` and ``timevarying``): covariate labels, seeded
sampling by segment, the event-count check, the hazard-ratio and proportional-hazards tables and
the forest plot.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from feedback_lib.churn.features import _slug
from feedback_lib.errors import (
    InsufficientDataError,
    SmallSampleWarning,
)

__all__ = ["covariate_label"]


def _sample(cov, duration, event, *, max_rows, seed):
    if max_rows is None or len(cov) <= max_rows:
        return cov.reset_index(drop=True), duration, event, 1.0
    codes = np.arange(len(cov))
    keep, frac = _sample_accounts(codes, pd.factorize(cov["segment"])[0], max_n=max_rows, seed=seed)
    return cov.loc[keep].reset_index(drop=True), duration[keep], event[keep], frac


def _sample_accounts(codes: np.ndarray, segment: np.ndarray, *, max_n: int | None, seed: int):
    """Row mask keeping a seeded sample of accounts, the same share of every segment."""
    uniq, first = np.unique(codes, return_index=True)
    if max_n is None or len(uniq) <= max_n:
        return np.ones(len(codes), bool), 1.0
    frac = max_n / len(uniq)
    rng = np.random.default_rng(seed)
    u = rng.random(len(uniq))
    seg = segment[first]
    keep_acc = np.zeros(len(uniq), bool)
    for s in np.unique(seg):  # a handful of segments
        idx = np.flatnonzero(seg == s)
        take = int(round(frac * len(idx)))
        keep_acc[idx[np.argsort(u[idx])[:take]]] = True
    return keep_acc[np.searchsorted(uniq, codes)], frac


def _check_events(events: int, *, where: str) -> None:
    if events == 0:
        raise InsufficientDataError(f"{where}: no churn events in the data, so hazard ratios are not defined.")
    if events < _MIN_EVENTS:
        warnings.warn(
            f"{where}: only {events} churn events; hazard ratios need about 10 events per covariate.",
            SmallSampleWarning,
            stacklevel=3,
        )


def _hr_table(summary: pd.DataFrame, confidence: float) -> pd.DataFrame:
    lo, hi = [c for c in summary.columns if c.startswith("exp(coef) lower")][0], [
        c for c in summary.columns if c.startswith("exp(coef) upper")
    ][0]
    return pd.DataFrame(
        {
            "covariate": summary.index.to_numpy(),
            "hazard_ratio": summary["exp(coef)"].to_numpy(),
            "ci_low": summary[lo].to_numpy(),
            "ci_high": summary[hi].to_numpy(),
            "p_value": summary["p"].to_numpy(),
            "coef": summary["coef"].to_numpy(),
            "se": summary["se(coef)"].to_numpy(),
        }
    )


def _ph_table(cox, train: pd.DataFrame) -> pd.DataFrame:
    from lifelines.statistics import proportional_hazard_test

    test = proportional_hazard_test(cox, train, time_transform="rank").summary
    rows = []
    for name, r in test.iterrows():
        p = float(r["p"])
        if p >= 0.05:
            verdict = f"no evidence against proportional hazards for {name} (p={p:.2g})"
        else:
            verdict = (
                f"hazard ratio of {name} changes over time (p={p:.2g}): read it as an average "
                "over the follow-up"
            )
        rows.append((name, float(r["test_statistic"]), p, verdict))
    return pd.DataFrame(rows, columns=["covariate", "test_statistic", "p_value", "verdict"])


def _forest(table: pd.DataFrame, *, ax, title: str, segments: Sequence[str]):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    hr = table["hazard_ratio"].to_numpy()
    ax.errorbar(
        hr, y, xerr=[hr - table["ci_low"].to_numpy(), table["ci_high"].to_numpy() - hr],
        fmt="o", color="black", capsize=3,
    )
    ax.axvline(1.0, color="grey", lw=1, ls="--")
    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])  # plain ratios, not powers of ten
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_yticks(y, [covariate_label(c, segments=segments) for c in table["covariate"]])
    ax.set_xlabel("hazard ratio (log scale)")
    ax.set_title(title)
    return ax


_LABELS = {
    "nps_detractor": "Latest NPS: detractor (vs promoter)",
    "nps_passive": "Latest NPS: passive (vs promoter)",
    "nps_none": "No NPS response (vs promoter)",
    "nps_trend": "NPS trend (points, latest vs previous)",
    "tickets_90d": "Tickets, last 90 days (each)",
    "high_critical_90d": "High/critical tickets, last 90 days (each)",
    "seat_utilisation": "Seat utilisation (0 to 100%)",
    "usage_trend": "Usage trend (last 4 vs previous 4 weeks)",
    "log_mrr": "MRR (per e-fold, log scale)",
    "tenure_years": "Tenure (per year)",
    "months_since_exec_conversation": "Months since executive conversation",
    "no_exec_conversation": "Never had an executive conversation",
}


def covariate_label(name: str, *, segments: Sequence[str] | None = None) -> str:
    """Readable label of a :class:`ChurnModel` covariate, for tables and charts.

    Parameters
    ----------
    name
        Covariate name as in ``ChurnModel.summary["covariate"]``.
    segments
        The model's segments, the reference segment (the one without a dummy) first, as in
        ``ChurnModel.segments_``: ``segment_*`` dummies are then labelled with the segments'
        own names and the one they compare with. Without it the label says "the reference segment".

    Examples
    --------
    >>> covariate_label("nps_detractor")
    'Latest NPS: detractor (vs promoter)'
    >>> covariate_label("segment_mid_market", segments=["Enterprise", "Mid-Market", "SMB"])
    'Segment: Mid-Market (vs Enterprise)'
    >>> covariate_label("segment_mid_market")
    'Segment: mid market (vs the reference segment)'
    """
    if name in _LABELS:
        return _LABELS[name]
    if name.startswith("segment_"):
        names = {f"segment_{_slug(s)}": str(s) for s in segments or ()}
        if name in names:
            return f"Segment: {names[name]} (vs {list(segments or ())[0]})"
        return f"Segment: {name.removeprefix('segment_').replace('_', ' ')} (vs the reference segment)"
    return name.replace("_", " ")


_MIN_EVENTS = 20  # events below which hazard ratios are flagged as unstable
