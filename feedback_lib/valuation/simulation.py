"""A SaaS company simulated month by month, and the "Retention Inc. vs ChurnCo" case study.

Two companies that book the same new business but keep different shares of it: how far apart are
their ARR, cash and value after N years, and under which valuation model? The case study is the
one of the Gainsight x SaaS Capital webinar "The Incredible Impact of Churn on the Value of Your
Company" (Lincoln Murphy & Todd Gardner, 2015-03-19).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from feedback_lib.errors import ParameterError
from feedback_lib.revenue.retention import monthly_churn_rate
from feedback_lib.valuation.customer_value import _net_decay

__all__ = ["CaseStudy", "CompanyAssumptions", "CompanySimulation", "retention_inc_vs_churnco", "simulate_company", "TERMINAL_MODELS"]

TERMINAL_MODELS: tuple[str, ...] = ("multiple", "growth_multiple", "perpetuity")


@dataclass(frozen=True)
class CompanyAssumptions:
    """Everything about the simulated company except churn, expansion, horizon and discounting.

    The defaults are the webinar's case: $120,000 of new annual contract value (ACV) booked a
    month, $12,000 CAC per customer, 80% gross margin. The webinar does not state the ACV per
    customer; $12,000 (so CAC = one year of a customer's revenue, 10 new customers a month) is
    our assumption. It scales customers and CAC spend, not ARR.

    Attributes
    ----------
    new_acv_per_month
        New annual contract value booked each month.
    acv_per_customer
        Annual contract value of one new customer.
    cac_per_customer
        Acquisition cost of one new customer.
    gross_margin
        Gross margin on revenue.
    revenue_multiple
        Terminal model ``"multiple"``: value = this multiple * ARR at the horizon.
    multiple_intercept, multiple_per_growth
        Terminal model ``"growth_multiple"``: multiple = intercept + slope * (ARR growth in the
        last year, as a fraction), floored at 0. Defaults 1.5 and 10 (20% growth -> 3.5x, 50% ->
        6.5x) follow SaaS Capital's rule of thumb that slow growers are worth 2-3x revenue and
        fast growers 5-8x ("5 Drivers of SaaS Valuation", 2013); fit your own with
        :func:`feedback_lib.fit_valuation_multiple`.
    """

    new_acv_per_month: float = 120_000.0
    acv_per_customer: float = 12_000.0
    cac_per_customer: float = 12_000.0
    gross_margin: float = 0.8
    revenue_multiple: float = 5.0
    multiple_intercept: float = 1.5
    multiple_per_growth: float = 10.0

    def __post_init__(self) -> None:
        for name in ("new_acv_per_month", "acv_per_customer", "cac_per_customer", "revenue_multiple"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ParameterError(f"CompanyAssumptions: {name} must be a finite amount >= 0, got {value!r}")
        if self.acv_per_customer == 0:
            raise ParameterError("CompanyAssumptions: acv_per_customer must be > 0 (it divides bookings)")
        if not 0 <= self.gross_margin <= 1:
            raise ParameterError(f"CompanyAssumptions: gross_margin must be in [0, 1], got {self.gross_margin!r}")


@dataclass(frozen=True)
class CompanySimulation:
    """Result of :func:`simulate_company`.

    Attributes
    ----------
    yearly
        One row per year: ``year, arr`` (closing), ``customers`` (closing), ``revenue,
        gross_profit, cac_spend, cash_flow`` (gross profit - CAC spend), ``cumulative_cash_flow,
        arr_growth`` (closing ARR over the previous year's, minus 1; NaN in year 1),
        ``discount_factor`` (``(1 + d)^-year``) and ``present_value`` (of that year's cash flow).
    valuations
        One row per terminal model (:data:`TERMINAL_MODELS`): ``model, multiple`` (of closing
        ARR), ``terminal_value`` (at the end of the last year), ``present_value`` (discounted
        cash flows + discounted terminal value) and ``note``.
    annual_churn, annual_expansion, discount_rate, years, company
        Inputs.
    """

    yearly: pd.DataFrame = field(repr=False)
    valuations: pd.DataFrame = field(repr=False)
    annual_churn: float
    annual_expansion: float
    discount_rate: float
    years: int
    company: CompanyAssumptions

    def to_frame(self) -> pd.DataFrame:
        """The yearly table."""
        return self.yearly.copy()

    def value(self, model: str, *, present: bool = False) -> float:
        """Terminal value (or present value with ``present=True``) under one terminal model."""
        if model not in TERMINAL_MODELS:
            raise ParameterError(f"model must be one of {', '.join(TERMINAL_MODELS)}; got {model!r}")
        row = self.valuations.set_index("model").loc[model]
        return float(row["present_value" if present else "terminal_value"])


def simulate_company(
    *,
    annual_churn: float,
    years: int = 5,
    annual_expansion: float = 0.0,
    discount_rate: float = 0.0,
    company: CompanyAssumptions | None = None,
) -> CompanySimulation:
    """Simulate a SaaS company month by month from zero ARR and value it after ``years``.

    Parameters
    ----------
    annual_churn
        Share of ARR (and of customers) lost per year; applied monthly as
        ``c_m = 1 - (1 - annual_churn)^(1/12)``.
    years
        Horizon in whole years.
    annual_expansion
        Yearly growth of retained ARR (upsell), applied monthly as ``(1 + e)^(1/12) - 1``.
    discount_rate
        Yearly discount rate for present values (cash flows discounted at year end).
    company
        Bookings, ACV, CAC, margin and multiples; default :class:`CompanyAssumptions()`.

    Returns
    -------
    CompanySimulation

    Notes
    -----
    Month ``m``: ``ARR_m = ARR_{m-1} (1 - c_m)(1 + e_m) + B`` with ``B`` the new ACV booked that
    month; customers ``N_m = N_{m-1} (1 - c_m) + B / ACV``; revenue ``ARR_m / 12``; CAC spend
    ``(B / ACV) * CAC``; cash flow = gross margin * revenue - CAC spend (other costs are taken
    as equal for the companies compared and left out). Without expansion ARR has the closed form
    ``ARR_m = B (1 - (1 - c_m)^m) / c_m``. Terminal values at the horizon ``N``:

    - ``multiple``: ``revenue_multiple * ARR_N``;
    - ``growth_multiple``: ``max(0, intercept + slope * g_N) * ARR_N`` with ``g_N`` the last
      year's ARR growth (the webinar's argument: retention raises growth, growth the multiple);
    - ``perpetuity``: the installed base alone in perpetuity (no further bookings),
      ``margin * ARR_N / (churn + d - expansion)``, i.e. :func:`customer_base_value`; infinite
      when ``churn + d - expansion <= 0``.

    References
    ----------
    Murphy, L. & Gardner, T. (2015). The Incredible Impact of Churn on the Value of Your Company.
    Gainsight x SaaS Capital webinar, 2015-03-19 (case study "Retention Inc. vs ChurnCo").

    Examples
    --------
    >>> sim = simulate_company(annual_churn=0.0, years=1)
    >>> float(sim.yearly["arr"].iloc[0])  # 12 months * 120,000, nothing lost
    1440000.0
    >>> sim.value("multiple")  # 5 * 1.44M
    7200000.0
    """
    company = company or CompanyAssumptions()
    if not 0 <= annual_churn <= 1:
        raise ParameterError(f"simulate_company: annual_churn must be in [0, 1], got {annual_churn!r}")
    if not annual_expansion > -1:
        raise ParameterError(f"simulate_company: annual_expansion must be > -1, got {annual_expansion!r}")
    if not discount_rate > -1:
        raise ParameterError(f"simulate_company: discount_rate must be > -1, got {discount_rate!r}")
    if int(years) != years or years < 1:
        raise ParameterError(f"simulate_company: years must be a whole number >= 1, got {years!r}")
    years = int(years)
    c_m = monthly_churn_rate(annual_churn)
    e_m = (1.0 + annual_expansion) ** (1.0 / 12.0) - 1.0
    bookings = company.new_acv_per_month
    new_customers = bookings / company.acv_per_customer
    months = 12 * years
    arr = np.empty(months)
    customers = np.empty(months)
    level, count = 0.0, 0.0
    for m in range(months):
        level = level * (1.0 - c_m) * (1.0 + e_m) + bookings
        count = count * (1.0 - c_m) + new_customers
        arr[m], customers[m] = level, count
    year = np.repeat(np.arange(1, years + 1), 12)
    monthly = pd.DataFrame(
        {
            "year": year,
            "revenue": arr / 12.0,
            "cac_spend": new_customers * company.cac_per_customer,
        }
    )
    yearly = monthly.groupby("year", as_index=False)[["revenue", "cac_spend"]].sum()
    yearly.insert(1, "arr", arr[11::12])
    yearly.insert(2, "customers", customers[11::12])
    yearly["gross_profit"] = company.gross_margin * yearly["revenue"]
    yearly["cash_flow"] = yearly["gross_profit"] - yearly["cac_spend"]
    yearly["cumulative_cash_flow"] = yearly["cash_flow"].cumsum()
    yearly["arr_growth"] = yearly["arr"] / yearly["arr"].shift(1) - 1.0
    yearly["discount_factor"] = (1.0 + discount_rate) ** -yearly["year"].astype(float)
    yearly["present_value"] = yearly["cash_flow"] * yearly["discount_factor"]
    yearly = yearly[
        ["year", "arr", "customers", "revenue", "gross_profit", "cac_spend", "cash_flow",
         "cumulative_cash_flow", "arr_growth", "discount_factor", "present_value"]
    ]
    arr_end = float(arr[-1])
    growth_end = float(yearly["arr_growth"].iloc[-1]) if years > 1 else math.nan
    k = _net_decay(annual_churn, discount_rate, annual_expansion)
    multiples = {
        "multiple": (company.revenue_multiple, ""),
        "growth_multiple": (
            max(0.0, company.multiple_intercept + company.multiple_per_growth * growth_end)
            if years > 1 else math.nan,
            "" if years > 1 else "needs years >= 2 (growth in the last year)",
        ),
        "perpetuity": (
            company.gross_margin / k if k > 0 else math.inf,
            "" if k > 0 else "diverges: churn + discount_rate - expansion <= 0",
        ),
    }
    pv_cash = float(yearly["present_value"].sum())
    final_factor = float(yearly["discount_factor"].iloc[-1])
    valuations = pd.DataFrame(
        [
            {
                "model": model,
                "multiple": mult,
                "terminal_value": mult * arr_end,
                "present_value": pv_cash + mult * arr_end * final_factor,
                "note": note,
            }
            for model, (mult, note) in multiples.items()
        ]
    )
    return CompanySimulation(
        yearly=yearly,
        valuations=valuations,
        annual_churn=float(annual_churn),
        annual_expansion=float(annual_expansion),
        discount_rate=float(discount_rate),
        years=years,
        company=company,
    )


@dataclass(frozen=True)
class CaseStudy:
    """Result of :func:`retention_inc_vs_churnco`.

    Attributes
    ----------
    companies
        One row per scenario and company: ``scenario, company, annual_churn, arr, arr_growth,
        customers, revenue, cumulative_cash_flow`` (all at or up to the end of the horizon).
    valuations
        One row per scenario and valuation model: ``scenario, model, value_low_churn,
        value_high_churn, value_ratio, uplift`` (``value_ratio - 1``). Models: the three terminal
        models (value at the horizon) and ``dcf`` (present value today of the horizon's cash flows
        plus the discounted ``perpetuity`` terminal value).
    years, discount_rate, company
        Inputs.
    """

    companies: pd.DataFrame = field(repr=False)
    valuations: pd.DataFrame = field(repr=False)
    years: int
    discount_rate: float
    company: CompanyAssumptions

    def to_frame(self) -> pd.DataFrame:
        """The valuations table."""
        return self.valuations.copy()

    def describe(self) -> str:
        """One line per scenario: ARR, growth and the range of value ratios at the horizon."""
        lines = []
        for name, firms in self.companies.groupby("scenario", sort=False):
            low, high = firms.iloc[0], firms.iloc[1]
            ratios = self.valuations[self.valuations["scenario"] == name].set_index("model")["value_ratio"]
            lines.append(
                f"{name}: after {self.years} years {low['company']} has ARR ${low['arr'] / 1e6:.2f}M vs "
                f"${high['arr'] / 1e6:.2f}M for {high['company']}, growing {low['arr_growth']:.0%} vs "
                f"{high['arr_growth']:.0%} a year; its value is {ratios.min():.2f}x "
                f"({ratios.idxmin().replace('_', ' ')}) to {ratios.max():.2f}x "
                f"({ratios.idxmax().replace('_', ' ')}) ChurnCo's."
            )
        return "\n".join(lines)


DEFAULT_SCENARIOS: dict[str, tuple[float, float]] = {
    "case study: 95% vs 80% retention": (0.05, 0.20),
    "headline: 5% vs 15% churn": (0.05, 0.15),
}


def retention_inc_vs_churnco(
    *,
    scenarios: dict[str, tuple[float, float]] | None = None,
    years: int = 5,
    annual_expansion: float = 0.0,
    discount_rate: float = 0.10,
    company: CompanyAssumptions | None = None,
) -> CaseStudy:
    """Reproduce "Retention Inc. vs ChurnCo": same bookings, different churn, N years on.

    Parameters
    ----------
    scenarios
        Name -> ``(low churn, high churn)``. Default: the webinar's case study (95% vs 80%
        annual retention, i.e. 5% vs 20% churn) and its headline (5% vs 15% churn).
    years, annual_expansion, discount_rate, company
        As in :func:`simulate_company` (defaults: 5 years, no expansion, 10%, the webinar's
        company).

    Returns
    -------
    CaseStudy

    Notes
    -----
    Retention Inc. has the low churn, ChurnCo the high one. ``value_ratio`` is Retention Inc.'s
    value over ChurnCo's; with a fixed revenue multiple it is simply the ARR ratio. The webinar's
    slide says Retention Inc.'s growth rate ends up about 50% higher; here the year-5 growth
    rates are 21.9% vs 13.9% (ratio 1.58) for 5% vs 20% churn.

    Examples
    --------
    >>> case = retention_inc_vs_churnco()
    >>> row = case.companies.iloc[0]
    >>> row["company"], round(float(row["arr"]) / 1e6, 2)
    ('Retention Inc.', 6.36)
    """
    company = company or CompanyAssumptions()
    scenarios = DEFAULT_SCENARIOS if scenarios is None else scenarios
    company_rows, value_rows = [], []
    for name, (churn_low, churn_high) in scenarios.items():
        sims = {}
        for label, churn in (("Retention Inc.", churn_low), ("ChurnCo", churn_high)):
            sim = simulate_company(
                annual_churn=churn, years=years, annual_expansion=annual_expansion,
                discount_rate=discount_rate, company=company,
            )
            sims[label] = sim
            last = sim.yearly.iloc[-1]
            company_rows.append(
                {
                    "scenario": name, "company": label, "annual_churn": churn,
                    "arr": last["arr"], "arr_growth": last["arr_growth"],
                    "customers": last["customers"], "revenue": last["revenue"],
                    "cumulative_cash_flow": last["cumulative_cash_flow"],
                }
            )
        low, high = sims["Retention Inc."], sims["ChurnCo"]
        pairs = [(m, low.value(m), high.value(m)) for m in TERMINAL_MODELS]
        pairs.append(("dcf", low.value("perpetuity", present=True), high.value("perpetuity", present=True)))
        for model, v_low, v_high in pairs:
            ratio = v_low / v_high if v_high > 0 else math.nan
            value_rows.append(
                {
                    "scenario": name, "model": model, "value_low_churn": v_low,
                    "value_high_churn": v_high, "value_ratio": ratio, "uplift": ratio - 1.0,
                }
            )
    return CaseStudy(
        companies=pd.DataFrame(company_rows),
        valuations=pd.DataFrame(value_rows),
        years=int(years),
        discount_rate=float(discount_rate),
        company=company,
    )
