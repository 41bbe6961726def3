"""Cox model with monthly time-varying covariates: the hazard ratios of detractors, ticket
bursts and low usage, read from the monthly account panel of :func:`feedback_lib.monthly_panel`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feedback_lib.churn._cox import _check_events, _forest, _hr_table, _sample_accounts
from feedback_lib.churn.features import PANEL_COVARIATES, _slug
from feedback_lib.errors import (
    InsufficientDataError,
    ModelFitError,
    NotFittedError,
    ParameterError,
    SchemaError,
)

__all__ = ["TimeVaryingChurnModel"]


class TimeVaryingChurnModel:
    """Cox model with monthly time-varying covariates on :func:`feedback_lib.monthly_panel`.

    Parameters
    ----------
    covariates
        Panel columns to use; default ``detractor, ticket_burst, low_usage`` plus the
        ``segment_*`` dummies except the reference segment's.
    reference_segment
        Segment left out of the dummies (default: the first in alphabetical order).
    penalizer
        L2 penalty of lifelines ``CoxTimeVaryingFitter``.
    max_accounts
        Fit on a seeded random sample of this many accounts (all their months), the same share of
        every segment, when the panel has more; ``None`` fits on all. Sampling whole accounts
        keeps the estimator unbiased; ``sample_fraction_`` records it.
    seed, confidence
        Seed of the sample; level of the intervals.

    Attributes
    ----------
    ctv_ : lifelines.CoxTimeVaryingFitter
    covariates_ : list of str
    segments_ : list of str
        The panel's segments, the reference first: the segment whose dummy was left out, which the
        ``segment_*`` hazard ratios compare with (empty unless exactly one dummy was left out).
    n_, events_, rows_ : int
        Accounts, churn events and account-months fitted.
    sample_fraction_ : float

    Notes
    -----
    Andersen-Gill counting-process Cox model (Andersen & Gill 1982) fitted by lifelines'
    ``CoxTimeVaryingFitter``; time is months since the paid spell started and each reactivated
    spell is its own episode. Monthly ties are handled with Efron's method, so a hazard ratio
    estimates the ratio of monthly churn hazards (for small monthly probabilities, the ratio of
    the probabilities).

    Examples
    --------
    >>> import feedback_lib as fl
    >>> ds = fl.generate_demo(seed=3, n_accounts=600, start="2024-01-01", end="2025-12-31")
    >>> from feedback_lib.churn.panel import monthly_panel
    >>> tv = TimeVaryingChurnModel().fit(monthly_panel(ds, as_of="2025-12-31"))
    >>> tv.summary["covariate"].tolist()[:3]
    ['detractor', 'ticket_burst', 'low_usage']
    """

    def __init__(
        self,
        *,
        covariates: list[str] | None = None,
        reference_segment: str | None = None,
        penalizer: float = 0.0,
        max_accounts: int | None = 100_000,
        seed: int = 0,
        confidence: float = 0.95,
    ) -> None:
        self.covariates = covariates
        self.reference_segment = reference_segment
        self.penalizer = penalizer
        self.max_accounts = max_accounts
        self.seed = seed
        self.confidence = confidence

    def fit(self, panel: pd.DataFrame) -> TimeVaryingChurnModel:
        """Fit on a panel from :func:`feedback_lib.monthly_panel`; returns ``self``."""
        covs = list(self.covariates) if self.covariates is not None else self._default_covariates(panel)
        missing = [c for c in [*covs, "account_id", "life", "start", "stop", "event", "segment"] if c not in panel.columns]
        if missing:
            raise SchemaError(
                f"TimeVaryingChurnModel.fit: panel lacks column(s) {missing}; build it with "
                "feedback_lib.monthly_panel(dataset, as_of=...)."
            )
        codes = panel["account_id"].astype("category").cat.codes.to_numpy()
        keep, self.sample_fraction_ = _sample_accounts(
            codes, panel["segment"].astype(str).to_numpy(), max_n=self.max_accounts, seed=self.seed
        )
        df = panel.loc[keep, [*covs, "start", "stop", "event"]].astype(float)
        df["episode"] = codes[keep].astype(np.int64) * 1000 + panel["life"].to_numpy()[keep]
        constant = [c for c in covs if df[c].nunique() <= 1]
        if constant:
            raise InsufficientDataError(
                f"TimeVaryingChurnModel.fit: covariate(s) {constant} never vary in the panel, so their "
                "hazard ratios are not identified; drop them via covariates=[...]."
            )
        _check_events(int(df["event"].sum()), where="TimeVaryingChurnModel.fit")
        from lifelines import (
            CoxTimeVaryingFitter,  # lifelines loads in ~1 s: only when fitting
        )
        from lifelines.exceptions import ConvergenceError

        try:
            self.ctv_ = CoxTimeVaryingFitter(penalizer=self.penalizer, alpha=1 - self.confidence).fit(
                df, id_col="episode", event_col="event", start_col="start", stop_col="stop"
            )
        except ConvergenceError as exc:
            raise ModelFitError(
                "TimeVaryingChurnModel.fit: the Cox fit did not converge; a covariate probably "
                "separates churners perfectly. Retry with penalizer=0.01."
            ) from exc
        self.covariates_ = covs
        self.segments_ = _segments_reference_first(panel, covs)
        self.n_ = int(len(np.unique(codes[keep])))
        self.events_ = int(df["event"].sum())
        self.rows_ = int(len(df))
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """``covariate, hazard_ratio, ci_low, ci_high, p_value, coef, se, n, events``."""
        if not hasattr(self, "ctv_"):
            raise NotFittedError("TimeVaryingChurnModel is not fitted yet; call fit(panel) first.")
        return _hr_table(self.ctv_.summary, self.confidence).assign(n=self.n_, events=self.events_)

    def plot_forest(self, *, ax=None):
        """Forest plot of the hazard ratios with their intervals (log scale); returns the Axes."""
        return _forest(
            self.summary, ax=ax, segments=self.segments_,
            title=f"Time-varying churn hazard ratios (n={self.n_:,}, events={self.events_:,})",
        )

    def _default_covariates(self, panel: pd.DataFrame) -> list[str]:
        seg_cols = sorted(c for c in panel.columns if c.startswith("segment_"))
        if not seg_cols:
            return list(PANEL_COVARIATES)
        if self.reference_segment is None:
            ref = seg_cols[0]
        else:
            ref = "segment_" + _slug(self.reference_segment)
            if ref not in seg_cols:
                raise ParameterError(
                    f"reference_segment {self.reference_segment!r} is not in the panel (columns {seg_cols})"
                )
        return [*PANEL_COVARIATES, *(c for c in seg_cols if c != ref)]


def _segments_reference_first(panel: pd.DataFrame, covariates: list[str]) -> list[str]:
    """The panel's segment names, the one whose dummy is not a covariate first ([] if not one)."""
    names = {f"segment_{_slug(s)}": s for s in panel["segment"].astype(str).unique()}
    left_out = [n for c, n in sorted(names.items()) if c not in covariates]
    if len(left_out) != 1 or len(left_out) == len(names):
        return []
    return [left_out[0], *(n for c, n in sorted(names.items()) if c in covariates)]
