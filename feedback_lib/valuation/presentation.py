"""The valuation report's verdict and tables, in words a board member can read.

Everything here is computed from a :class:`~feedback_lib.valuation.claims.ClaimCheck` (or the
case study, or the company's own retention), so the report's summary, its tables and its
``metrics.json`` all come from the same numbers. Tables have human headers and numbers already
written as text (percentages, money with its currency, "unbounded" for a diverging value), so a
report shows them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from feedback_lib.errors import ParameterError
from feedback_lib.valuation.claims import _EPS, ClaimCheck, _base_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from feedback_lib.churn.heterogeneity import HeterogeneityCheck
    from feedback_lib.valuation.comps import ValuationMultipleFit
    from feedback_lib.valuation.report import RetentionValue
    from feedback_lib.valuation.simulation import CaseStudy

__all__ = [
    "MODEL_LABELS",
    "ClaimVerdict",
    "case_study_table",
    "central_uplift_text",
    "claim_verdict",
    "comps_table",
    "describe_sensitivity",
    "heterogeneity_table",
    "model_table",
    "one_point_table",
    "plot_uplift_sensitivity",
    "retention_value_table",
    "uplift_sensitivity",
]

#: model -> (label, what it values and why it differs from the others)
MODEL_LABELS: dict[str, tuple[str, str]] = {
    "perpetuity": ("Customer base, forever",
                   "today's customers only, paying until they churn; the ratio depends on discount rate "
                   "minus expansion and equals 15% / 5% = 3x only when both are 0"),
    "finite": ("Customer base, fixed horizon",
               "today's customers over the horizon only: little time for churn to compound, so the gap is small"),
    "simulation_multiple": ("Company at a revenue multiple",
                            "a whole company that keeps selling, valued at the horizon at one ARR multiple: "
                            "new sales dilute the churn difference"),
    "simulation_growth_multiple": ("Company at a growth-linked multiple",
                                   "as above, but faster-growing ARR earns a higher multiple"),
    "simulation_dcf": ("Company, discounted cash flow",
                       "the horizon's cash flows plus the installed base forever, discounted to today"),
}


def _pct(x: float, *, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "not defined"
    if math.isinf(x):
        return "unbounded" if x > 0 else "not defined"
    return f"{x:.{digits}%}"


def _money(x: float, currency: str) -> str:
    size = abs(x)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{currency} {x / limit:,.1f}{suffix}"
    return f"{currency} {x:,.0f}"


@dataclass(frozen=True)
class ClaimVerdict:
    """Result of :func:`claim_verdict`.

    Attributes
    ----------
    holds_at_central
        Model -> whether the claim holds at the central assumptions.
    claim_holds
        The report's verdict: ``True`` only when the claim holds under every model at the
        central assumptions (a claim that depends on the choice of model is not established).
    models_holding, models
        How many models it holds under, of how many.
    sentence
        The verdict in one sentence, generated from the numbers above.
    """

    holds_at_central: dict[str, bool]
    claim_holds: bool
    models_holding: int
    models: int
    sentence: str

    def to_frame(self) -> pd.DataFrame:
        """One row per model: ``model, holds_at_central``."""
        return pd.DataFrame({"model": list(self.holds_at_central),
                             "holds_at_central": list(self.holds_at_central.values())})


def claim_verdict(check: ClaimCheck) -> ClaimVerdict:
    """The report's verdict on a claim at its central assumptions.

    Notes
    -----
    A model holds at the central assumptions when its implied uplift there is at least the claim
    (criterion ``at_least``) or within the tolerance of it (``reproduces``), with 1e-9 of
    floating-point slack, exactly as in :meth:`ClaimCheck.describe`. The claim holds when it
    holds under every model; "holds under 2 of 5 models" reads as "not established".

    Examples
    --------
    >>> from feedback_lib.valuation.claims import check_valuation_claim
    >>> check = check_valuation_claim(churn_low=0.05, churn_high=0.15, claimed_uplift=2.0,
    ...                               discount_rates=[0.10], growths=[0.05], horizons=[5])
    >>> v = claim_verdict(check)
    >>> v.claim_holds, v.models_holding
    (False, 0)
    """
    claimed, tol = check.claimed_uplift, check.tolerance
    holds = {}
    for model, u in check.central_uplift().items():
        if check.criterion == "at_least":
            holds[model] = bool(u >= claimed - _EPS)  # inf holds, NaN does not
        else:
            holds[model] = bool(math.isfinite(u) and abs(u - claimed) <= tol + _EPS)
    k, n = sum(holds.values()), len(holds)
    claim_holds = n > 0 and k == n
    outcome = ("it holds" if claim_holds else
               "it does not hold" if k == 0 else "not established: it depends on the model")
    sentence = (
        f"\"{check.churn_low:.0%} annual churn is worth {check.claimed_uplift:.0%} more than "
        f"{check.churn_high:.0%}\" holds under {k} of {n} models at a {check.central_discount_rate:.0%} "
        f"discount rate, {check.central_growth:.0%} expansion and {check.central_horizon} years: {outcome}."
    )
    return ClaimVerdict(holds_at_central=holds, claim_holds=claim_holds, models_holding=k, models=n,
                        sentence=sentence)


def central_uplift_text(check: ClaimCheck) -> str:
    """The implied uplift per model at the central assumptions, in words.

    Examples
    --------
    >>> from feedback_lib.valuation.claims import check_valuation_claim
    >>> check = check_valuation_claim(churn_low=0.05, churn_high=0.15, claimed_uplift=2.0,
    ...                               discount_rates=[0.0], growths=[0.0], horizons=[5])
    >>> central_uplift_text(check).split("; ")[0]
    'customer base, forever 200%'
    """
    return "; ".join(f"{MODEL_LABELS.get(m, (m,))[0].lower()} {_pct(u)}" for m, u in check.central_uplift().items())


def model_table(check: ClaimCheck) -> pd.DataFrame:
    """The claim under each model, as the report shows it.

    Returns
    -------
    DataFrame
        One row per model: ``Model``, ``What it values``, ``Implied uplift`` (at the central
        assumptions), ``Holds at central assumptions`` (yes/no), ``Grid cases where it holds``
        ("6 of 15") and ``Range over the grid`` (text; "unbounded" where a value diverges).
    """
    verdict = claim_verdict(check)
    central = check.central_uplift()
    rows = []
    for row in check.summary.itertuples():
        label, why = MODEL_LABELS.get(row.model, (row.model.replace("_", " "), ""))
        rows.append({
            "Model": label, "What it values": why,
            "Implied uplift": _pct(central[row.model]),
            "Holds at central assumptions": "yes" if verdict.holds_at_central[row.model] else "no",
            "Grid cases where it holds": f"{row.cases_holding} of {row.cases}",
            "Range over the grid": f"{_pct(row.min_uplift)} to {_pct(row.max_uplift)}",
        })
    return pd.DataFrame(rows)


_CASE_MODELS = {"multiple": "Revenue multiple at the horizon", "growth_multiple": "Growth-linked multiple",
                "perpetuity": "Installed base forever, at the horizon", "dcf": "Discounted cash flow, today"}


def case_study_table(case: CaseStudy, *, currency: str = "USD") -> pd.DataFrame:
    """The webinar's case study and the headline claim side by side, one row per valuation model.

    Returns
    -------
    DataFrame
        ``Valuation model`` then, per scenario, ``<scenario>: low-churn value``, ``high-churn
        value`` (money with ``currency``) and ``uplift`` (text).
    """
    out = pd.DataFrame({"Valuation model": [_CASE_MODELS.get(m, m) for m in pd.unique(case.valuations["model"])]})
    for scenario, rows in case.valuations.groupby("scenario", sort=False):
        out[f"{scenario}: Retention Inc."] = [_money(v, currency) for v in rows["value_low_churn"]]
        out[f"{scenario}: ChurnCo"] = [_money(v, currency) for v in rows["value_high_churn"]]
        out[f"{scenario}: uplift"] = [_pct(v) for v in rows["uplift"]]
    return out


def retention_value_table(own: RetentionValue, *, currency: str = "USD") -> pd.DataFrame:
    """What each unit of the company's ARR is worth, per model and discount rate, in words and money.

    Returns
    -------
    DataFrame
        ``Model``, ``Discount rate``, ``Value of 1 ARR`` (e.g. "USD 4.21", "unbounded: NRR at or
        above 1 + discount rate") and ``One more point of GRR adds``.
    """
    t = own.table
    model = {"perpetuity": "Forever", "finite": f"{own.horizon_years} years"}
    value = [f"{currency} {v:,.2f}" if math.isfinite(v) else "unbounded: NRR at or above 1 + discount rate"
             for v in t["value_per_arr"]]
    return pd.DataFrame({"Model": [model.get(m, m) for m in t["model"]],
                         "Discount rate": [_pct(d) for d in t["discount_rate"]],
                         "Value of 1 ARR": value,
                         "One more point of GRR adds": [_pct(u, digits=1) for u in t["uplift_one_point"]]})


def heterogeneity_table(het: HeterogeneityCheck) -> pd.DataFrame:
    """The sBG-against-constant-churn comparison by tenure, with human headers.

    Returns
    -------
    DataFrame
        ``Renewals made``, ``Share renewing next time`` (sBG), ``Remaining value, sBG`` and
        ``Remaining value, constant churn`` (discounted expected residual lifetime, DERL, in
        payments, Fader & Hardie 2010, counted just before the next renewal decision) and
        ``Left out by constant churn`` (``1 - constant / sBG``).
    """
    t = het.by_tenure
    return pd.DataFrame({
        "Renewals made": t["renewals"].astype(int),
        "Share renewing next time": [_pct(r, digits=1) for r in t["retention_rate"]],
        "Remaining value, sBG (payments)": [f"{v:.2f}" for v in t["derl_sbg"]],
        "Remaining value, constant churn (payments)": [f"{v:.2f}" for v in t["derl_constant"]],
        "Left out by constant churn": [_pct(u) for u in t["undervaluation"]],
    })


def one_point_table(frame: pd.DataFrame) -> pd.DataFrame:
    """What one more point of retention adds per model (the frame of
    :func:`~feedback_lib.valuation.claims.one_point_retention_uplift`), with human headers.

    Returns
    -------
    DataFrame
        ``Model``, ``Retention`` ("85% to 86%"), ``Horizon`` ("forever" for the perpetuity),
        ``Value added`` and ``Claimed``.
    """
    return pd.DataFrame({
        "Model": [MODEL_LABELS.get(m, (m.replace("_", " "),))[0] for m in frame["model"]],
        "Retention": [f"{a:.0%} to {b:.0%}" for a, b in zip(frame["retention_from"], frame["retention_to"])],
        "Horizon": ["forever" if pd.isna(h) else f"{int(h)} years" for h in frame["horizon_years"]],
        "Value added": [_pct(u, digits=1) for u in frame["implied_uplift"]],
        "Claimed": [_pct(c) for c in frame["claimed_uplift"]],
    })


def comps_table(fit: ValuationMultipleFit) -> pd.DataFrame:
    """The revenue-multiple regression's coefficients, with human headers.

    Returns
    -------
    DataFrame
        ``Term`` (intercept, net revenue retention, growth), ``Multiple per unit`` (x revenue per
        1.0 = 100 points), ``95% interval`` (HC3 robust errors) and ``p-value``.
    """
    names = {"const": "Intercept", fit.retention_col: "Net revenue retention (per 100 points)",
             fit.growth_col: "ARR growth (per 100 points)"}
    c = fit.coefficients
    return pd.DataFrame({
        "Term": [names.get(t, t) for t in c["term"]],
        "Multiple per unit": [f"{v:+.2f}x" for v in c["estimate"]],
        "95% interval": [f"{lo:+.2f}x to {hi:+.2f}x" for lo, hi in zip(c["ci_low"], c["ci_high"])],
        "p-value": ["< 0.001" if p < 0.001 else f"{p:.3f}" for p in c["p_value"]],
    })


def uplift_sensitivity(
    *,
    churn_high: float,
    churn_lows: Sequence[float],
    discount_rates: Sequence[float],
    growth: float = 0.0,
    horizon_years: int = 5,
    margin: float = 0.8,
) -> pd.DataFrame:
    """Implied uplift of a low-churn over a ``churn_high`` company, against churn and discount rate.

    Returns
    -------
    DataFrame
        ``model`` (``perpetuity``, ``finite``), ``churn_low``, ``discount_rate`` and
        ``implied_uplift`` (``value(churn_low) / value(churn_high) - 1``; ``inf`` where only the
        low-churn perpetuity diverges, i.e. ``churn_low + discount_rate <= growth``).

    Notes
    -----
    Perpetuity: uplift = (c_h + d - g) / (c_l + d - g) - 1; finite horizon: the ratio of
    :func:`customer_base_value_finite` values (``docs/valuation.md``).

    Examples
    --------
    >>> t = uplift_sensitivity(churn_high=0.15, churn_lows=[0.05], discount_rates=[0.0])
    >>> float(t.loc[t["model"] == "perpetuity", "implied_uplift"].iloc[0])  # 0.15 / 0.05 - 1
    2.0
    """
    if not churn_lows or not discount_rates:
        raise ParameterError("uplift_sensitivity: churn_lows and discount_rates need at least one value each")
    rows = []
    for model, horizon in (("perpetuity", None), ("finite", int(horizon_years))):
        for d in discount_rates:
            high = _base_value(churn_high, d=d, g=growth, margin=margin, horizon=horizon)
            for c in churn_lows:
                low = _base_value(c, d=d, g=growth, margin=margin, horizon=horizon)
                if math.isinf(low):
                    uplift = math.inf if math.isfinite(high) else math.nan
                else:
                    uplift = low / high - 1.0 if high > 0 else math.nan
                rows.append({"model": model, "churn_low": float(c), "discount_rate": float(d),
                             "implied_uplift": uplift})
    return pd.DataFrame(rows)


def describe_sensitivity(table: pd.DataFrame, *, churn_low: float, model: str = "perpetuity") -> str:
    """One sentence: the range of the uplift at ``churn_low`` across the table's discount rates."""
    at = table[(table["model"] == model) & np.isclose(table["churn_low"], churn_low)]
    if at.empty:
        raise ParameterError(f"describe_sensitivity: churn_low {churn_low!r} is not in the table")
    u = at["implied_uplift"].to_numpy(float)
    d = at["discount_rate"].to_numpy(float)
    return (f"At {churn_low:.0%} churn the uplift ranges from {_pct(np.nanmin(u))} (discount rate "
            f"{d[np.nanargmin(u)]:.0%}) to {_pct(np.nanmax(u))} (discount rate {d[np.nanargmax(u)]:.0%}).")


def plot_uplift_sensitivity(
    table: pd.DataFrame, *, claimed_uplift: float, churn_high: float, model: str = "perpetuity",
    cap: float = 5.0, ax: Axes | None = None,
) -> Axes:
    """Implied uplift against the better company's churn, one line per discount rate, the claim marked.

    Uplifts above ``cap`` (and unbounded ones) are drawn at ``cap`` with a dotted line, so the
    chart stays readable where the perpetuity diverges.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    sub = table[table["model"] == model]
    if sub.empty:
        raise ParameterError(f"plot_uplift_sensitivity: model {model!r} is not in the table")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    for d, rows in sub.groupby("discount_rate", sort=True):
        y = rows["implied_uplift"].to_numpy(float)
        shown = np.where(np.isfinite(y), np.minimum(y, cap), cap)
        (line,) = ax.plot(rows["churn_low"], shown, marker="o", label=f"discount rate {d:.0%}")
        capped = ~np.isfinite(y) | (y > cap)
        if capped.any():
            ax.plot(rows["churn_low"][capped], shown[capped], linestyle="none", marker="^",
                    color=line.get_color())
    ax.axhline(claimed_uplift, color="black", linewidth=1.5, linestyle="--", label=f"claim {claimed_uplift:.0%}")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(f"Annual churn of the better company (the other churns {churn_high:.0%})")
    ax.set_ylabel("Implied value uplift")
    ax.set_ylim(0, cap * 1.05)
    ax.set_title(f"{MODEL_LABELS.get(model, (model,))[0]}: uplift against churn and discount rate "
                 f"(triangles: {cap:.0%} or more)")
    ax.legend(frameon=False, fontsize=9)
    return ax
