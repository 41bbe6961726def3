"""``fl.nps_table`` as an Ibis expression: NPS with its interval and change test per period and
group, counted and computed in the engine.

The formulas are those of :mod:`feedback_lib.survey.score` (Wald and adjusted-Wald intervals,
Kish's effective size for weights, the two-sample z test of the change). SQL has no normal
distribution function, so the change test's two-sided p-value ``erfc(|z| / sqrt 2)`` uses the
Chebyshev approximation of ``erfc`` in Press et al., *Numerical Recipes* (2nd ed., section 6.2,
``erfcc``), whose relative error is below 1.2e-7: ``change_p_value`` equals the pandas path to
that precision, every other column to float precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedback_lib._util.dates import check_freq, months_per_period
from feedback_lib._util.stats import z_value
from feedback_lib.engines._ibis import ibis_module, month_number, month_start
from feedback_lib.engines.checks import require_table_columns
from feedback_lib.errors import ParameterError

__all__ = ["nps_table"]

_TABLE_COLUMNS = ["n_responses", "n", "promoters", "passives", "detractors", "n_effective", "nps", "ci_low",
                  "ci_high", "std_error", "change", "change_p_value", "small_sample"]
_ADJ_TAIL, _ADJ_N = 0.75, 3.0  # adjusted Wald: added to promoters and detractors, and to n
#: erfcc of Numerical Recipes: erfc(x) = t exp(-x^2 + poly(t)), t = 1 / (1 + x / 2), for x >= 0
_ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
         1.48851587, -0.82215223, 0.17087277)


def _erfc(x: Any) -> Any:
    """erfc(x) for x >= 0 (relative error below 1.2e-7)."""
    t = 1.0 / (1.0 + 0.5 * x)
    poly = _ERFC[-1]
    for coefficient in reversed(_ERFC[:-1]):
        poly = coefficient + t * poly
    return t * (-x * x + poly).exp()


def _clip(x: Any, bound: float = 100.0) -> Any:
    """``x`` clipped to [-bound, bound], NULL kept (SQL's GREATEST/LEAST may skip NULLs)."""
    ibis = ibis_module()
    return ibis.cases((x < -bound, -bound), (x > bound, bound), else_=x)


def _variance(p: Any, d: Any) -> Any:
    return p + d - (p - d) * (p - d)


def _period(when: Any, freq: str) -> tuple[Any, Any]:
    """Ordinal of the period of each date, and a function from ordinals to period starts."""
    ibis = ibis_module()
    if freq == "W":  # 1970-01-01 is a Thursday: Monday-based weeks start 3 days before it
        days = when.epoch_seconds() // 86400
        return (days + 3) // 7, lambda o: (ibis.date(1970, 1, 1) + (o * 7 - 3).as_interval("D")).cast("timestamp")
    step = months_per_period(freq)
    return month_number(when) // step, lambda o: month_start(o * step)


def nps_table(responses: Any, *, freq: str = "W", by: str | Sequence[str] | None = None,
              weight: str | None = None, confidence: float = 0.95, method: str = "adjusted-wald",
              min_n: int = 30, n_boot: int = 2000, seed: int = 0) -> Any:
    """NPS per period and group, as ``fl.nps_table``, as a lazy Ibis table.

    ``method`` is ``"wald"`` or ``"adjusted-wald"`` (the bootstrap resamples in Python: call
    ``fl.nps_table`` on ``.to_pandas()`` of the counts' responses). No ``SmallSampleWarning`` is
    issued (nothing has run yet); read the ``small_sample`` column. ``n_boot`` and ``seed`` are
    accepted for the same signature and unused.
    """
    ibis = ibis_module()
    if method not in ("wald", "adjusted-wald"):
        raise ParameterError(f"nps_table on an engine: method must be 'wald' or 'adjusted-wald', got {method!r} "
                             "(the bootstrap runs on pandas frames)")
    z = z_value(confidence)
    check_freq(freq)
    by_cols = [by] if isinstance(by, str) else list(by or [])
    clash = set(by_cols) & {"period", *_TABLE_COLUMNS}
    if clash:
        raise ParameterError(f"by: {sorted(clash)} would clash with output columns; rename first")
    require_table_columns(responses, ["responded_at", "score", *by_cols, *([weight] if weight else [])],
                          table="responses")
    ordinal, start_of = _period(responses.responded_at.cast("timestamp"), freq)
    score = responses.score.cast("int64")
    w = ibis.literal(1, type="int64") if weight is None else responses[weight].cast("float64")
    rows = responses.select(*by_cols, _ord=ordinal, _w=w, _cat=ibis.cases((score >= 9, 2), (score >= 7, 1), else_=0))
    t = rows.group_by(["_ord", *by_cols]).aggregate(
        n_responses=rows.count().cast("int64"), promoters=rows._w.sum(where=rows._cat == 2).fill_null(0),
        passives=rows._w.sum(where=rows._cat == 1).fill_null(0),
        detractors=rows._w.sum(where=rows._cat == 0).fill_null(0), _w2=(rows._w * rows._w).sum())
    t = t.mutate(n=t.promoters + t.passives + t.detractors)
    nz = t.n.cast("float64").nullif(0.0)
    n_eff = nz if weight is None else nz * nz / t._w2.cast("float64").nullif(0.0)
    t = t.mutate(n_effective=n_eff if weight is not None else t.n.cast("float64"),
                 _p=t.promoters.cast("float64") / nz, _d=t.detractors.cast("float64") / nz)
    p, d, ne = t._p, t._d, t.n_effective
    if method == "adjusted-wald":
        p, d, ne = (p * ne + _ADJ_TAIL) / (ne + _ADJ_N), (d * ne + _ADJ_TAIL) / (ne + _ADJ_N), ne + _ADJ_N
    se = (ibis.greatest(_variance(p, d), 0.0) / ne).sqrt()
    centre = p - d
    t = t.mutate(nps=100 * (t.promoters - t.detractors).cast("float64") / nz,
                 ci_low=_clip(100 * (centre - z * se)), ci_high=_clip(100 * (centre + z * se)), std_error=100 * se)
    group = ibis.window(group_by=[t[c] for c in by_cols] or None, order_by=t._ord)
    t = t.mutate(_prev_ord=t._ord.lag().over(group), _p1=t._p.lag().over(group), _d1=t._d.lag().over(group),
                 _n1=t.n_effective.lag().over(group))
    follows = t._prev_ord == t._ord - 1
    diff = (t._p - t._d) - (t._p1 - t._d1)
    se_diff = (_variance(t._p1, t._d1) / t._n1 + _variance(t._p, t._d) / t.n_effective).sqrt()
    p_value = ibis.cases((se_diff > 0, _erfc(diff.abs() / se_diff / 2 ** 0.5)), (diff.abs() <= 1e-8, 1.0), else_=0.0)
    t = t.mutate(change=ibis.cases((follows, 100 * diff), else_=ibis.null("float64")),
                 change_p_value=ibis.cases((follows & se_diff.notnull(), p_value), else_=ibis.null("float64")),
                 small_sample=~(t.n_effective >= min_n).fill_null(False))
    t = t.mutate(period=start_of(t._ord))
    order = [ibis.asc(t._ord), *(ibis.asc(t[c], nulls_first=False) for c in by_cols)]
    return t.order_by(order).select("period", *by_cols, *_TABLE_COLUMNS)
