"""Landmark Cox churn model on account snapshots: hazard ratios, PH check, at-risk scoring.

``ChurnModel`` answers "who is likely to churn in the next h months, and how much MRR is that?":
it is fitted on the snapshot of covariates at a landmark date and the churn observed in the
following months, then scores today's snapshot. For "by how much does a detractor response
multiply the churn hazard?" see :class:`feedback_lib.TimeVaryingChurnModel`
(:mod:`feedback_lib.churn.timevarying`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from feedback_lib._util.dates import last_complete_month, month_end, parse_as_of
from feedback_lib.churn._cox import (
    _check_events,
    _forest,
    _hr_table,
    _ph_table,
    _sample,
    covariate_label,
)
from feedback_lib.churn.cox import fit_cox
from feedback_lib.churn.features import _slug, account_covariates
from feedback_lib.churn.lifetimes import _outcomes
from feedback_lib.errors import (
    DataQualityWarning,
    InsufficientDataError,
    ModelFitError,
    NotFittedError,
    ParameterError,
)

__all__ = ["at_risk_accounts", "ChurnModel", "SNAPSHOT_COVARIATES"]

#: Design columns :class:`ChurnModel` builds from a snapshot (``segment`` = one dummy per segment
#: except the first in alphabetical order; ``nps_*`` dummies against promoters).
SNAPSHOT_COVARIATES: tuple[str, ...] = (
    "segment", "nps_detractor", "nps_passive", "nps_none", "nps_trend", "tickets_90d",
    "high_critical_90d", "seat_utilisation", "usage_trend", "log_mrr", "tenure_years",
    "months_since_exec_conversation", "no_exec_conversation",
)


_EXEC_CAP_MONTHS = 12.0  # months since the last executive conversation are capped here
_PH_MAX_EVENTS = 2000  # the PH test runs on a seeded subsample above this many events


class ChurnModel:
    """Landmark Cox model on account snapshots: hazard ratios, PH check and churn probabilities.

    Parameters
    ----------
    covariates
        Subset of :data:`SNAPSHOT_COVARIATES` to use; default all. Missing values are filled as
        documented in ``docs/survival.md`` (no NPS trend or usage trend -> 0, no usage -> the
        training median utilisation, no executive conversation -> 12 months and a flag).
    window_months
        Follow-up after the landmark: the model is fitted on the snapshot taken
        ``window_months`` before the last complete month of ``as_of`` and the churn observed up
        to that month. Probabilities are available for horizons up to this many months.
    penalizer
        L2 penalty passed to lifelines ``CoxPHFitter`` (0 = plain partial likelihood).
    max_rows
        Fit on a seeded random sample of this many accounts, stratified by segment (the same
        share of every segment), when the snapshot is larger; ``None`` fits on all. Hazard
        ratios stay unbiased; intervals widen accordingly (``sample_fraction_`` records it).
    seed
        Seed of the sample.
    confidence
        Level of the hazard-ratio intervals.

    Attributes
    ----------
    fit_ : CoxResult
        The :func:`feedback_lib.fit_cox` result the model rests on (Efron ties).
    cox_ : lifelines.CoxPHFitter
        ``fit_.model``.
    landmark_, as_of_ : Timestamp
        Snapshot date and end of follow-up used by :meth:`fit`.
    snapshot_ : DataFrame
        The landmark covariates of the accounts fitted on (:func:`account_covariates`).
    training_ : DataFrame
        Their design matrix with ``duration`` (months after the landmark month) and ``event``.
    n_, events_ : int
        Accounts and churn events the model was fitted on.
    sample_fraction_ : float
        Share of the landmark snapshot used (1.0 without sampling).
    landmark_accounts_ : int
        Accounts paying at the landmark (before sampling).
    segments_ : list of str
        Segments at the landmark, the reference first (the ``segment_*`` hazard ratios compare
        with it; labels from :func:`covariate_label` name it); empty when segment is left out.
    proportional_hazards_ : DataFrame
        ``covariate, test_statistic, p_value, verdict``: the Grambsch-Therneau test per
        covariate, in words.
    ph_sample_fraction_ : float
        Share of the training accounts the test ran on: a seeded random subsample of about
        2,000 events when there are more (lifelines' residuals are quadratic in the events).

    Notes
    -----
    Landmark analysis (van Houwelingen 2007): covariates measured at the landmark date,
    time = months after the landmark month, so nothing after the landmark leaks into the
    covariates. Cox (1972) proportional hazards with Efron ties via lifelines; proportional
    hazards checked with scaled Schoenfeld residuals against rank-transformed time (Grambsch &
    Therneau 1994, lifelines ``proportional_hazard_test``). The probability of churn within h
    months of a snapshot is ``1 - S0(h) ** exp(x'b)`` from the fitted baseline survival.

    References
    ----------
    van Houwelingen, H. C. (2007). Dynamic prediction by landmarking in event history analysis.
    *Scandinavian Journal of Statistics* 34(1), 70-85.

    Examples
    --------
    >>> import feedback_lib as fl
    >>> ds = fl.generate_demo(seed=3, n_accounts=600, start="2024-01-01", end="2025-12-31")
    >>> m = ChurnModel(window_months=6).fit(ds, as_of="2025-12-31")
    >>> m.landmark_.date(), m.n_ > 0
    (datetime.date(2025, 6, 30), True)
    >>> list(m.summary.columns[:4])
    ['covariate', 'hazard_ratio', 'ci_low', 'ci_high']
    """

    def __init__(
        self,
        *,
        covariates: list[str] | None = None,
        window_months: int = 12,
        penalizer: float = 0.0,
        max_rows: int | None = 200_000,
        seed: int = 0,
        confidence: float = 0.95,
    ) -> None:
        self.covariates = covariates
        self.window_months = window_months
        self.penalizer = penalizer
        self.max_rows = max_rows
        self.seed = seed
        self.confidence = confidence

    def fit(self, dataset, *, as_of) -> ChurnModel:
        """Fit on the landmark snapshot ``window_months`` before the last complete month of ``as_of``.

        Parameters
        ----------
        dataset
            A :class:`feedback_lib.Dataset`.
        as_of
            Last day of history used; nothing later is read.

        Returns
        -------
        ChurnModel
            ``self``, fitted.
        """
        if int(self.window_months) != self.window_months or self.window_months < 1:
            raise ParameterError(f"ChurnModel: window_months must be a whole number >= 1, got {self.window_months!r}")
        as_of = parse_as_of(as_of, where="ChurnModel.fit")
        end_m = last_complete_month(as_of)
        landmark_m = end_m - int(self.window_months)
        landmark = month_end(landmark_m)
        cov = account_covariates(dataset, as_of=landmark)
        if len(cov) == 0:
            raise InsufficientDataError(
                f"ChurnModel.fit: no account was paying at the landmark {landmark.date()} "
                f"({self.window_months} months before {month_end(end_m).date()}); pass a later "
                "as_of or a shorter window_months."
            )
        duration, event = _outcomes(dataset, cov["account_id"], start_m=landmark_m, end_m=end_m, as_of=as_of)
        self.landmark_accounts_ = len(cov)
        cov, duration, event, self.sample_fraction_ = _sample(
            cov, duration, event, max_rows=self.max_rows, seed=self.seed
        )
        self.spec_ = _DesignSpec.from_training(cov, self.covariates)
        design = self.spec_.transform(cov)
        constant = [c for c in design.columns if design[c].nunique() <= 1]
        if constant:
            warnings.warn(
                f"ChurnModel.fit: covariate(s) {constant} do not vary at the landmark and are left out.",
                DataQualityWarning,
                stacklevel=2,
            )
        design = design.drop(columns=constant)
        self.dropped_covariates_ = constant
        train = design.assign(duration=duration, event=event)
        _check_events(int(event.sum()), where="ChurnModel.fit")
        try:
            self.fit_ = fit_cox(train, duration_col="duration", event_col="event", penalizer=self.penalizer,
                                confidence=self.confidence, ph_test=False)
        except ModelFitError as exc:
            raise ModelFitError(f"ChurnModel.fit: {exc}".replace("fit_cox: ", "")) from exc
        self.cox_ = self.fit_.model
        self.landmark_, self.as_of_ = landmark, as_of
        self.snapshot_, self.training_ = cov, train
        self.n_, self.events_ = len(train), int(event.sum())
        self.proportional_hazards_, self.ph_sample_fraction_ = self._ph_check(train)
        return self

    def _ph_check(self, train: pd.DataFrame) -> tuple[pd.DataFrame, float]:
        """Grambsch-Therneau test; on a seeded subsample of accounts above ``_PH_MAX_EVENTS`` events.

        lifelines computes Schoenfeld residuals in time quadratic in the number of events, so a
        diagnostic on 2,000 events (ample power) stands in for one on 100,000.
        """
        events = int(train["event"].sum())
        if events <= _PH_MAX_EVENTS:
            return _ph_table(self.cox_, train), 1.0
        frac = _PH_MAX_EVENTS / events
        keep = np.random.default_rng(self.seed).random(len(train)) < frac
        sub = train.loc[keep]
        cox = fit_cox(sub, duration_col="duration", event_col="event", penalizer=self.penalizer,
                      confidence=self.confidence, ph_test=False).model
        return _ph_table(cox, sub), frac

    @property
    def summary(self) -> pd.DataFrame:
        """Hazard ratios with intervals, p-values and the proportional-hazards verdict per covariate."""
        self._check_fitted()
        table = _hr_table(self.cox_.summary, self.confidence)
        ph = self.proportional_hazards_.set_index("covariate")
        table["ph_p_value"] = ph["p_value"].reindex(table["covariate"]).to_numpy()
        table["ph_verdict"] = ph["verdict"].reindex(table["covariate"]).to_numpy()
        return table.assign(n=self.n_, events=self.events_)

    def predict_churn_probability(self, covariates: pd.DataFrame, *, horizon_months: int = 3) -> pd.Series:
        """Probability of churning within ``horizon_months`` after the snapshot's month.

        Parameters
        ----------
        covariates
            A snapshot from :func:`feedback_lib.account_covariates`.
        horizon_months
            Months ahead, 1..``window_months``.

        Returns
        -------
        Series
            Indexed by ``account_id``, named ``churn_probability``.
        """
        self._check_fitted()
        if int(horizon_months) != horizon_months or not 1 <= horizon_months <= self.window_months:
            raise ParameterError(
                f"horizon_months must be a whole number from 1 to window_months = {self.window_months} "
                f"(the follow-up the model was fitted on), got {horizon_months!r}"
            )
        x = self.spec_.transform(covariates).drop(columns=self.dropped_covariates_)
        # lifelines' predict_survival_function, without its per-call DataFrame conversions:
        # S(h | x) = exp(-H0(h) exp((x - mean) b)), H0 interpolated linearly as lifelines does
        log_hazard = self.cox_.predict_log_partial_hazard(x[self.cox_.params_.index].to_numpy(dtype=float))
        baseline = self.cox_.baseline_cumulative_hazard_.iloc[:, 0]
        h0 = np.interp(float(horizon_months), baseline.index.to_numpy(dtype=float), baseline.to_numpy())
        p = -np.expm1(-h0 * np.exp(log_hazard.to_numpy()))
        return pd.Series(p, index=pd.Index(covariates["account_id"], name="account_id"), name="churn_probability")

    def predict_at_risk(self, dataset, *, as_of, horizon_months: int = 3) -> pd.DataFrame:
        """Accounts paying at ``as_of`` ranked by MRR at risk in the next ``horizon_months``.

        Returns
        -------
        DataFrame
            ``rank, account_id, segment, mrr, churn_probability, mrr_at_risk, main_driver, main_driver_label,
            nps_category, tickets_90d, seat_utilisation, tenure_months,
            days_since_exec_conversation``, sorted by ``mrr_at_risk`` (probability * MRR)
            descending. ``main_driver`` is the covariate that raises the account's hazard most
            relative to the average training account.
        """
        cov = account_covariates(dataset, as_of=as_of)
        if len(cov) == 0:
            raise InsufficientDataError(f"predict_at_risk: no account is paying at {parse_as_of(as_of, where='predict_at_risk').date()}.")
        prob = self.predict_churn_probability(cov, horizon_months=horizon_months).to_numpy()
        x = self.spec_.transform(cov).drop(columns=self.dropped_covariates_)
        beta = self.cox_.params_.reindex(x.columns).to_numpy()
        lift = (x.to_numpy(dtype=float) - self.training_[x.columns].mean().to_numpy()) * beta
        out = cov.assign(
            churn_probability=prob,
            mrr_at_risk=prob * cov["mrr"].to_numpy(),
            main_driver=np.where(lift.max(axis=1) > 0, x.columns.to_numpy()[lift.argmax(axis=1)], "none"),
            main_driver_label=np.where(
                lift.max(axis=1) > 0,
                np.array([self._label(c) for c in x.columns], dtype=object)[lift.argmax(axis=1)],
                "none",
            ),
        )
        cols = ["account_id", "segment", "mrr", "churn_probability", "mrr_at_risk", "main_driver", "main_driver_label",
                "nps_category", "tickets_90d", "seat_utilisation", "tenure_months",
                "days_since_exec_conversation"]
        out = out.sort_values(["mrr_at_risk", "account_id"], ascending=[False, True], ignore_index=True)[cols]
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        return out

    def hazard_ratio(self, covariate: str) -> pd.Series:
        """``hazard_ratio, ci_low, ci_high, p_value`` of one covariate; NaN when the model left it out."""
        self._check_fitted()
        table = self.summary.set_index("covariate")
        cols = ["hazard_ratio", "ci_low", "ci_high", "p_value"]
        if covariate in table.index:
            return table.loc[covariate, cols].astype(float)
        return pd.Series(np.nan, index=cols, name=covariate)

    def headline(self) -> str:
        """A short takeaway title from whatever covariates the model kept (for a slide).

        The detractor-vs-promoter hazard ratio when the model has it, else the covariate with
        the smallest p-value.

        Examples
        --------
        >>> import feedback_lib as fl
        >>> ds = fl.generate_demo(seed=3, n_accounts=600, start="2024-01-01", end="2025-12-31")
        >>> fl.ChurnModel(window_months=6).fit(ds, as_of="2025-12-31").headline()  # doctest: +ELLIPSIS
        '...churn...'
        """
        self._check_fitted()
        table = self.summary.set_index("covariate")
        if "nps_detractor" in table.index:
            return f"Detractors churn {table.at['nps_detractor', 'hazard_ratio']:.1f}x as fast as promoters"
        top = table["p_value"].idxmin()
        return f"Strongest churn driver: {self._label(top)} (hazard ratio {table.at[top, 'hazard_ratio']:.2f})"

    def describe(self) -> str:
        """One or two sentences on the churn drivers, generated from the fitted hazard ratios.

        Says which covariates were left out because they did not vary at the landmark (for
        example seat utilisation when no usage history reaches back that far), and that the
        model rests on a sample of the landmark accounts when ``max_rows`` cut it.
        """
        self._check_fitted()
        table = self.summary.set_index("covariate")
        parts = []
        if "nps_detractor" in table.index:
            r = table.loc["nps_detractor"]
            parts.append(
                f"An account whose latest NPS is a detractor churns {r['hazard_ratio']:.1f}x as fast as a "
                f"promoter ({r['ci_low']:.1f} to {r['ci_high']:.1f}, p = {r['p_value']:.3f}), other things equal"
            )
        if "seat_utilisation" in table.index:
            parts.append(
                f"full seat use goes with {table.at['seat_utilisation', 'hazard_ratio']:.0%} of the churn "
                "hazard of zero use"
            )
        if not parts:
            top = table["p_value"].idxmin()
            parts.append(
                f"the strongest driver is {self._label(top)} (hazard ratio "
                f"{table.at[top, 'hazard_ratio']:.2f}, p = {table.at[top, 'p_value']:.3f})"
            )
        text = "; ".join(parts) + "."
        text = text[0].upper() + text[1:]
        if self.dropped_covariates_:
            left_out = ", ".join(self._label(c) for c in self.dropped_covariates_)
            text += f" Left out because they did not vary across accounts on {self.landmark_:%d %b %Y}: {left_out}."
        if self.sample_fraction_ < 1:
            text += (f" Fitted on a seeded sample of {self.n_:,} of the {self.landmark_accounts_:,} accounts paying on "
                     f"{self.landmark_:%d %b %Y} ({self.sample_fraction_:.0%} of every segment), which keeps the Cox fit "
                     "fast; the intervals reflect the sample.")
        return text

    def plot_forest(self, *, ax=None):
        """Forest plot of the hazard ratios with their intervals (log scale); returns the Axes."""
        self._check_fitted()
        return _forest(
            self.summary, ax=ax, segments=self.segments_,
            title=f"Churn hazard ratios at {self.landmark_.date()} (n={self.n_:,}, events={self.events_:,})",
        )

    @property
    def segments_(self) -> list[str]:
        """Segments at the landmark, the reference first (the first in sort order; the
        ``segment_*`` hazard ratios compare with it); empty when segment is not a covariate."""
        self._check_fitted()
        return [] if self.spec_.reference is None else [self.spec_.reference, *self.spec_.segments]

    def _label(self, covariate: str) -> str:
        return covariate_label(covariate, segments=self.segments_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "cox_"):
            raise NotFittedError("ChurnModel is not fitted yet; call fit(dataset, as_of=...) first.")


def at_risk_accounts(dataset, *, as_of, horizon_months: int = 3, window_months: int = 12) -> pd.DataFrame:
    """Fit a :class:`ChurnModel` on the history up to ``as_of`` and rank today's accounts by MRR at risk.

    Returns
    -------
    DataFrame
        As :meth:`ChurnModel.predict_at_risk`.

    Examples
    --------
    >>> import feedback_lib as fl
    >>> ds = fl.generate_demo(seed=3, n_accounts=600, start="2024-01-01", end="2025-12-31")
    >>> top = at_risk_accounts(ds, as_of="2025-12-31", window_months=6).head(3)
    >>> bool(top["mrr_at_risk"].is_monotonic_decreasing)
    True
    """
    model = ChurnModel(window_months=window_months).fit(dataset, as_of=as_of)
    return model.predict_at_risk(dataset, as_of=as_of, horizon_months=horizon_months)


def _is(column: pd.Series, value: str) -> np.ndarray:
    """1.0 where a text or categorical column equals ``value``, else 0.0 (missing -> 0.0)."""
    return column.eq(value).fillna(False).to_numpy(dtype=float)


class _DesignSpec:
    """How a snapshot becomes the numeric design matrix (fixed on the training snapshot)."""

    def __init__(self, reference: str | None, segments: list[str], utilisation_fill: float, columns: list[str]) -> None:
        self.reference = reference  # the segment without a dummy (None when segment is not a covariate)
        self.segments = segments  # the non-reference segments
        self.utilisation_fill = utilisation_fill
        self.columns = columns

    @classmethod
    def from_training(cls, cov: pd.DataFrame, covariates: list[str] | None) -> _DesignSpec:
        wanted = list(SNAPSHOT_COVARIATES) if covariates is None else list(covariates)
        unknown = sorted(set(wanted) - set(SNAPSHOT_COVARIATES))
        if unknown or not wanted:
            raise ParameterError(
                f"ChurnModel: unknown covariate(s) {unknown}; choose from {list(SNAPSHOT_COVARIATES)}"
            )
        segs = sorted(cov["segment"].astype(str).unique())
        fill = float(np.nanmedian(cov["seat_utilisation"])) if cov["seat_utilisation"].notna().any() else 0.0
        columns = []
        for name in wanted:
            columns += [f"segment_{_slug(s)}" for s in segs[1:]] if name == "segment" else [name]
        return cls(segs[0] if "segment" in wanted and segs else None, segs[1:], fill, columns)

    def transform(self, cov: pd.DataFrame) -> pd.DataFrame:
        months = cov["days_since_exec_conversation"].to_numpy(dtype=float) / 30.4375
        x = {f"segment_{_slug(s)}": _is(cov["segment"], s) for s in self.segments}
        x.update(
            nps_detractor=_is(cov["nps_category"], "detractor"),
            nps_passive=_is(cov["nps_category"], "passive"),
            nps_none=_is(cov["nps_category"], "none"),
            nps_trend=np.nan_to_num(cov["nps_trend"].to_numpy(dtype=float)),
            tickets_90d=cov["tickets_90d"].to_numpy(dtype=float),
            high_critical_90d=cov["high_critical_90d"].to_numpy(dtype=float),
            seat_utilisation=np.nan_to_num(cov["seat_utilisation"].to_numpy(dtype=float), nan=self.utilisation_fill),
            usage_trend=np.nan_to_num(cov["usage_trend"].to_numpy(dtype=float)),
            log_mrr=np.log(cov["mrr"].to_numpy(dtype=float)),
            tenure_years=cov["tenure_months"].to_numpy(dtype=float) / 12,
            months_since_exec_conversation=np.minimum(np.nan_to_num(months, nan=_EXEC_CAP_MONTHS), _EXEC_CAP_MONTHS),
            no_exec_conversation=(~cov["exec_conversation"].to_numpy(dtype=bool)).astype(float),
        )
        return pd.DataFrame(x, index=cov.index)[self.columns]
