"""What retention is worth: ARR projections and the value of a churn point
(``projections``), customer-base value (``customer_value``), the simulated company and the case
study (``simulation``), claim checks (``claims``), comparable companies (``comps``) and the
valuation report's helpers (``report``).

May import: ``feedback_lib.churn``, ``feedback_lib.revenue``, ``feedback_lib._util``,
``feedback_lib.errors``.
"""

from feedback_lib.valuation.claims import (
    CLAIM_MODELS,
    ClaimCheck,
    check_valuation_claim,
    one_point_retention_uplift,
    revenue_growth_claim,
)
from feedback_lib.valuation.comps import (
    SYNTHETIC_COMPS_COEFFICIENTS,
    ValuationMultipleFit,
    fit_valuation_multiple,
    read_comps,
    synthetic_comps,
)
from feedback_lib.valuation.customer_value import (
    customer_base_value,
    customer_base_value_finite,
)
from feedback_lib.valuation.projections import (
    ChurnPointValue,
    RetentionScenario,
    compounding_improvement,
    observed_churn,
    project_arr,
    retention_scenario,
    value_of_churn_point,
)
from feedback_lib.valuation.report import (
    RetentionValue,
    plot_claim_heatmap,
    retention_value_implications,
    valuation_headline,
)
from feedback_lib.valuation.simulation import (
    TERMINAL_MODELS,
    CaseStudy,
    CompanyAssumptions,
    CompanySimulation,
    retention_inc_vs_churnco,
    simulate_company,
)

__all__ = [
    "CaseStudy",
    "check_valuation_claim",
    "ChurnPointValue",
    "CLAIM_MODELS",
    "ClaimCheck",
    "CompanyAssumptions",
    "CompanySimulation",
    "compounding_improvement",
    "customer_base_value",
    "customer_base_value_finite",
    "fit_valuation_multiple",
    "observed_churn",
    "one_point_retention_uplift",
    "plot_claim_heatmap",
    "project_arr",
    "read_comps",
    "retention_inc_vs_churnco",
    "retention_scenario",
    "retention_value_implications",
    "RetentionScenario",
    "RetentionValue",
    "revenue_growth_claim",
    "simulate_company",
    "synthetic_comps",
    "SYNTHETIC_COMPS_COEFFICIENTS",
    "TERMINAL_MODELS",
    "valuation_headline",
    "ValuationMultipleFit",
    "value_of_churn_point",
]
