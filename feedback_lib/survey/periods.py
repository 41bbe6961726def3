"""NPS over time: a tidy table by period and group, and a control chart that flags real shifts.

Both are computed from the promoter, passive and detractor counts of each (period, group) cell,
counted with one numpy ``bincount`` over integer codes, so they scale to millions of responses;
intervals come from the vectorised formulas of :mod:`feedback_lib.survey.score`. The readable
specification of :func:`nps_table` is ``tests/reference/survey.py::nps_table``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import DAY_NS, check_freq, month_of_dates, month_start, months_per_period
from feedback_lib._util.stats import z_value
from feedback_lib.engines import survey as engine_survey
from feedback_lib.engines._ibis import is_ibis_table
from feedback_lib.errors import ParameterError, SchemaError, SmallSampleWarning
from feedback_lib.survey._inputs import check_method, check_weights, score_codes
from feedback_lib.survey.score import (
    bootstrap_arrays,
    change_test,
    interval_arrays,
    wald_variance,
)

__all__ = ["nps_control_chart", "nps_table"]

TABLE_COLUMNS = ["period", "n_responses", "n", "promoters", "passives", "detractors",
                 "n_effective", "nps", "ci_low", "ci_high", "std_error", "change",
                 "change_p_value", "small_sample"]
CHART_COLUMNS = ["period", "n", "promoters", "passives", "detractors", "nps", "centre",
                 "lower_limit", "upper_limit", "std_error", "baseline_n", "flagged"]


def period_ordinal(dates: pd.Series, freq: str, *, where: str = "responses: column 'responded_at'") -> np.ndarray:
    """Integer ordinal (int64) of the period holding each date; consecutive periods differ by 1.

    ``W`` weeks start on Monday; ``M``, ``Q`` and ``Y`` are calendar months, quarters and years.
    :func:`_ordinal_start` gives each period's first day.
    """
    check_freq(freq)
    if not pd.api.types.is_datetime64_dtype(dates.dtype):
        raise SchemaError(f"{where}: needs datetime64 values, got dtype {dates.dtype}; convert with "
                          "pd.to_datetime (time zones removed)")
    nanoseconds = dates.to_numpy(dtype="datetime64[ns]").view(np.int64)
    missing = nanoseconds == np.iinfo(np.int64).min  # NaT
    if missing.any():
        rows = ", ".join(str(r) for r in np.flatnonzero(missing)[:10] + 1)
        raise SchemaError(f"{where}: {int(missing.sum())} missing dates (rows {rows}, 1-based); "
                          "every response needs its date")
    if freq == "W":  # 1970-01-01 is a Thursday: Monday-based weeks start 3 days before it
        return (nanoseconds + 3 * DAY_NS) // (7 * DAY_NS)
    return month_of_dates(nanoseconds.view("datetime64[ns]")) // months_per_period(freq)


def _factorize(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Sorted codes and distinct values of a grouping column (missing values last, their own group)."""
    return pd.factorize(column, sort=True, use_na_sentinel=False)


def _ordinal_start(ordinal: np.ndarray, freq: str) -> np.ndarray:
    """First day (datetime64[ns]) of the periods numbered ``ordinal`` by :func:`period_ordinal`."""
    if freq == "W":
        return (np.asarray(ordinal, dtype=np.int64) * 7 - 3).astype("datetime64[D]").astype("datetime64[ns]")
    return month_start(np.asarray(ordinal, dtype=np.int64) * months_per_period(freq))


def period_counts(responses: pd.DataFrame, *, freq: str, by: list[str],
                  weight: str | None) -> pd.DataFrame:
    """Promoter, passive and detractor counts (or weight sums) per period and group."""
    require_columns(responses, ["responded_at", "score", *by, *([weight] if weight else [])], table="responses")
    codes = score_codes(responses["score"], where="responses: column 'score'", rows="rows")
    ordinal = period_ordinal(responses["responded_at"], freq)
    w = None if weight is None else check_weights(responses[weight], len(codes),
                                                  where=f"responses: column {weight!r}")
    low = int(ordinal.min()) if len(ordinal) else 0
    periods = int(ordinal.max()) - low + 1 if len(ordinal) else 0
    period_category = ordinal  # (period - low) * 3 + category, in place
    period_category -= low
    period_category *= 3
    period_category += codes
    factorized = [_factorize(responses[col]) for col in by]  # the groups' sorted codes, missing last
    group, sizes = None, []
    for level, uniques in factorized:  # the first grouping column varies slowest
        group = level if group is None else group * len(uniques) + level
        sizes.append(len(uniques))
    groups = int(np.prod(sizes))
    if periods * groups <= 4 * len(codes) + 1024:  # a dense (group, period) table is small
        n_cells, cell_keys = groups * periods, None
        with_category = period_category if group is None else group * (3 * periods) + period_category
        cell = None  # group * periods + period, computed only when needed
    else:  # many sparse groups: number only the (group, period) cells that occur
        period = period_category // 3
        cell_keys, cell = np.unique(period if group is None else group * periods + period, return_inverse=True)
        n_cells = len(cell_keys)
        with_category = cell * 3 + codes

    def per_cell(index: np.ndarray, weights: np.ndarray | None, width: int) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=n_cells * width).reshape(n_cells, width)

    by_category = per_cell(with_category, w, 3)
    if w is None:
        n_rows = by_category.sum(axis=1)
    else:
        if cell is None:
            period = period_category // 3
            cell = period if group is None else group * periods + period
        n_rows = per_cell(cell, None, 1)[:, 0]
    occupied = np.flatnonzero(n_rows)
    key = occupied if cell_keys is None else cell_keys[occupied]
    order = np.lexsort((key // periods, key % periods))  # by period, then group
    occupied, key = occupied[order], key[order]
    counts = {"period": _ordinal_start(key % periods + low, freq)}
    rest = key // periods
    digits = []
    for size in sizes[::-1]:  # the last grouping column varies fastest
        digits.append(rest % size)
        rest = rest // size
    for col, (_, uniques), digit in zip(by, factorized, digits[::-1]):
        counts[col] = pd.array(uniques.take(digit)).astype(responses[col].dtype)
    category = by_category[occupied]
    counts.update(_ord=key % periods + low, _group=key // periods, n_responses=n_rows[occupied].astype(np.int64),
                  promoters=category[:, 2], passives=category[:, 1], detractors=category[:, 0])
    counts["n"] = category.sum(axis=1)
    if weight is None:
        counts["n_effective"] = counts["n"].astype(float)
    else:
        assert cell is not None and w is not None  # both set above when there are weights
        with np.errstate(invalid="ignore", divide="ignore"):
            counts["n_effective"] = counts["n"] ** 2 / per_cell(cell, np.square(w), 1)[occupied, 0]
    return pd.DataFrame(counts)


def nps_table(responses: pd.DataFrame, *, freq: str = "W", by: str | Sequence[str] | None = None,
              weight: str | None = None, confidence: float = 0.95,
              method: str = "adjusted-wald", min_n: int = 30, n_boot: int = 2000,
              seed: int = 0) -> pd.DataFrame:
    """NPS with its interval and change test per period and group: one tidy row each.

    Parameters
    ----------
    responses
        Canonical responses (``responded_at`` datetime64, ``score`` 0-10) plus any grouping or
        weight columns the caller joined on (e.g. ``segment`` from accounts, ``mrr``).
    freq
        ``"W"`` (weeks starting Monday), ``"M"``, ``"Q"`` or ``"Y"``.
    by
        Column name(s) to group by within each period (missing values form their own group).
    weight
        Optional column of non-negative weights (e.g. ``"mrr"`` for revenue-weighted NPS); the
        counts become weight sums and the SE uses Kish's effective size, as in :func:`nps`.
    confidence, method, n_boot, seed
        As in :func:`~feedback_lib.survey.score.nps` (``bootstrap`` only unweighted here).
    min_n
        Rows whose (effective) sample is below it get ``small_sample`` True and one
        :class:`SmallSampleWarning` is issued. The default 30 is the usual floor for the normal
        approximation; even there the 95% half-width is about +-28 points (Var 0.61), so a
        smaller sample can hardly say anything.

    Returns
    -------
    DataFrame
        ``period`` (period start, datetime64), the ``by`` columns, ``n_responses``, ``n``,
        ``promoters``, ``passives``, ``detractors`` (counts or weight sums), ``n_effective``,
        ``nps``, ``ci_low``, ``ci_high``, ``std_error`` (points), ``change`` (vs the immediately
        preceding period of the same group; NaN when that period had no responses),
        ``change_p_value`` and ``small_sample``; sorted by period then group. ``attrs`` holds
        ``freq``, ``confidence``, ``method`` and ``weight``.

    Notes
    -----
    Formulas as in :func:`~feedback_lib.survey.score.nps` and :func:`~feedback_lib.survey.score.nps_change`: the
    change test is the two-sample Wald z test, ``SE_diff = sqrt(Var1 / n1 + Var2 / n2)``, so
    ``change_p_value`` equals ``nps_change(previous, current).p_value``.

    The readable specification is ``tests/reference/survey.py::nps_table`` (Wald methods); the
    two are tested equal with hypothesis (``tests/test_reference_implementations.py``).

    Examples
    --------
    >>> responses = pd.DataFrame({
    ...     "responded_at": pd.to_datetime(["2025-06-02"] * 40 + ["2025-06-11"] * 40),
    ...     "score": [10] * 20 + [8] * 10 + [3] * 10 + [10] * 10 + [8] * 20 + [3] * 10})
    >>> t = nps_table(responses, freq="W")
    >>> t[["period", "n", "nps", "change"]]
          period   n   nps  change
    0 2025-06-02  40  25.0     NaN
    1 2025-06-09  40   0.0   -25.0
    """
    if is_ibis_table(responses):  # run in the engine that holds the table
        return engine_survey.nps_table(responses, freq=freq, by=by, weight=weight, confidence=confidence, method=method, min_n=min_n, n_boot=n_boot, seed=seed)
    check_method(method)
    z_value(confidence)
    by_cols = [by] if isinstance(by, str) else list(by or [])
    clash = set(by_cols) & set(TABLE_COLUMNS)
    if clash:
        raise ParameterError(f"by: {sorted(clash)} would clash with output columns; rename first")
    if method == "bootstrap" and weight is not None:
        raise ParameterError("nps_table: the bootstrap is unweighted here; use method="
                             "'adjusted-wald' with weight=, or nps(..., weights=) per group")
    t = period_counts(responses, freq=freq, by=by_cols, weight=weight)
    col = {c: t[c].to_numpy(dtype=float) for c in ("promoters", "passives", "detractors", "n", "n_effective")}
    t["nps"], t["ci_low"], t["ci_high"], t["std_error"] = interval_arrays(
        col["promoters"], col["detractors"], col["n"], col["n_effective"], confidence=confidence,
        method="wald" if method == "bootstrap" else method)
    if method == "bootstrap" and len(t):
        t["ci_low"], t["ci_high"], t["std_error"] = bootstrap_arrays(
            t["promoters"], t["passives"], t["detractors"], confidence=confidence, n_boot=n_boot,
            seed=seed)
    # the previous row of the same group (rows are sorted by period, then group)
    ordinal, group = t["_ord"].to_numpy(), t["_group"].to_numpy()
    order = np.lexsort((ordinal, group))
    previous = np.full(len(t), -1)
    same = group[order][1:] == group[order][:-1]
    previous[order[1:][same]] = order[:-1][same]
    follows = (previous >= 0) & (ordinal[previous] == ordinal - 1)
    prev = {c: np.where(previous >= 0, col[c][previous], np.nan) for c in ("promoters", "detractors", "n", "n_effective")}
    with np.errstate(invalid="ignore", divide="ignore"):
        diff, _, _, p_value, _ = change_test(
            prev["promoters"] / prev["n"], prev["detractors"] / prev["n"], prev["n_effective"],
            col["promoters"] / col["n"], col["detractors"] / col["n"], col["n_effective"],
            confidence=confidence)
    t["change"] = np.where(follows, diff, np.nan)
    t["change_p_value"] = np.where(follows, p_value, np.nan)
    t["small_sample"] = ~(col["n_effective"] >= min_n)  # NaN (zero weight) is small
    if t["small_sample"].any():
        warnings.warn(
            f"{int(t['small_sample'].sum())} of {len(t)} NPS rows rest on fewer than min_n={min_n} "
            "responses (column small_sample); read their NPS as indicative, or use a longer freq "
            "or fewer groups", SmallSampleWarning, stacklevel=2)
    out = pd.DataFrame({c: t[c] for c in ["period", *by_cols, *TABLE_COLUMNS[1:]]})
    out.attrs = {"freq": freq, "confidence": confidence, "method": method, "weight": weight}
    return out


def nps_control_chart(responses: pd.DataFrame, *, freq: str = "W", sigma: float = 3.0,
                      baseline_periods: int = 13) -> pd.DataFrame:
    """Per-period NPS against control limits from the trailing baseline, flagging real shifts.

    Parameters
    ----------
    responses
        Canonical responses (``responded_at``, ``score``); filter to one segment first if needed.
    freq
        ``"W"`` (weeks starting Monday), ``"M"``, ``"Q"`` or ``"Y"``.
    sigma
        Width of the limits in standard errors. Three (Shewhart's convention) keeps false alarms
        to about 0.3% of periods (one in ~7 years of weeks), where 95% limits would raise one
        every 20 weeks.
    baseline_periods
        Number of calendar periods before each period pooled for its centre line (13 weeks is a
        quarter); flagged periods in that window are left out. Periods without that much
        history get no limits and are never flagged.

    Returns
    -------
    DataFrame
        One row per period with responses: ``period``, ``n``, ``promoters``, ``passives``,
        ``detractors``, ``nps``, ``centre``, ``lower_limit``, ``upper_limit``, ``std_error``
        (points), ``baseline_n`` and ``flagged`` (NPS outside the limits).

    Notes
    -----
    The NPS analogue of a p chart with variable sample size (Montgomery, *Introduction to
    Statistical Quality Control*, ch. 7). Pooling the ``baseline_periods`` periods before period t
    gives shares p_bar, d_bar and ``centre = 100 (p_bar - d_bar)``; the period's standard error
    under that stable process is ``SE_t = sqrt((p_bar + d_bar - (p_bar - d_bar)^2) / n_t)``, and
    the limits are ``centre +- sigma * 100 SE_t`` clipped to [-100, 100]: wide for weeks with few
    responses, narrow for busy ones. The current period never enters its own baseline, and
    flagged periods do not enter later ones (Phase I practice: an out-of-control point is not
    evidence of the stable process), so one bad week cannot drag the centre and trigger false
    alarms after it. A sustained shift is flagged until it fills the baseline window
    (``baseline_periods`` periods); the chart then re-centres on the new level.

    Examples
    --------
    >>> dates = pd.to_datetime("2025-01-06") + pd.to_timedelta(np.repeat(np.arange(5) * 7, 100), "D")
    >>> scores = np.tile([10] * 50 + [8] * 30 + [2] * 20, 5)
    >>> scores[400:450] = 2                       # week 5: the 50 promoters turn detractors
    >>> c = nps_control_chart(pd.DataFrame({"responded_at": dates, "score": scores}),
    ...                       baseline_periods=4)
    >>> c[["period", "nps", "centre", "flagged"]].tail(2)
          period   nps  centre  flagged
    3 2025-01-27  30.0     NaN    False
    4 2025-02-03 -70.0    30.0     True
    """
    if not sigma > 0:
        raise ParameterError(f"sigma must be positive (3 is usual); got {sigma!r}")
    if not (isinstance(baseline_periods, (int, np.integer)) and baseline_periods >= 1):
        raise ParameterError(f"baseline_periods must be a positive integer; got {baseline_periods!r}")
    t = period_counts(responses, freq=freq, by=[], weight=None)
    if t.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "period" else float)
                             for c in CHART_COLUMNS}).astype({"flagged": bool})
    full = t.set_index("_ord")[["promoters", "detractors", "n"]].reindex(
        range(t["_ord"].min(), t["_ord"].max() + 1), fill_value=0)
    centre, se, baseline_n, flagged = _control_limits(full.to_numpy(dtype=float),
                                                      baseline_periods=baseline_periods, sigma=sigma)
    rows = (t["_ord"] - t["_ord"].min()).to_numpy()
    t["nps"] = 100 * (t["promoters"] - t["detractors"]) / t["n"]
    t["centre"] = centre[rows]
    t["lower_limit"] = np.clip(t["centre"] - sigma * se[rows], -100, 100)
    t["upper_limit"] = np.clip(t["centre"] + sigma * se[rows], -100, 100)
    t["std_error"] = se[rows]
    t["baseline_n"] = baseline_n[rows]
    t["flagged"] = flagged[rows]
    return t[CHART_COLUMNS].reset_index(drop=True)


def _control_limits(counts: np.ndarray, *, baseline_periods: int, sigma: float):
    """Centre, SE, baseline size and flag per calendar period; ``counts`` columns are P, D, n.

    Sequential because a flagged period must leave the baselines after it (a loop over periods,
    not responses).
    """
    centre, se, baseline_n = (np.full(len(counts), np.nan) for _ in range(3))
    flagged = np.zeros(len(counts), dtype=bool)
    for i in range(baseline_periods, len(counts)):
        window = slice(i - baseline_periods, i)
        promoters, detractors, n = counts[window][~flagged[window]].sum(axis=0)
        baseline_n[i] = n
        if n == 0 or counts[i, 2] == 0:
            continue
        p_bar, d_bar = promoters / n, detractors / n
        centre[i] = 100 * (p_bar - d_bar)
        se[i] = 100 * np.sqrt(wald_variance(p_bar, d_bar) / counts[i, 2])
        score = 100 * (counts[i, 0] - counts[i, 1]) / counts[i, 2]
        flagged[i] = abs(score - centre[i]) > sigma * se[i]
    return centre, se, baseline_n, flagged
