"""Revenue metrics: the one active-subscription-on-a-day MRR rule and ``monthly_revenue``
(``mrr``), MRR movements and the ARR bridge (``movements``), NRR/GRR/logo retention and trends
(``retention``), signup cohorts (``cohorts``), concentration (``concentration``), the account rows behind each figure (``drilldown``) and
their plots.

May import: ``feedback_lib._util``, ``feedback_lib.errors``.
"""

from feedback_lib.revenue.cohorts import cohort_retention
from feedback_lib.revenue.concentration import (
    AccountsForShare,
    RevenueConcentration,
    accounts_for_share,
    arpa,
    gini,
    lorenz_curve,
    revenue_concentration,
    top_share,
)
from feedback_lib.revenue.drilldown import bridge_accounts, cohort_accounts, concentration_accounts
from feedback_lib.revenue.movements import (
    MOVEMENT_CATEGORIES,
    arr_bridge,
    arr_growth_rate,
    mrr_movements,
    quick_ratio,
    revenue_churn,
)
from feedback_lib.revenue.mrr import monthly_revenue
from feedback_lib.revenue.plots import plot_arr_bridge, plot_cohort_heatmap, plot_lorenz
from feedback_lib.revenue.retention import (
    RetentionSummary,
    annual_churn_rate,
    gross_revenue_retention,
    logo_churn_rate,
    logo_retention,
    monthly_churn_rate,
    net_revenue_retention,
    retention_summary,
    retention_trend,
)

__all__ = [
    "bridge_accounts",
    "cohort_accounts",
    "concentration_accounts",
    "arr_growth_rate",
    "annual_churn_rate",
    "monthly_churn_rate",
    "accounts_for_share",
    "AccountsForShare",
    "arpa",
    "arr_bridge",
    "cohort_retention",
    "gini",
    "gross_revenue_retention",
    "logo_churn_rate",
    "logo_retention",
    "lorenz_curve",
    "monthly_revenue",
    "MOVEMENT_CATEGORIES",
    "mrr_movements",
    "net_revenue_retention",
    "plot_arr_bridge",
    "plot_cohort_heatmap",
    "plot_lorenz",
    "quick_ratio",
    "retention_summary",
    "retention_trend",
    "RetentionSummary",
    "revenue_churn",
    "revenue_concentration",
    "RevenueConcentration",
    "top_share",
]
