"""A Cox proportional-hazards fit over any frame: ``fit_cox`` and its ``CoxResult``.

The analyst's own survival questions (and :class:`feedback_lib.ChurnModel`, which builds its design
matrix and calls :func:`fit_cox`): any duration and event columns, any numeric covariates,
optional strata, Efron or Breslow ties, model-based or robust (sandwich) standard errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib.errors import InsufficientDataError, ModelFitError, ParameterError, SchemaError

__all__ = ["CoxResult", "fit_cox"]

_TIES = ("efron", "breslow")


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model.

    Attributes
    ----------
    summary : DataFrame
        Indexed by covariate: ``coef, se, hazard_ratio, ci_low, ci_high, z, p`` (``ci_*`` are the
        hazard ratio's interval at ``confidence``).
    concordance : float
        Harrell's C of the linear predictor (0.5 = no better than chance).
    proportional_hazards : DataFrame or None
        ``covariate, test_statistic, p_value``: the Grambsch-Therneau test per covariate
        (scaled Schoenfeld residuals against rank-transformed time); ``None`` when not asked for.
    n, events : int
        Rows fitted and events among them.
    log_likelihood : float
        Maximised log partial likelihood.
    ties, robust, strata, confidence
        How it was fitted.
    model : object
        The underlying fitter: a lifelines ``CoxPHFitter`` (Efron ties) or a statsmodels
        ``PHRegResults`` (Breslow ties), for plots and predictions.
    """

    summary: pd.DataFrame
    concordance: float
    proportional_hazards: pd.DataFrame | None
    n: int
    events: int
    log_likelihood: float
    ties: str
    robust: bool
    strata: tuple[str, ...]
    confidence: float
    model: Any

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table with the covariate as a column and the PH test's p-value."""
        out = self.summary.reset_index()
        if self.proportional_hazards is not None:
            ph = self.proportional_hazards.set_index("covariate")["p_value"]
            out["ph_p_value"] = ph.reindex(out["covariate"]).to_numpy()
        return out


def fit_cox(
    frame: pd.DataFrame,
    *,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str] | None = None,
    strata: str | Sequence[str] | None = None,
    ties: str = "efron",
    robust: bool = False,
    confidence: float = 0.95,
    penalizer: float = 0.0,
    ph_test: bool = True,
) -> CoxResult:
    """Fit a Cox proportional-hazards model to any frame with one row per subject.

    Parameters
    ----------
    frame
        One row per subject: ``duration_col`` (time to event or censoring, >= 0), ``event_col``
        (1/True = event, 0/False = censored), numeric covariates and the ``strata`` columns.
    duration_col, event_col
        Names of the time and event columns.
    covariates
        Columns to model; default every column except duration, event and strata. They must be
        numeric without missing values (encode categories as 0/1 dummies first).
    strata
        Column(s) whose every level gets its own baseline hazard (R ``strata()``).
    ties
        ``"efron"`` (R's default, via lifelines) or ``"breslow"`` (SAS's and Stata's default, via
        statsmodels ``PHReg``).
    robust
        Sandwich (Lin-Wei) standard errors, R ``coxph(..., robust = TRUE)``, one cluster per row.
    confidence
        Level of the hazard-ratio intervals.
    penalizer
        L2 penalty on the coefficients (Efron ties only; 0 = plain partial likelihood).
    ph_test
        Run the Grambsch-Therneau proportional-hazards test (lifelines
        ``proportional_hazard_test``, rank time transform). With Breslow ties it is run on the
        Efron fit of the same data (the two differ only in how tied times are shared).

    Returns
    -------
    CoxResult

    Notes
    -----
    Cox (1972): h(t | x) = h0(t) exp(x'b), b maximising the partial likelihood; with tied event
    times Breslow (1974) keeps the full risk set for every tied event, Efron (1977) removes the
    tied events' average share of it. Wald intervals exp(b -+ z se); p from z = b / se. Harrell's
    concordance counts pairs ordered as the model predicts. Tested against R ``coxph`` on the
    Rossi et al. (1980) recidivism data (Fox & Weisberg, *An R Companion to Applied Regression*,
    appendix "Cox Proportional-Hazards Regression for Survival Data").

    Examples
    --------
    >>> df = pd.DataFrame({"t": [5, 6, 6, 2, 4, 4, 8, 9, 3, 7], "e": [1, 0, 1, 1, 1, 0, 1, 1, 1, 0],
    ...                    "x": [0, 0, 1, 1, 1, 0, 0, 0, 1, 1]})
    >>> res = fit_cox(df, duration_col="t", event_col="e", ph_test=False)
    >>> list(res.summary.columns[:6]), res.n, res.events
    (['coef', 'se', 'hazard_ratio', 'ci_low', 'ci_high', 'z'], 10, 7)
    """
    if ties not in _TIES:
        raise ParameterError(f"fit_cox: ties must be one of {list(_TIES)}, got {ties!r}")
    if not 0 < confidence < 1:
        raise ParameterError(f"fit_cox: confidence must be between 0 and 1, got {confidence!r}")
    if ties == "breslow" and penalizer:
        raise ParameterError("fit_cox: penalizer is only available with ties='efron'")
    strata_cols = (strata,) if isinstance(strata, str) else tuple(strata or ())
    require_columns(frame, (duration_col, event_col, *strata_cols), table="frame", where="fit_cox")
    if covariates is None:
        covariates = [c for c in frame.columns if c not in {duration_col, event_col, *strata_cols}]
    covariates = list(covariates)
    require_columns(frame, covariates, table="frame", where="fit_cox")
    if not covariates:
        raise ParameterError("fit_cox: no covariates to fit; pass covariates=[...]")
    data = _checked(frame, duration_col, event_col, covariates, strata_cols)
    events = int(data[event_col].sum())
    if events == 0:
        raise InsufficientDataError(f"fit_cox: {event_col} has no events among {len(data)} rows; "
                                    "hazard ratios are not defined.")
    efron: Any = None
    if ties == "efron" or ph_test:
        efron = _lifelines_fit(data, duration_col, event_col, strata_cols, robust, confidence, penalizer)
    if ties == "efron":
        model, table, loglik = efron, _lifelines_table(efron), float(efron.log_likelihood_)
        concordance = float(efron.concordance_index_)
    else:
        model, table, loglik, concordance = _breslow_fit(data, duration_col, event_col, covariates,
                                                         strata_cols, robust)
    z = _z(confidence)
    table = table.assign(hazard_ratio=np.exp(table["coef"]), ci_low=np.exp(table["coef"] - z * table["se"]),
                         ci_high=np.exp(table["coef"] + z * table["se"]))
    table = table[["coef", "se", "hazard_ratio", "ci_low", "ci_high", "z", "p"]]
    table.index.name = "covariate"
    ph = _ph_test(efron, data) if ph_test else None
    return CoxResult(summary=table, concordance=concordance, proportional_hazards=ph, n=len(data),
                     events=events, log_likelihood=loglik, ties=ties, robust=robust, strata=strata_cols,
                     confidence=confidence, model=model)


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _checked(frame, duration_col, event_col, covariates, strata_cols) -> pd.DataFrame:
    """The columns fitted on, after the checks of the data contract (rows 1-based)."""
    data = frame[[duration_col, event_col, *covariates, *strata_cols]].reset_index(drop=True)
    for col in (duration_col, event_col, *covariates):
        if not (pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col])):
            raise SchemaError(f"fit_cox: column {col!r} is not numeric (dtype {data[col].dtype}; e.g. "
                              f"{data[col].iloc[0]!r}); encode categories as 0/1 dummies or pass strata=")
        bad = np.flatnonzero(data[col].isna().to_numpy())
        if len(bad):
            raise SchemaError(f"fit_cox: column {col!r} has {len(bad)} missing values (rows "
                              f"{(bad[:5] + 1).tolist()}); drop or fill them first")
    duration = data[duration_col].to_numpy(dtype=float)
    bad = np.flatnonzero(duration < 0)
    if len(bad):
        raise SchemaError(f"fit_cox: column {duration_col!r} must be >= 0; rows {(bad[:5] + 1).tolist()} "
                          f"break it (e.g. {duration[bad[0]]!r})")
    event = data[event_col].to_numpy(dtype=float)
    bad = np.flatnonzero((event != 0) & (event != 1))
    if len(bad):
        raise SchemaError(f"fit_cox: column {event_col!r} must be 0/1 or bool; rows {(bad[:5] + 1).tolist()} "
                          f"break it (e.g. {event[bad[0]]!r})")
    return data.astype({event_col: int})


def _lifelines_fit(data, duration_col, event_col, strata_cols, robust, confidence, penalizer):
    from lifelines import CoxPHFitter  # lifelines loads in ~1 s: only when a model is fitted
    from lifelines.exceptions import ConvergenceError

    try:
        return CoxPHFitter(penalizer=penalizer, alpha=1 - confidence, strata=list(strata_cols) or None).fit(
            data, duration_col=duration_col, event_col=event_col, robust=robust
        )
    except ConvergenceError as exc:
        raise ModelFitError(
            f"fit_cox: the Cox fit did not converge ({exc.__class__.__name__}); a covariate probably "
            "separates events perfectly or two covariates are collinear. Retry with penalizer=0.01."
        ) from exc


def _lifelines_table(cox) -> pd.DataFrame:
    s = cox.summary
    return pd.DataFrame({"coef": s["coef"], "se": s["se(coef)"], "z": s["z"], "p": s["p"]})


def _breslow_fit(data, duration_col, event_col, covariates, strata_cols, robust):
    """Breslow ties via statsmodels PHReg; robust = the sandwich with one cluster per row."""
    from lifelines.utils import concordance_index
    from statsmodels.duration.hazard_regression import PHReg

    strata = None
    if strata_cols:
        strata = pd.factorize(pd.MultiIndex.from_frame(data[list(strata_cols)].astype(str)))[0]
    x = data[covariates].astype(float)
    model = PHReg(data[duration_col].to_numpy(float), x, status=data[event_col].to_numpy(),
                  strata=strata, ties="breslow")
    res = model.fit()
    cov = res.cov_params()
    if robust:  # Lin & Wei (1989) sandwich I^-1 (R'R) I^-1 over the score residuals R, one cluster per row
        # (PHReg's own groups= path returns NaN when the last risk set holds one subject; that
        # subject's residual is 0/0 there and contributes nothing)
        resid = np.nan_to_num(model.score_residuals(res.params))
        cov = cov @ (resid.T @ resid) @ cov
    se = np.sqrt(np.diag(cov))
    if not np.all(np.isfinite(se)):
        raise ModelFitError("fit_cox: the Breslow fit has undefined standard errors; a covariate probably "
                            "separates events perfectly or two covariates are collinear.")
    z = res.params / se
    from scipy.stats import norm

    table = pd.DataFrame({"coef": res.params, "se": se, "z": z, "p": 2 * norm.sf(np.abs(z))},
                         index=pd.Index(covariates))
    risk = x.to_numpy() @ res.params
    if strata is None:
        c = concordance_index(data[duration_col], -risk, data[event_col])
    else:  # pairs within a stratum only, as R does
        c = _stratified_concordance(data[duration_col].to_numpy(float), risk, data[event_col].to_numpy(), strata)
    return res, table, float(res.llf), float(c)


def _stratified_concordance(duration, risk, event, strata) -> float:
    from lifelines.utils.concordance import _concordance_summary_statistics

    num = den = 0.0
    for s in np.unique(strata):  # a handful of strata
        m = strata == s
        correct, ties, pairs = _concordance_summary_statistics(duration[m], -risk[m], event[m])
        num, den = num + correct + ties / 2, den + pairs
    return num / den if den else float("nan")


def _ph_test(cox, data) -> pd.DataFrame:
    from lifelines.statistics import proportional_hazard_test

    test = proportional_hazard_test(cox, data, time_transform="rank").summary
    covariate = [i if isinstance(i, str) else i[-1] for i in test.index]
    return pd.DataFrame({"covariate": covariate, "test_statistic": test["test_statistic"].to_numpy(float),
                         "p_value": test["p"].to_numpy(float)})
