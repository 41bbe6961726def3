"""Who leaves and when: account lifetimes (``lifetimes``), Kaplan-Meier curves
(``kaplan_meier``), covariate snapshots and monthly panels (``features``, ``panel``), the landmark
Cox model and at-risk scoring (``model``, with shared Cox helpers in ``_cox``), the generic Cox fit
(``cox``), the time-varying Cox
model, the out-of-time backtest, and the shifted-beta-geometric model with its heterogeneity
checks (``sbg``, ``heterogeneity``).

May import: ``feedback_lib.revenue``, ``feedback_lib.survey``, ``feedback_lib.io``,
``feedback_lib._util``, ``feedback_lib.errors``.
"""

from feedback_lib.churn._cox import covariate_label
from feedback_lib.churn.backtest import BacktestResult, backtest
from feedback_lib.churn.cox import CoxResult, fit_cox
from feedback_lib.churn.features import PANEL_COVARIATES, account_covariates
from feedback_lib.churn.heterogeneity import (
    HeterogeneityCheck,
    discounted_expected_lifetime,
    discounted_expected_residual_lifetime,
    heterogeneity_check,
)
from feedback_lib.churn.kaplan_meier import KaplanMeierResult, kaplan_meier, plot_km
from feedback_lib.churn.lifetimes import account_lifetimes, landmark_lifetimes
from feedback_lib.churn.model import SNAPSHOT_COVARIATES, ChurnModel, at_risk_accounts
from feedback_lib.churn.panel import monthly_panel
from feedback_lib.churn.sbg import SBGModel, cohort_survivors, fit_sbg, fit_sbg_cohorts
from feedback_lib.churn.timevarying import TimeVaryingChurnModel

__all__ = [
    "account_covariates",
    "account_lifetimes",
    "at_risk_accounts",
    "backtest",
    "BacktestResult",
    "ChurnModel",
    "cohort_survivors",
    "CoxResult",
    "covariate_label",
    "discounted_expected_lifetime",
    "discounted_expected_residual_lifetime",
    "fit_cox",
    "fit_sbg",
    "fit_sbg_cohorts",
    "heterogeneity_check",
    "HeterogeneityCheck",
    "kaplan_meier",
    "KaplanMeierResult",
    "landmark_lifetimes",
    "monthly_panel",
    "PANEL_COVARIATES",
    "plot_km",
    "SBGModel",
    "SNAPSHOT_COVARIATES",
    "TimeVaryingChurnModel",
]
