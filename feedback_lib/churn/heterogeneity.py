"""Heterogeneous churn: customer lifetimes under the shifted-beta-geometric (sBG) model.

When customers differ in their churn probability, the ones who stay are the loyal ones and the
retention rate of a cohort rises with tenure. A constant-churn model with the same first-year
retention then undervalues the cohort (Fader & Hardie 2010, "The perils of ignoring
heterogeneity"). This module computes both lifetimes in closed form; it takes ``alpha``/``beta``
numbers (or any object with ``.alpha``/``.beta``, such as :func:`feedback_lib.fit_sbg`'s result).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy.special import betaln, hyp2f1

from feedback_lib.errors import ParameterError

__all__ = ["discounted_expected_lifetime", "discounted_expected_residual_lifetime", "heterogeneity_check", "HeterogeneityCheck"]


def _check_sbg(where: str, alpha: float, beta: float, discount_rate: float) -> None:
    if not (alpha > 0 and beta > 0 and math.isfinite(alpha) and math.isfinite(beta)):
        raise ParameterError(f"{where}: alpha and beta must be finite and > 0, got {alpha!r}, {beta!r}")
    if not discount_rate >= 0:
        raise ParameterError(f"{where}: discount_rate must be >= 0 per period, got {discount_rate!r}")
    if discount_rate == 0 and alpha <= 1:
        raise ParameterError(
            f"{where}: with discount_rate = 0 the expected lifetime is infinite for alpha <= 1 "
            f"(alpha = {alpha:g}); use a positive discount_rate"
        )


def _sbg_survival(t: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """S(t) = B(alpha, beta + t) / B(alpha, beta): share of a cohort alive after t renewals."""
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def _hyp2f1_1(b: float, c: float, z: float) -> float:
    """Gauss 2F1(1, b; c; z) for 0 < z <= 1 and c > b > 0: sum_k (b)_k / (c)_k z^k.

    Summed directly (terms shrink at least as fast as z^k) instead of ``scipy.special.hyp2f1``,
    which returns NaN for large b and c (alpha, beta in the thousands: the near-geometric case).
    At z = 1 the closed form (c - 1) / (c - b - 1), finite for c - b > 1, is used.
    """
    if z == 1.0:
        return (c - 1.0) / (c - b - 1.0) if c - b > 1.0 else math.inf
    n_terms = int(math.ceil(math.log(1e-18) / math.log(z))) + 1
    if n_terms > 2_000_000:  # discount rates below about 0.002% a period
        return float(hyp2f1(1.0, b, c, z))
    j = np.arange(n_terms - 1, dtype=float)
    log_terms = np.concatenate(([0.0], np.cumsum(np.log((b + j) / (c + j)) + math.log(z))))
    return float(np.exp(log_terms).sum())


def discounted_expected_residual_lifetime(
    *, alpha: float, beta: float, discount_rate: float, renewals: int = 0
) -> float:
    """DERL of an sBG customer who has made ``renewals`` renewals (Fader & Hardie 2010).

    Parameters
    ----------
    alpha, beta
        sBG parameters: churn probabilities follow Beta(alpha, beta) across customers.
    discount_rate
        Discount rate per period (the period of the renewals, e.g. a year).
    renewals
        Renewals made so far (``n - 1`` in the paper: the customer is at the end of period ``n``).

    Returns
    -------
    float
        Expected number of further payments, each discounted to the renewal decision now due.

    Notes
    -----
    With survival ``S(t) = B(alpha, beta + t) / B(alpha, beta)`` and ``n = renewals + 1``,
    ``DERL = sum_{t >= n} [S(t) / S(n - 1)] / (1 + d)^(t - n)
    = (beta + n - 1) / (alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))``
    (Fader & Hardie 2010). For constant churn ``c`` (retention ``r = 1 - c``) the sum
    is geometric: ``DERL = r (1 + d) / (d + c)`` at every tenure.

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
    perils of ignoring heterogeneity. *Marketing Science* 29(1), 85-93.

    Examples
    --------
    >>> round(discounted_expected_residual_lifetime(alpha=3.80, beta=15.20, discount_rate=0.1), 2)
    3.31
    """
    where = "discounted_expected_residual_lifetime"
    _check_sbg(where, alpha, beta, discount_rate)
    if int(renewals) != renewals or renewals < 0:
        raise ParameterError(f"{where}: renewals must be a whole number >= 0, got {renewals!r}")
    n = int(renewals) + 1
    z = 1.0 / (1.0 + discount_rate)
    return float((beta + n - 1) / (alpha + beta + n - 1) * _hyp2f1_1(beta + n, alpha + beta + n, z))


def discounted_expected_lifetime(*, alpha: float, beta: float, discount_rate: float) -> float:
    """Discounted expected lifetime of a newly acquired sBG customer, first payment included.

    Notes
    -----
    ``DEL = sum_{t >= 0} S(t) / (1 + d)^t = 2F1(1, beta; alpha + beta; 1 / (1 + d))
    = 1 + DERL(renewals = 0) / (1 + d)``: the payment made at acquisition plus the discounted
    payments of later periods. Constant churn ``c``: ``DEL = (1 + d) / (d + c)``, which with
    ``d = 0`` is the undiscounted expected lifetime ``1 / c`` periods.

    Examples
    --------
    >>> round(discounted_expected_lifetime(alpha=1e6, beta=4e6, discount_rate=0.1), 4)  # ~1.1/0.3
    3.6667
    """
    _check_sbg("discounted_expected_lifetime", alpha, beta, discount_rate)
    return _hyp2f1_1(beta, alpha + beta, 1.0 / (1.0 + discount_rate))


@dataclass(frozen=True)
class HeterogeneityCheck:
    """sBG cohort lifetimes against a constant-churn model with the same first-year retention.

    Attributes
    ----------
    alpha, beta, discount_rate
        Inputs.
    first_year_retention
        ``beta / (alpha + beta)``: the share renewing at the first renewal, used as the constant
        retention rate of the comparison model.
    lifetime_sbg, lifetime_constant
        Discounted expected lifetime of a new customer (:func:`discounted_expected_lifetime`)
        under sBG and under constant churn ``1 - first_year_retention``.
    undervaluation
        ``1 - lifetime_constant / lifetime_sbg``: the share of a new cohort's value that ignoring
        heterogeneity leaves out (value = payment per period * margin * lifetime).
    by_tenure
        One row per ``renewals`` (0 ..): ``renewals, retention_rate`` (sBG share renewing at the
        next renewal), ``derl_sbg, derl_constant, undervaluation``.
    """

    alpha: float
    beta: float
    discount_rate: float
    first_year_retention: float
    lifetime_sbg: float
    lifetime_constant: float
    undervaluation: float
    by_tenure: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The ``by_tenure`` table."""
        return self.by_tenure.copy()

    def describe(self) -> str:
        """One sentence: the two lifetimes and the undervaluation."""
        return (
            f"With {self.first_year_retention:.0%} first-year retention (sBG alpha {self.alpha:.3g}, "
            f"beta {self.beta:.3g}), a constant-churn model credits a new customer with "
            f"{self.lifetime_constant:.2f} discounted payments against {self.lifetime_sbg:.2f} under sBG: "
            f"ignoring heterogeneity undervalues the cohort by {self.undervaluation:.0%} at a "
            f"{self.discount_rate:.0%} discount rate."
        )

    def summary(self) -> dict:
        """The scalar fields as a dict."""
        out = asdict(self)
        out.pop("by_tenure")
        return out


def heterogeneity_check(
    model: object | None = None,
    *,
    alpha: float | None = None,
    beta: float | None = None,
    discount_rate: float,
    max_renewals: int = 4,
) -> HeterogeneityCheck:
    """Quantify how much a constant-churn model undervalues an sBG cohort.

    Parameters
    ----------
    model
        An object with ``.alpha`` and ``.beta`` (e.g. ``fl.fit_sbg(...)``); or give ``alpha`` and
        ``beta`` instead.
    alpha, beta
        sBG parameters (when ``model`` is not given).
    discount_rate
        Discount rate per period.
    max_renewals
        Last tenure (in renewals made) of the ``by_tenure`` table.

    Returns
    -------
    HeterogeneityCheck

    Notes
    -----
    The comparison model uses the constant retention ``r = beta / (alpha + beta)``, the sBG
    first-period retention (the mean of ``1 - theta``). Its lifetimes are memoryless:
    ``DEL = (1 + d) / (d + 1 - r)`` and ``DERL = r (1 + d) / (d + 1 - r)`` at every tenure,
    whereas the sBG retention rate ``(beta + n - 1) / (alpha + beta + n - 1)`` rises with tenure
    ``n``. Fader & Hardie (2010) show the gap grows with the polarization
    ``1 / (alpha + beta + 1)``. As ``alpha, beta -> inf`` at a fixed mean the sBG tends to
    the geometric model and the gap to 0.

    Examples
    --------
    >>> h = heterogeneity_check(alpha=1 / 15, beta=4 / 15, discount_rate=0.1)
    >>> round(h.first_year_retention, 2), round(h.undervaluation, 2)
    (0.8, 0.54)
    """
    if model is not None:
        if alpha is not None or beta is not None:
            raise ParameterError("heterogeneity_check: give either model or alpha and beta, not both")
        alpha, beta = float(cast(Any, model).alpha), float(cast(Any, model).beta)
    if alpha is None or beta is None:
        raise ParameterError("heterogeneity_check: give model (with .alpha/.beta) or both alpha and beta")
    if int(max_renewals) != max_renewals or max_renewals < 0:
        raise ParameterError(f"heterogeneity_check: max_renewals must be a whole number >= 0, got {max_renewals!r}")
    d = discount_rate
    life_sbg = discounted_expected_lifetime(alpha=alpha, beta=beta, discount_rate=d)
    r = beta / (alpha + beta)
    life_const = (1 + d) / (d + 1 - r)
    derl_const = r * (1 + d) / (d + 1 - r)
    renewals = np.arange(int(max_renewals) + 1)
    derl_sbg = np.array(
        [discounted_expected_residual_lifetime(alpha=alpha, beta=beta, discount_rate=d, renewals=int(n))
         for n in renewals]
    )
    surv = _sbg_survival(np.arange(int(max_renewals) + 2), alpha, beta)
    by_tenure = pd.DataFrame(
        {
            "renewals": renewals,
            "retention_rate": surv[1:] / surv[:-1],
            "derl_sbg": derl_sbg,
            "derl_constant": derl_const,
            "undervaluation": 1.0 - derl_const / derl_sbg,
        }
    )
    return HeterogeneityCheck(
        alpha=float(alpha),
        beta=float(beta),
        discount_rate=float(d),
        first_year_retention=float(r),
        lifetime_sbg=life_sbg,
        lifetime_constant=float(life_const),
        undervaluation=float(1.0 - life_const / life_sbg),
        by_tenure=by_tenure,
    )
