"""Readable specification of ``fl.nps_table``."""

from __future__ import annotations

import math

import pandas as pd
from scipy.stats import norm

_PANDAS_FREQ = {"W": "W-SUN", "M": "M", "Q": "Q", "Y": "Y"}  # W-SUN: weeks Monday to Sunday
_PREVIOUS = {"W": pd.DateOffset(weeks=1), "M": pd.DateOffset(months=1), "Q": pd.DateOffset(months=3),
             "Y": pd.DateOffset(years=1)}


def _interval(p: float, d: float, n_effective: float, *, z: float, method: str) -> tuple[float, float, float]:
    """``ci_low, ci_high, std_error`` (points) of the shares ``p`` (promoters) and ``d``
    (detractors): Wald, or adjusted Wald (3/4 added to promoters and to detractors, 3 to n)."""
    if method == "adjusted-wald":
        p = (p * n_effective + 0.75) / (n_effective + 3)
        d = (d * n_effective + 0.75) / (n_effective + 3)
        n_effective = n_effective + 3
    if math.isnan(n_effective):  # every weight 0
        return math.nan, math.nan, math.nan
    se = math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n_effective)
    low = min(max(100 * (p - d - z * se), -100.0), 100.0)
    high = min(max(100 * (p - d + z * se), -100.0), 100.0)
    return low, high, 100 * se


def _change(before: dict, after: dict) -> tuple[float, float]:
    """``change`` (points) and two-sided ``change_p_value`` of the two-sample Wald z test,
    ``SE = sqrt(Var1 / n1 + Var2 / n2)`` with ``Var = p + d - (p - d)^2`` of the plain shares."""
    def variance(cell):
        return cell["p"] + cell["d"] - (cell["p"] - cell["d"]) ** 2

    diff = (after["p"] - after["d"]) - (before["p"] - before["d"])
    se = math.sqrt(variance(before) / before["n_effective"] + variance(after) / after["n_effective"])
    if math.isnan(se):
        return 100 * diff, math.nan
    if se == 0:  # both samples degenerate: p = 1 for equal NPS, else 0
        return 100 * diff, 1.0 if diff == 0 else 0.0
    return 100 * diff, 2 * norm.sf(abs(diff) / se)


def nps_table(responses: pd.DataFrame, *, freq: str = "W", by=None, weight: str | None = None,
              confidence: float = 0.95, method: str = "adjusted-wald", min_n: int = 30) -> pd.DataFrame:
    """The readable specification of ``fl.nps_table`` (feedback_lib/survey/periods.py), for the
    ``wald`` and ``adjusted-wald`` methods.

    One row per period (weeks starting Monday, months, quarters, years) and group of the ``by``
    columns (a missing value is a group of its own, sorted last) that has responses, sorted by
    period then group. Promoters score 9-10, passives 7-8, detractors 0-6; each is counted, or
    its ``weight`` summed. ``n`` is their total and ``n_effective`` is ``n`` unweighted, Kish's
    ``(sum w)^2 / sum w^2`` weighted. ``nps = 100 (p - d)`` with the shares ``p`` and ``d``;
    ``ci_low, ci_high, std_error`` as in ``fl.nps``. ``change`` and ``change_p_value`` compare
    with the previous period of the same group (NaN when it had no responses), as in
    ``fl.nps_change``. ``small_sample`` is ``not n_effective >= min_n``.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    z = norm.ppf(1 - (1 - confidence) / 2)
    frame = responses.assign(_period=responses["responded_at"].dt.to_period(_PANDAS_FREQ[freq]).dt.start_time)
    groups = frame.groupby(by, dropna=False, sort=True) if by else [((), frame)]
    rows = []
    for rank, (key, group) in enumerate(groups):
        key = key if isinstance(key, tuple) else (key,)
        seen: dict = {}  # period -> its row, for the change against the previous period
        for period, cell in group.groupby("_period", sort=True):
            score = cell["score"]
            w = pd.Series(1, index=cell.index) if weight is None else cell[weight].astype(float)
            row = {"period": period, **dict(zip(by, key)), "_rank": rank, "n_responses": len(cell),
                   "promoters": w[score >= 9].sum(), "passives": w[(score >= 7) & (score <= 8)].sum(),
                   "detractors": w[score <= 6].sum()}
            n = row["promoters"] + row["passives"] + row["detractors"]
            row["n"] = n
            if weight is None:
                row["n_effective"] = float(n)
            else:
                row["n_effective"] = n**2 / (w**2).sum() if n > 0 else math.nan
            row["p"] = row["promoters"] / n if n > 0 else math.nan
            row["d"] = row["detractors"] / n if n > 0 else math.nan
            row["nps"] = 100 * (row["p"] - row["d"])
            row["ci_low"], row["ci_high"], row["std_error"] = _interval(
                row["p"], row["d"], row["n_effective"], z=z, method=method)
            previous = seen.get(period - _PREVIOUS[freq])
            row["change"], row["change_p_value"] = _change(previous, row) if previous else (math.nan, math.nan)
            row["small_sample"] = not row["n_effective"] >= min_n
            seen[period] = row
            rows.append(row)
    rows.sort(key=lambda row: (row["period"], row["_rank"]))
    count = "int64" if weight is None else "float64"
    dtypes = {"period": "datetime64[ns]", **{c: responses[c].dtype for c in by}, "n_responses": "int64",
              "n": count, "promoters": count, "passives": count, "detractors": count, "n_effective": "float64",
              "nps": "float64", "ci_low": "float64", "ci_high": "float64", "std_error": "float64",
              "change": "float64", "change_p_value": "float64", "small_sample": "bool"}
    out = pd.DataFrame({c: pd.Series([row[c] for row in rows], dtype=object).astype(t) for c, t in dtypes.items()})
    out.attrs = {"freq": freq, "confidence": confidence, "method": method, "weight": weight}
    return out
