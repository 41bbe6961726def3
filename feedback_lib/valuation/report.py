"""Helpers of the retention-valuation report: the company's own numbers, headline and heatmap.

The report notebook (``notebooks/reports/retention_valuation.ipynb``) calls one of these per
section, so that it holds no business logic of its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from feedback_lib.errors import (
    ParameterError,
)
from feedback_lib.valuation.claims import ClaimCheck, _base_value
from feedback_lib.valuation.presentation import MODEL_LABELS, claim_verdict

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_claim_heatmap", "retention_value_implications", "RetentionValue", "valuation_headline"]


def _pct(x: float) -> str:
    return f"{x:.1%}" if math.isfinite(x) else "n/a"


@dataclass(frozen=True)
class RetentionValue:
    """Result of :func:`retention_value_implications`.

    Attributes
    ----------
    table
        One row per model (``perpetuity``, ``finite``) and discount rate: ``model,
        discount_rate, horizon_years, churn`` (``1 - grr``), ``expansion`` (``nrr - grr``),
        ``value_per_arr`` (value of each $1 of current ARR: a revenue multiple of the installed
        base; ``inf`` where the perpetuity diverges) and ``uplift_one_point`` (relative value
        gain from one more point of GRR).
    grr, nrr, margin, horizon_years
        Inputs.
    """

    table: pd.DataFrame = field(repr=False)
    grr: float
    nrr: float
    margin: float
    horizon_years: int

    def to_frame(self) -> pd.DataFrame:
        """The table."""
        return self.table.copy()

    def at(self, model: str, discount_rate: float) -> pd.Series:
        """The table's row for one model and discount rate."""
        t = self.table
        rows = t[(t["model"] == model) & np.isclose(t["discount_rate"], discount_rate)]
        if rows.empty:
            raise ParameterError(
                f"RetentionValue.at: no row for model {model!r} at discount rate {discount_rate!r} "
                f"(rates: {sorted(t['discount_rate'].unique())})"
            )
        return rows.iloc[0]

    def describe(self, *, discount_rate: float | None = None) -> str:
        """One sentence at ``discount_rate`` (default: the middle rate of the table)."""
        rates = sorted(self.table["discount_rate"].unique())
        d = rates[(len(rates) - 1) // 2] if discount_rate is None else discount_rate
        perp, fin = self.at("perpetuity", d), self.at("finite", d)
        forever = (f"${perp['value_per_arr']:.2f} in perpetuity" if math.isfinite(perp["value_per_arr"])
                   else "unbounded in perpetuity (NRR >= 1 + discount rate)")
        return (
            f"GRR {self.grr:.1%}, NRR {self.nrr:.1%}: at a {d:.0%} discount rate and {self.margin:.0%} "
            f"margin each $1 of ARR of today's customers is worth {forever} and "
            f"${fin['value_per_arr']:.2f} over {self.horizon_years} years; one more point of GRR adds "
            f"{_pct(perp['uplift_one_point'])} and {_pct(fin['uplift_one_point'])} respectively."
        )


def retention_value_implications(
    *,
    grr: float,
    nrr: float,
    discount_rates: Sequence[float],
    horizon_years: int = 5,
    margin: float = 0.8,
) -> RetentionValue:
    """What a company's own GRR and NRR imply for the value of its installed base.

    Parameters
    ----------
    grr, nrr
        Gross and net revenue retention over a year (ratios, 1.0 = 100%).
    discount_rates
        Yearly discount rates to show.
    horizon_years
        Horizon of the finite model.
    margin
        Gross margin.

    Returns
    -------
    RetentionValue

    Notes
    -----
    With churn ``c = 1 - GRR`` and expansion ``g = NRR - GRR`` the perpetuity is
    ``margin / (c + d - g) = margin / (1 - NRR + d)`` per $1 of ARR: only NRR matters there, and
    the value is infinite when ``NRR >= 1 + d`` (then read the finite horizon).

    Examples
    --------
    >>> rv = retention_value_implications(grr=0.90, nrr=1.00, discount_rates=[0.10])
    >>> float(rv.at("perpetuity", 0.10)["value_per_arr"])  # 0.8 / (0.10 + 0.10 - 0.10)
    8.0
    """
    if not (0 <= grr <= 1 and math.isfinite(nrr) and nrr >= 0):
        raise ParameterError(
            f"retention_value_implications: need 0 <= grr <= 1 and a finite nrr >= 0, got {grr!r}, {nrr!r} "
            "(NaN usually means the retention window has no paying accounts)"
        )
    churn, expansion = 1.0 - grr, nrr - grr
    rows = []
    for model, horizon in (("perpetuity", None), ("finite", int(horizon_years))):
        for d in discount_rates:
            value = _base_value(churn, d=d, g=expansion, margin=margin, horizon=horizon)
            better = (_base_value(churn - 0.01, d=d, g=expansion, margin=margin, horizon=horizon)
                      if churn >= 0.01 else math.nan)
            uplift = better / value - 1.0 if math.isfinite(value) and value > 0 else math.nan
            rows.append(
                {"model": model, "discount_rate": float(d), "horizon_years": horizon, "churn": churn,
                 "expansion": expansion, "value_per_arr": value, "uplift_one_point": uplift}
            )
    table = pd.DataFrame(rows)
    table["horizon_years"] = table["horizon_years"].astype("Int64")
    return RetentionValue(table=table, grr=float(grr), nrr=float(nrr), margin=float(margin),
                          horizon_years=int(horizon_years))


def _json_number(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _rate(x: Any) -> dict:
    """``{value, n, ci_low, ci_high}`` of a plain ratio (n and interval ``None``) or of a rate object."""
    if isinstance(x, (int, float)):
        return {"value": _json_number(float(x)), "n": None, "ci_low": None, "ci_high": None}
    return {"value": _json_number(x.value), "n": int(x.n), "ci_low": _json_number(x.ci_low),
            "ci_high": _json_number(x.ci_high)}


def _value(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) else float(x.value)


def valuation_headline(
    check: ClaimCheck, *, grr: Any, nrr: Any, arr_growth: float, margin: float = 0.8
) -> dict:
    """The headline numbers of the valuation report, JSON-ready (``metrics.json``).

    Parameters
    ----------
    check
        The claim, as :func:`check_valuation_claim` returns it.
    grr, nrr
        The company's 12-month gross and net revenue retention: ratios, or rate objects with
        ``value, n, ci_low, ci_high`` (as ``feedback_lib.reporting.quarterly.retention_rates``
        returns them) so that ``metrics.json`` carries their n and interval.
    arr_growth
        ARR growth over the last 12 months.
    margin
        Gross margin.

    Returns
    -------
    dict
        ``claim`` (churn_low, churn_high, claimed_uplift, criterion, tolerance),
        ``central_assumptions`` (discount_rate, growth, horizon_years), ``implied_uplift`` and
        ``holds_at_central`` (per model, at the central assumptions), ``claim_holds`` (the
        report's verdict: :func:`~feedback_lib.valuation.presentation.claim_verdict`, true only
        when every model holds), ``models_holding`` and ``verdict_sentence`` (the same in
        words), ``verdict`` (per model, over the grid),
        ``company`` (``grr``, ``nrr`` and ``revenue_churn`` = 1 - GRR as rate objects ``{value,
        n, ci_low, ci_high}``, ``arr_growth``, and per model the value of 1 unit of ARR and the
        uplift from one more point of GRR at the central discount rate). Infinite or undefined
        numbers are ``None``.

    Examples
    --------
    >>> from feedback_lib.valuation.claims import check_valuation_claim
    >>> check = check_valuation_claim(churn_low=0.05, churn_high=0.15, claimed_uplift=2.0,
    ...                               discount_rates=[0.0], growths=[0.0], horizons=[5])
    >>> valuation_headline(check, grr=0.9, nrr=1.0, arr_growth=0.2)["implied_uplift"]["perpetuity"]
    2.0
    """
    uplift = check.central_uplift()
    d = check.central_discount_rate
    implications = retention_value_implications(
        grr=_value(grr), nrr=_value(nrr), discount_rates=[d], horizon_years=check.central_horizon, margin=margin
    ).table.set_index("model")
    verdict = claim_verdict(check)
    g = _rate(grr)
    churn = {"value": None if g["value"] is None else 1.0 - g["value"], "n": g["n"],
             "ci_low": None if g["ci_high"] is None else 1.0 - g["ci_high"],
             "ci_high": None if g["ci_low"] is None else 1.0 - g["ci_low"]}
    return {
        "claim": {"churn_low": check.churn_low, "churn_high": check.churn_high,
                  "claimed_uplift": check.claimed_uplift, "criterion": check.criterion,
                  "tolerance": check.tolerance},
        "central_assumptions": {"discount_rate": d, "growth": check.central_growth,
                                "horizon_years": check.central_horizon},
        "implied_uplift": {m: _json_number(u) for m, u in uplift.items()},
        "claim_holds": verdict.claim_holds,
        "models_holding": verdict.models_holding,
        "verdict_sentence": verdict.sentence,
        "holds_at_central": verdict.holds_at_central,
        "verdict": check.verdict,
        "company": {
            "grr": _rate(grr), "nrr": _rate(nrr), "revenue_churn": churn, "arr_growth": _json_number(arr_growth),
            "value_per_arr": {m: _json_number(v) for m, v in implications["value_per_arr"].items()},
            "uplift_one_point": {m: _json_number(v) for m, v in implications["uplift_one_point"].items()},
        },
    }


def plot_claim_heatmap(
    grid: pd.DataFrame,
    *,
    model: str = "perpetuity",
    horizon_years: int | None = None,
    colorbar: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Heatmap of the implied uplift over discount rate x growth, the claim level marked.

    Parameters
    ----------
    grid
        ``ClaimCheck.grid`` (columns ``model, discount_rate, growth, horizon_years,
        implied_uplift, claimed_uplift, holds, churn_low, churn_high``).
    model
        One of the grid's models.
    horizon_years
        Which horizon to show for the horizon models; may be omitted when the grid has one.
    colorbar
        Add a colour bar (taking room from ``ax``) with a black line at the claimed uplift.
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    Axes

    Notes
    -----
    Cells are coloured on a red-to-green scale centred on the claim (green: more than claimed)
    and annotated with the uplift; a tick mark flags the cells where the claim holds. An
    infinite uplift (the perpetuity diverges) is written "unbounded" and coloured as the maximum.

    Examples
    --------
    >>> from feedback_lib.valuation.claims import check_valuation_claim
    >>> check = check_valuation_claim(churn_low=0.05, churn_high=0.15, claimed_uplift=2.0,
    ...                               discount_rates=[0.0, 0.1], growths=[0.0, 0.05], horizons=[5])
    >>> plot_claim_heatmap(check.grid, model="perpetuity").get_xlabel()
    'Discount rate (per year)'
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.ticker import PercentFormatter

    sub = grid[grid["model"] == model]
    if sub.empty:
        known = ", ".join(pd.unique(grid["model"]))
        raise ParameterError(f"plot_claim_heatmap: model {model!r} is not in the grid (models: {known})")
    horizons = sorted(int(h) for h in sub["horizon_years"].dropna().unique())
    if horizons:
        if horizon_years is None and len(horizons) > 1:
            raise ParameterError(f"plot_claim_heatmap: pick horizon_years, one of {horizons}")
        horizon_years = horizons[0] if horizon_years is None else int(horizon_years)
        if horizon_years not in horizons:
            raise ParameterError(f"plot_claim_heatmap: horizon_years {horizon_years} not in {horizons}")
        sub = sub[sub["horizon_years"] == horizon_years]
    values = sub.pivot(index="growth", columns="discount_rate", values="implied_uplift").sort_index()
    holds = sub.pivot(index="growth", columns="discount_rate", values="holds").loc[values.index, values.columns]
    claimed = float(sub["claimed_uplift"].iloc[0])
    raw = values.to_numpy(float)
    finite = raw[np.isfinite(raw)]
    hi = max(finite.max() if finite.size else claimed, claimed) * 1.05 + 1e-6
    lo = min(finite.min() if finite.size else claimed, claimed) * 0.95 - 1e-6
    shown = np.where(np.isposinf(raw), hi, raw)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * raw.shape[1] + 3, 0.7 * raw.shape[0] + 2))
    norm = TwoSlopeNorm(vmin=lo, vcenter=claimed, vmax=hi)
    image = ax.imshow(shown, cmap="RdYlGn", norm=norm, aspect="auto", origin="lower")
    for (i, j), v in np.ndenumerate(raw):
        label = "unbounded" if np.isposinf(v) else ("n/a" if np.isnan(v) else f"{v:.0%}")
        mark = bool(holds.iat[i, j])
        dark = np.isfinite(shown[i, j]) and not 0.2 <= norm(shown[i, j]) <= 0.8
        ax.text(j, i, label + (" \u2713" if mark else ""), ha="center", va="center", fontsize=10,
                fontweight="bold" if mark else "normal", color="white" if dark else "black")
    ax.set_xticks(range(raw.shape[1]), [f"{d:.0%}" for d in values.columns])
    ax.set_yticks(range(raw.shape[0]), [f"{g:.0%}" for g in values.index])
    ax.set_xlabel("Discount rate (per year)")
    ax.set_ylabel("Expansion (per year)")
    first = sub.iloc[0]
    horizon = f", {horizon_years} years" if horizons else ""
    ax.set_title(
        f"{MODEL_LABELS.get(model, (model.replace('_', ' '),))[0]}{horizon}: value uplift of {first['churn_low']:.0%} vs "
        f"{first['churn_high']:.0%} churn (claim {claimed:.0%}, \u2713 = holds)"
    )
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, format=PercentFormatter(1.0))
        bar.ax.axhline(claimed, color="black", linewidth=2)
        bar.set_label("Implied uplift (black line: claim)")
    return ax
