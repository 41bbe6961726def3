"""Check retention-to-valuation claims under explicit assumptions.

"A company with 5% churn is worth 200% more than one with 15%", "each point of retention adds 12%
to valuation after five years", "10% growth for five years adds $17M": each claim is true under
some assumptions and false under others. :func:`check_valuation_claim` computes the implied value
uplift over a grid of discount rates, expansion rates and horizons under five models and says in
words where the claim holds. See ``docs/valuation.md`` for the models and the findings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from feedback_lib.errors import ParameterError
from feedback_lib.valuation.customer_value import (
    _net_decay,
    customer_base_value,
    customer_base_value_finite,
)
from feedback_lib.valuation.simulation import CompanyAssumptions, simulate_company

__all__ = ["check_valuation_claim", "CLAIM_MODELS", "ClaimCheck", "one_point_retention_uplift", "revenue_growth_claim"]

CLAIM_MODELS: tuple[str, ...] = (
    "perpetuity",
    "finite",
    "simulation_multiple",
    "simulation_growth_multiple",
    "simulation_dcf",
)
CRITERIA = ("at_least", "reproduces")
_EPS = 1e-9  # rounding slack: 0.15 / 0.05 - 1 is 1.9999999999999996 in floating point


def _base_value(churn: float, *, d: float, g: float, margin: float, horizon: int | None) -> float:
    """Value of $1 of ARR (mrr = 1/12); infinite where the perpetuity diverges."""
    if horizon is None:
        if _net_decay(churn, d, g) <= 0:
            return math.inf
        return customer_base_value(1.0 / 12.0, churn=churn, discount_rate=d, growth=g, margin=margin)
    return customer_base_value_finite(
        1.0 / 12.0, churn=churn, horizon_years=horizon, discount_rate=d, growth=g, margin=margin
    )


def _uplift(v_low: float, v_high: float) -> tuple[float, str]:
    if math.isinf(v_low) and math.isinf(v_high):
        return math.nan, "both values infinite (growth >= churn + discount rate)"
    if math.isinf(v_low):
        return math.inf, "low-churn value infinite (growth >= churn + discount rate)"
    if not v_high > 0:
        return math.nan, "high-churn value not positive"
    return v_low / v_high - 1.0, ""


def _model_values(
    churn_low: float, churn_high: float, *, d: float, g: float, horizon: int,
    margin: float, company: CompanyAssumptions, with_perpetuity: bool = True,
) -> list[tuple[str, int | None, float, float]]:
    """(model, horizon, value_low, value_high) for every claim model at one assumption."""
    out: list = []
    if with_perpetuity:
        out.append(("perpetuity", None, *(_base_value(c, d=d, g=g, margin=margin, horizon=None)
                                         for c in (churn_low, churn_high))))
    out.append(("finite", horizon, *(_base_value(c, d=d, g=g, margin=margin, horizon=horizon)
                                     for c in (churn_low, churn_high))))
    sims = [
        simulate_company(annual_churn=c, years=horizon, annual_expansion=g, discount_rate=d,
                         company=replace(company, gross_margin=margin))
        for c in (churn_low, churn_high)
    ]
    out.append(("simulation_multiple", horizon, *(s.value("multiple") for s in sims)))
    out.append(("simulation_growth_multiple", horizon, *(s.value("growth_multiple") for s in sims)))
    out.append(("simulation_dcf", horizon, *(s.value("perpetuity", present=True) for s in sims)))
    return out


def _fmt(x: float) -> str:
    return f"{x:.0%}" if math.isfinite(x) else ("unbounded" if x > 0 else "n/a")


def _describe(held: Sequence[float], values: Sequence[float], name: str) -> str:
    """Describe the subset ``held`` of the grid ``values`` in words ("discount rate <= 5%")."""
    values = sorted(values)
    idx = [values.index(v) for v in sorted(held)]
    if not idx:
        return "never"
    if len(idx) == len(values):
        return f"any {name} in the grid"
    lo, hi = values[idx[0]], values[idx[-1]]
    if idx == list(range(idx[0], idx[-1] + 1)):  # contiguous
        if idx[0] == 0:
            return f"{name} <= {_fmt(hi)}"
        if idx[-1] == len(values) - 1:
            return f"{name} >= {_fmt(lo)}"
        return f"{name} = {_fmt(lo)}" if lo == hi else f"{_fmt(lo)} <= {name} <= {_fmt(hi)}"
    return f"{name} in {{{', '.join(_fmt(values[i]) for i in idx)}}}"


def _perpetuity_condition(c_l: float, c_h: float, claimed: float, criterion: str, tol: float) -> str:
    """Exact condition on x = discount rate - growth for the perpetuity ratio (c_h + x) / (c_l + x)."""
    def bound(u: float) -> float:  # ratio >= 1 + u  <=>  x <= (c_h - (1 + u) c_l) / u, for u > 0
        return round((c_h - (1.0 + u) * c_l) / u, 9) + 0.0  # + 0.0 turns -0.0 into 0.0

    if criterion == "at_least":
        if claimed <= 0:
            return "exact: holds wherever both perpetuities converge"
        return f"exact: holds iff discount rate - growth <= {bound(claimed):.1%}"
    if claimed - tol <= 0:
        return f"exact: holds iff discount rate - growth >= {bound(claimed + tol):.1%}"
    return (f"exact: holds iff {bound(claimed + tol):.1%} <= discount rate - growth "
            f"<= {bound(claimed - tol):.1%}")


def _verdict(rows: pd.DataFrame, *, claimed: float, criterion: str, tol: float) -> str:
    discount_rates = sorted(rows["discount_rate"].unique())
    span = f"implied uplift {_fmt(rows['implied_uplift'].min())} to {_fmt(rows['implied_uplift'].max())}"
    claim = f"claim {_fmt(claimed)}, criterion '{criterion}'"
    if rows["model"].iloc[0] == "perpetuity":
        claim += "; " + _perpetuity_condition(
            rows["churn_low"].iloc[0], rows["churn_high"].iloc[0], claimed, criterion, tol
        )
    if not rows["holds"].any():
        return f"does not hold anywhere in the grid ({span}; {claim})"
    if rows["holds"].all():
        return f"holds everywhere in the grid ({span}; {claim})"
    parts = []
    for growth, by_growth in rows.groupby("growth", sort=True):
        texts = {
            h: _describe(list(grp.loc[grp["holds"], "discount_rate"]), discount_rates, "discount rate")
            for h, grp in by_growth.groupby(by_growth["horizon_years"].fillna(0), sort=True)
        }
        held = {h: t for h, t in texts.items() if t != "never"}
        if not held:
            continue
        if len(set(texts.values())) == 1:
            parts.append(f"growth {_fmt(growth)}: {next(iter(texts.values()))}")
        else:
            parts.append(f"growth {_fmt(growth)}: " + ", ".join(f"{t} at {int(h)}y" for h, t in held.items()))
    return f"holds only when {'; '.join(parts)} ({span}; {claim})"


@dataclass(frozen=True)
class ClaimCheck:
    """Result of :func:`check_valuation_claim`.

    Attributes
    ----------
    grid
        One row per model and assumption: ``model, churn_low, churn_high, discount_rate, growth,
        horizon_years`` (``<NA>`` for the perpetuity), ``value_low, value_high`` (value of $1 of
        ARR for the customer-base models, company value for the simulations),
        ``implied_uplift`` (``value_low / value_high - 1``; ``inf`` when only the low-churn
        perpetuity diverges), ``claimed_uplift, reproduces, at_least, holds, note``.
    summary
        One row per model: ``model, cases, cases_holding, min_uplift, max_uplift, verdict``.
    churn_low, churn_high, claimed_uplift, criterion, tolerance
        The claim and how it is judged.
    central_discount_rate, central_growth, central_horizon
        The middle value of each assumption list (lower middle for even lengths).
    """

    grid: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame = field(repr=False)
    churn_low: float
    churn_high: float
    claimed_uplift: float
    criterion: str
    tolerance: float
    central_discount_rate: float
    central_growth: float
    central_horizon: int

    def to_frame(self) -> pd.DataFrame:
        """The grid."""
        return self.grid.copy()

    @property
    def verdict(self) -> dict[str, str]:
        """Model -> one-sentence verdict generated from the grid."""
        return dict(zip(self.summary["model"], self.summary["verdict"]))

    def describe(self) -> str:
        """One sentence: the claim and what each model implies at the central assumptions."""
        uplift = self.central_uplift()
        holding = sum(
            u >= self.claimed_uplift - _EPS if self.criterion == "at_least"
            else abs(u - self.claimed_uplift) <= self.tolerance + _EPS
            for u in uplift.values()
        )
        implied = ", ".join(f"{m.replace('_', ' ')} {_fmt(u)}" for m, u in uplift.items())
        return (
            f"Claim: churn {self.churn_low:.0%} vs {self.churn_high:.0%} means {self.claimed_uplift:.0%} "
            f"more value. At a {self.central_discount_rate:.0%} discount rate, {self.central_growth:.0%} "
            f"expansion and {self.central_horizon} years the models imply {implied}: the claim holds "
            f"({self.criterion.replace('_', ' ')}) under {holding} of {len(uplift)} models."
        )

    def central_uplift(self) -> dict[str, float]:
        """Model -> implied uplift at the central assumptions."""
        g = self.grid
        at = (g["discount_rate"] == self.central_discount_rate) & (g["growth"] == self.central_growth)
        at &= g["horizon_years"].isna() | (g["horizon_years"] == self.central_horizon)
        return {row.model: float(row.implied_uplift) for row in g[at].itertuples()}


def _middle(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def _rates(name: str, values: Sequence[float], *, low: float) -> list[float]:
    values = [float(v) for v in values]
    if not values:
        raise ParameterError(f"check_valuation_claim: {name} must list at least one value")
    bad = [v for v in values if not (math.isfinite(v) and v > low)]
    if bad:
        raise ParameterError(f"check_valuation_claim: {name} must be finite yearly rates above {low:g}; got {bad}")
    return sorted(set(values))


def check_valuation_claim(
    *,
    churn_low: float,
    churn_high: float,
    claimed_uplift: float,
    discount_rates: Sequence[float] = (0.0, 0.05, 0.10, 0.15, 0.20),
    growths: Sequence[float] = (0.0, 0.05, 0.10),
    horizons: Sequence[int] = (5, 10),
    margin: float = 0.8,
    tolerance: float = 0.10,
    criterion: str = "at_least",
    company: CompanyAssumptions | None = None,
) -> ClaimCheck:
    """Does "churn ``churn_low`` is worth ``claimed_uplift`` more than ``churn_high``" hold?

    Parameters
    ----------
    churn_low, churn_high
        Annual revenue churn of the better and the worse company (``churn_low < churn_high``).
    claimed_uplift
        Claimed value uplift as a fraction: "200% higher" is 2.0 (a value ratio of 3).
    discount_rates, growths, horizons
        Assumption grid: yearly discount rates, yearly expansion of retained revenue (the same for
        both companies) and horizons in years.
    margin
        Gross margin (cancels out of the customer-base ratios; matters in the simulations).
    tolerance
        Absolute tolerance of ``reproduces`` (0.10 = within 10 percentage points of uplift).
    criterion
        ``"at_least"``: the claim holds where ``implied_uplift >= claimed_uplift``;
        ``"reproduces"``: where ``|implied_uplift - claimed_uplift| <= tolerance`` (both up to
        1e-9 of floating-point slack). Both columns are always in the grid; ``holds`` copies the
        chosen one.
    company
        Bookings, CAC and multiples of the simulated companies (default: the webinar's case).

    Returns
    -------
    ClaimCheck

    Notes
    -----
    Models (value of the low-churn company over the high-churn one, minus 1):

    - ``perpetuity``: :func:`customer_base_value`; uplift ``(c_h + d - g) / (c_l + d - g) - 1``,
      so it depends on ``d - g`` only and is ``c_h / c_l - 1`` at ``d = g = 0``;
    - ``finite``: :func:`customer_base_value_finite` over the horizon;
    - ``simulation_multiple`` / ``simulation_growth_multiple``: :func:`simulate_company` valued
      at the horizon at a fixed / growth-linked revenue multiple (discounting both companies
      to today does not change the ratio, so these do not depend on ``d``);
    - ``simulation_dcf``: present value of the horizon's cash flows plus the installed base in
      perpetuity.

    Examples
    --------
    >>> check = check_valuation_claim(churn_low=0.05, churn_high=0.15, claimed_uplift=2.0,
    ...                               discount_rates=[0.0, 0.1], growths=[0.0], horizons=[5])
    >>> check.central_uplift()["perpetuity"]  # 0.15 / 0.05 - 1
    2.0
    >>> check.verdict["perpetuity"].split(" (")[0]
    'holds only when growth 0%: discount rate <= 0%'
    >>> check.verdict["perpetuity"].split("; ")[-1]  # (0.15 - 3 * 0.05) / 2
    'exact: holds iff discount rate - growth <= 0.0%)'
    """
    if not 0 <= churn_low < churn_high <= 1:
        raise ParameterError(
            f"check_valuation_claim: need 0 <= churn_low < churn_high <= 1, got {churn_low!r} and {churn_high!r}"
        )
    if criterion not in CRITERIA:
        raise ParameterError(f"check_valuation_claim: criterion must be one of {CRITERIA}; got {criterion!r}")
    if not (math.isfinite(claimed_uplift) and tolerance >= 0):
        raise ParameterError("check_valuation_claim: claimed_uplift must be finite and tolerance >= 0")
    discount_rates = _rates("discount_rates", discount_rates, low=-1)
    growths = _rates("growths", growths, low=-1)
    horizons = sorted({int(h) for h in horizons})
    if not horizons or horizons[0] < 2:
        raise ParameterError(f"check_valuation_claim: horizons must be whole years >= 2, got {horizons}")
    company = company or CompanyAssumptions()
    rows = []
    for d in discount_rates:
        for g in growths:
            for i, h in enumerate(horizons):
                for model, hz, v_low, v_high in _model_values(
                    churn_low, churn_high, d=d, g=g, horizon=h, margin=margin, company=company,
                    with_perpetuity=i == 0,
                ):
                    uplift, note = _uplift(v_low, v_high)
                    rows.append(
                        {"model": model, "churn_low": churn_low, "churn_high": churn_high,
                         "discount_rate": d, "growth": g, "horizon_years": hz,
                         "value_low": v_low, "value_high": v_high, "implied_uplift": uplift,
                         "claimed_uplift": float(claimed_uplift), "note": note}
                    )
    grid = pd.DataFrame(rows)
    grid["horizon_years"] = grid["horizon_years"].astype("Int64")
    implied = grid["implied_uplift"]
    grid["reproduces"] = (implied - claimed_uplift).abs() <= tolerance + _EPS  # NaN/inf -> False
    grid["at_least"] = implied >= claimed_uplift - _EPS  # inf -> True, NaN -> False
    grid["holds"] = grid[criterion]
    grid = grid[["model", "churn_low", "churn_high", "discount_rate", "growth", "horizon_years",
                 "value_low", "value_high", "implied_uplift", "claimed_uplift", "reproduces",
                 "at_least", "holds", "note"]]
    grid["model"] = pd.Categorical(grid["model"], categories=CLAIM_MODELS)
    grid = grid.sort_values(["model", "horizon_years", "growth", "discount_rate"]).reset_index(drop=True)
    grid["model"] = grid["model"].astype(str)
    summary = pd.DataFrame(
        [
            {"model": model, "cases": len(grp), "cases_holding": int(grp["holds"].sum()),
             "min_uplift": float(grp["implied_uplift"].min()),
             "max_uplift": float(grp["implied_uplift"].max()),
             "verdict": _verdict(grp, claimed=claimed_uplift, criterion=criterion, tol=tolerance)}
            for model, grp in grid.groupby("model", sort=False)
        ]
    )
    return ClaimCheck(
        grid=grid, summary=summary, churn_low=float(churn_low), churn_high=float(churn_high),
        claimed_uplift=float(claimed_uplift), criterion=criterion, tolerance=float(tolerance),
        central_discount_rate=_middle(discount_rates), central_growth=_middle(growths),
        central_horizon=int(_middle(horizons)),
    )


def revenue_growth_claim(*, growth_rate: float, years: int, added_revenue: float) -> float:
    """Starting ARR that makes "grow X% a year for N years and add $Y of annual revenue" true.

    Returns
    -------
    float
        ``ARR_0 = Y / ((1 + g)^N - 1)``: compounding ``ARR_0`` at ``g`` for ``N`` years adds
        ``ARR_0 ((1 + g)^N - 1) = Y``. A smaller company adds less; a claim of this form is only
        as true as the starting revenue it silently assumes.

    Examples
    --------
    >>> round(revenue_growth_claim(growth_rate=0.10, years=5, added_revenue=17e6))  # 17e6 / 0.61051
    27845572
    """
    if not (math.isfinite(growth_rate) and growth_rate > 0):
        raise ParameterError(
            f"revenue_growth_claim: growth_rate must be > 0 to add revenue, got {growth_rate!r}"
        )
    if int(years) != years or years < 1:
        raise ParameterError(f"revenue_growth_claim: years must be a whole number >= 1, got {years!r}")
    if not (math.isfinite(added_revenue) and added_revenue > 0):
        raise ParameterError(f"revenue_growth_claim: added_revenue must be > 0, got {added_revenue!r}")
    return float(added_revenue / ((1.0 + growth_rate) ** int(years) - 1.0))


def one_point_retention_uplift(
    *,
    retention: float,
    points: float = 1.0,
    discount_rate: float = 0.10,
    growth: float = 0.0,
    horizon_years: int = 5,
    margin: float = 0.8,
    claimed_uplift: float = 0.12,
    company: CompanyAssumptions | None = None,
) -> pd.DataFrame:
    """Value uplift from ``points`` more percentage points of annual retention, by model.

    Parameters
    ----------
    retention
        Annual gross revenue retention to start from (SaaS Capital's convention, 0.80 = 80%).
    points
        Percentage points added (1.0 = one point).
    discount_rate, growth, horizon_years, margin, company
        As in :func:`check_valuation_claim`, at one assumption.
    claimed_uplift
        The claim to compare with: 0.12 is SaaS Capital's "for every 1 percentage point increase
        in retention, a company's valuation could increase 12% after five years" ("No Churn",
        2015 update).

    Returns
    -------
    DataFrame
        One row per model (:data:`CLAIM_MODELS`): ``model, retention_from, retention_to,
        discount_rate, growth, horizon_years, implied_uplift, claimed_uplift``.

    Notes
    -----
    Churn ``c = 1 - retention`` against ``c - points / 100``; the implied uplift is the value
    ratio minus 1 under each model, exactly as in :func:`check_valuation_claim`. In the perpetuity
    it is ``0.01 / (c - 0.01 + d - g)`` per point: about 3.4% at 80% retention and d = 10%.

    Examples
    --------
    >>> t = one_point_retention_uplift(retention=0.80, discount_rate=0.10)
    >>> round(float(t.set_index("model").loc["perpetuity", "implied_uplift"]), 4)  # 0.30 / 0.29 - 1
    0.0345
    """
    churn_high = 1.0 - retention
    churn_low = churn_high - points / 100.0
    if not 0 <= churn_low < churn_high <= 1:
        raise ParameterError(
            f"one_point_retention_uplift: retention {retention!r} + {points!r} points must stay within 0..100%"
        )
    if int(horizon_years) != horizon_years or horizon_years < 2:
        raise ParameterError(f"one_point_retention_uplift: horizon_years must be >= 2, got {horizon_years!r}")
    rows = []
    for model, hz, v_low, v_high in _model_values(
        churn_low, churn_high, d=discount_rate, g=growth, horizon=int(horizon_years), margin=margin,
        company=company or CompanyAssumptions(),
    ):
        rows.append(
            {"model": model, "retention_from": retention, "retention_to": 1.0 - churn_low,
             "discount_rate": discount_rate, "growth": growth, "horizon_years": hz,
             "implied_uplift": _uplift(v_low, v_high)[0], "claimed_uplift": claimed_uplift}
        )
    out = pd.DataFrame(rows)
    out["horizon_years"] = out["horizon_years"].astype("Int64")
    return out
