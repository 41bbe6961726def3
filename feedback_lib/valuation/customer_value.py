"""Value of a customer base with constant churn: the perpetuity and its finite-horizon sum.

Both functions price the same stream: a base paying ``mrr`` per month now, losing ``churn`` of its
revenue a year, expanding by ``growth`` a year, discounted at ``discount_rate`` a year and earning
``margin`` on each dollar. They are the "customer-base value" model of ``docs/valuation.md``.
"""

from __future__ import annotations

import math

from feedback_lib.errors import ParameterError

__all__ = ["customer_base_value", "customer_base_value_finite"]


def _check_rates(where: str, *, churn: float, discount_rate: float, growth: float, margin: float) -> None:
    if not 0 <= churn <= 1:
        raise ParameterError(f"{where}: churn must be an annual share between 0 and 1, got {churn!r}")
    if not discount_rate > -1:
        raise ParameterError(f"{where}: discount_rate must be above -1 (a yearly rate), got {discount_rate!r}")
    if not growth > -1:
        raise ParameterError(f"{where}: growth must be above -1 (a yearly rate), got {growth!r}")
    if not 0 <= margin <= 1:
        raise ParameterError(f"{where}: margin must be a share between 0 and 1, got {margin!r}")


def _net_decay(churn: float, discount_rate: float, growth: float) -> float:
    """``churn + discount_rate - growth``, rounded to 12 decimals so that 0.10 + 0.05 - 0.15 is 0."""
    return round(churn + discount_rate - growth, 12) + 0.0


def _check_mrr(where: str, mrr: float) -> None:
    if not (math.isfinite(mrr) and mrr >= 0):
        raise ParameterError(f"{where}: mrr must be a finite amount >= 0 per month, got {mrr!r}")


def customer_base_value(
    mrr: float,
    *,
    churn: float,
    discount_rate: float = 0.0,
    growth: float = 0.0,
    margin: float = 1.0,
) -> float:
    """Present value, in perpetuity, of a customer base now paying ``mrr`` a month.

    Parameters
    ----------
    mrr
        Monthly recurring revenue of the base today.
    churn
        Share of the base's revenue lost per year (1 - gross revenue retention).
    discount_rate
        Yearly discount rate (cost of capital).
    growth
        Yearly expansion of the retained revenue (NRR - GRR in SaaS Capital's annual convention).
    margin
        Gross margin earned on each dollar of revenue.

    Returns
    -------
    float
        ``12 * margin * mrr / (churn + discount_rate - growth)``.

    Raises
    ------
    ParameterError
        (a ``FeedbackLibError``) when ``churn + discount_rate - growth <= 0``: the perpetuity has
        no finite value; use :func:`customer_base_value_finite` or a higher discount rate.

    Notes
    -----
    With ``k = churn + discount_rate - growth`` the value is ``12 * margin * mrr / k``. It is the
    Gordon growth formula for a stream whose net yearly decay is ``k``; exactly, it is the
    integral of ``12 * margin * mrr * exp(-k t)`` over ``t >= 0`` (rates read as continuous yearly
    rates), or the sum of ``12 * margin * mrr * (1 - k)^t`` over whole years ``t = 0, 1, ...``
    (payments at the start of each year, the first-order form of the yearly factor
    ``(1 - churn)(1 + growth) / (1 + discount_rate)``). Both readings share this closed form.

    Undiscounted limit: with ``discount_rate = growth = 0`` the value is ``12 * margin * mrr /
    churn``, the textbook LTV (revenue over churn; expected lifetime ``1 / churn`` years), so the
    value ratio of two bases is the inverse ratio of their churn rates: 5% vs 15% churn gives
    exactly 3 (the "200% higher" of the Gainsight x SaaS Capital webinar, 2015).

    References
    ----------
    Gordon, M. J. (1959). Dividends, earnings, and stock prices. *Review of Economics and
    Statistics* 41(2). Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers.
    *Journal of Marketing Research* 41(1) (margin * retention / (1 + d - retention)).

    Examples
    --------
    >>> customer_base_value(10_000, churn=0.05) / customer_base_value(10_000, churn=0.15)
    3.0
    >>> round(customer_base_value(10_000, churn=0.10, discount_rate=0.10, growth=0.05, margin=0.8))
    640000
    """
    where = "customer_base_value"
    _check_mrr(where, mrr)
    _check_rates(where, churn=churn, discount_rate=discount_rate, growth=growth, margin=margin)
    k = _net_decay(churn, discount_rate, growth)
    if k <= 0:
        raise ParameterError(
            f"{where}: churn + discount_rate - growth = {churn:g} + {discount_rate:g} - {growth:g} "
            f"= {k:g} is not positive, so the perpetuity has no finite value; lower growth, raise "
            "discount_rate, or value a finite horizon with customer_base_value_finite(...)"
        )
    return 12.0 * margin * mrr / k


def customer_base_value_finite(
    mrr: float,
    *,
    churn: float,
    horizon_years: int,
    discount_rate: float = 0.0,
    growth: float = 0.0,
    margin: float = 1.0,
) -> float:
    """Value of the same customer base over ``horizon_years`` whole years only.

    Parameters
    ----------
    mrr, churn, discount_rate, growth, margin
        As in :func:`customer_base_value`.
    horizon_years
        Number of years counted (years ``0 .. horizon_years - 1``).

    Returns
    -------
    float
        ``12 * margin * mrr * (1 - (1 - k)^N) / k`` with ``k = churn + discount_rate - growth``,
        or ``12 * margin * mrr * N`` when ``k = 0``.

    Raises
    ------
    ParameterError
        For ``horizon_years < 1`` or ``k > 1`` (the yearly factor ``1 - k`` would be negative).

    Notes
    -----
    The geometric sum ``sum_{t=0}^{N-1} 12 * margin * mrr * (1 - k)^t``: year ``t`` keeps the
    share ``(1 - k)^t`` of today's revenue in present-value terms, paid at the start of the year.
    As ``N`` grows it tends to :func:`customer_base_value` when ``k > 0``; unlike the
    perpetuity it stays finite when ``k <= 0`` (growth at or above churn + discount rate).

    Undiscounted limit (``discount_rate = growth = 0``): ``12 * margin * mrr * (1 - (1 -
    churn)^N) / churn``, exactly the revenue a base retaining ``1 - churn`` a year pays over ``N``
    years; it tends to ``12 * margin * mrr * N`` as churn tends to 0.

    Examples
    --------
    >>> customer_base_value_finite(1_000, churn=0.5, horizon_years=2)  # 12000 * (1 + 0.5)
    18000.0
    >>> customer_base_value_finite(1_000, churn=0.05, growth=0.05, horizon_years=5)  # k = 0
    60000.0
    """
    where = "customer_base_value_finite"
    _check_mrr(where, mrr)
    _check_rates(where, churn=churn, discount_rate=discount_rate, growth=growth, margin=margin)
    if int(horizon_years) != horizon_years or horizon_years < 1:
        raise ParameterError(f"{where}: horizon_years must be a whole number >= 1, got {horizon_years!r}")
    k = _net_decay(churn, discount_rate, growth)
    if k > 1:
        raise ParameterError(
            f"{where}: churn + discount_rate - growth = {k:g} exceeds 1, so the yearly factor 1 - k "
            "is negative; use rates below 100% a year"
        )
    annual = 12.0 * margin * mrr
    if k == 0:
        return annual * int(horizon_years)
    return annual * (1.0 - (1.0 - k) ** int(horizon_years)) / k

