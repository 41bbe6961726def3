"""The revenue metrics as Ibis expressions, run by the engine that holds the data.

Each function mirrors its pandas namesake in :mod:`feedback_lib.revenue` (same arguments, same
conventions, same columns) and is what that function calls when it is handed an Ibis table. Table
results are lazy Ibis tables, ordered as the pandas results; numbers are computed in the engine
and returned as Python numbers. Money is summed in int64 micro-units (as
``feedback_lib._util.money.to_units``) and divided by ``UNITS`` only in the returned columns, so
``.to_pandas()`` equals the pandas path to the cent and sums do not depend on row order.

What is not checked in the engine: the pandas functions raise ``SchemaError`` for duplicate
(account, month) rows and months missing inside an account's rows; the expressions assume the
output of ``monthly_revenue`` (``feedback_lib.engines.connect(...).validate()`` checks the source
tables in the engine).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd

from feedback_lib._util.dates import month_index, months_per_period, parse_as_of
from feedback_lib._util.money import UNITS
from feedback_lib.engines._ibis import (
    CALENDAR_HIGH,
    CALENDAR_LOW,
    as_int,
    calendar,
    ibis_module,
    money,
    month_number,
    month_start,
    scalar,
    units,
)
from feedback_lib.engines.checks import require_table_columns
from feedback_lib.errors import InsufficientDataError, ParameterError

__all__ = [
    "account_lifetimes",
    "arr_bridge",
    "cohort_retention",
    "concentration_summary",
    "monthly_revenue",
    "mrr_movements",
    "retention_counts",
    "top_share",
]

_BRIDGE_PARTS = ("new", "expansion", "reactivation", "contraction", "churn")


def _revenue_rows(revenue: Any, *, last_month: int | None = None) -> Any:
    """``account_id, m`` (month number) and ``u`` (MRR in micro-units), months after
    ``last_month`` dropped."""
    require_table_columns(revenue, ("account_id", "month", "mrr"), table="revenue")
    rows = revenue.select(account_id=revenue.account_id, m=month_number(revenue.month.cast("timestamp")),
                          u=units(revenue.mrr))
    return rows if last_month is None else rows.filter(rows.m <= last_month)


def monthly_revenue(subscriptions: Any, *, as_of: str | date) -> Any:
    """Month-end MRR per account and month, as ``fl.monthly_revenue``, as an Ibis expression.

    Notes
    -----
    The rule of :func:`feedback_lib.revenue.mrr.counted_months`: a subscription counts from its
    start month to the month of ``as_of`` when it is active on ``as_of`` (``start_date <= as_of <
    end_date``, empty = running), else to the month before the one it ends in. Each subscription
    adds ``+mrr`` at its first month and ``-mrr`` after its last; the account's months (from its
    first to its last counted month, from a calendar table) cumulate those steps, which gives 0 in
    gap months.
    """
    ibis = ibis_module()
    require_table_columns(subscriptions, ("account_id", "start_date", "end_date", "mrr"), table="subscriptions")
    as_of_ts = parse_as_of(as_of)
    asof_m = month_index(as_of_ts)
    next_day = ibis.literal(as_of_ts + pd.Timedelta(days=1), type="timestamp")
    s = subscriptions
    start, end = s.start_date.cast("timestamp"), s.end_date.cast("timestamp")
    on_as_of = (start < next_day) & (end.isnull() | (end >= next_day))
    subs = s.select(account_id=s.account_id, first=month_number(start),
                    last=on_as_of.ifelse(asof_m, month_number(end) - 1), u=units(s.mrr), started=start < next_day)
    subs = subs.filter(subs.started & (subs.last >= subs.first) & (subs.u > 0))
    spans = subs.group_by("account_id").aggregate(lo=subs["first"].min(), hi=subs["last"].max())
    cal = calendar("m", CALENDAR_LOW, asof_m)
    grid = spans.join(cal, (spans.lo <= cal.m) & (cal.m <= spans.hi)).select("account_id", "m")
    steps = subs.select("account_id", m=subs["first"], d=subs.u).union(
        subs.select("account_id", m=subs["last"] + 1, d=-subs.u))
    steps = steps.group_by(["account_id", "m"]).aggregate(d=steps.d.sum())
    joined = grid.left_join(steps, [grid.account_id == steps.account_id, grid.m == steps.m]).select(
        account_id=grid.account_id, m=grid.m, d=steps.d.fill_null(0))
    level = joined.mutate(u=joined.d.cumsum(group_by="account_id", order_by="m"))
    return level.select("account_id", month=month_start(level.m), mrr=money(level.u)).order_by(["account_id", "month"])


def mrr_movements(revenue: Any, *, as_of: str | date) -> Any:
    """Every account-month with its MRR movement category, as ``fl.mrr_movements``.

    Notes
    -----
    ``previous_mrr`` is ``lag(mrr)`` over the account's months (0 in its first row); the category
    is the first rule that matches (new, churn, reactivation, expansion, contraction, unchanged),
    as in :func:`feedback_lib.revenue.movements.mrr_movements`; an account whose last row is paid
    and before the month of ``as_of`` gets a churn row in the month after it. ``category`` is a
    string column (the pandas path returns a categorical with the same values).
    """
    ibis = ibis_module()
    asof_m = month_index(parse_as_of(as_of))
    r = _revenue_rows(revenue, last_month=asof_m)
    by_account = ibis.window(group_by=r.account_id, order_by=r.m)
    r = r.mutate(prev=r.u.lag().over(by_account).fill_null(0),
                 first_paid=ibis.cases((r.u > 0, r.m), else_=ibis.null("int64")).min().over(group_by=r.account_id),
                 last_m=r.m.max().over(group_by=r.account_id))
    category = ibis.cases(
        (r.m == r.first_paid, "new"),
        ((r.u == 0) & (r.prev > 0), "churn"),
        ((r.u > 0) & (r.prev == 0), "reactivation"),
        (r.u > r.prev, "expansion"),
        (r.u < r.prev, "contraction"),
        else_="unchanged",
    )
    rows = r.select("account_id", "m", "u", "prev", category=category)
    churned = r.filter((r.m == r.last_m) & (r.u > 0) & (r.m < asof_m))
    churned = churned.select("account_id", m=churned.m + 1, u=ibis.literal(0, type="int64"), prev=churned.u,
                             category=ibis.literal("churn"))
    rows = rows.union(churned)
    return rows.select(
        "account_id", month=month_start(rows.m), mrr=money(rows.u), previous_mrr=money(rows.prev),
        mrr_change=money(rows.u - rows.prev), category=rows.category,
    ).order_by(["account_id", "month"])


def arr_bridge(movements: Any, *, freq: str = "M") -> Any:
    """The MRR bridge per month, quarter or year, as ``fl.arr_bridge``.

    Notes
    -----
    Components are sums of ``mrr_change`` by category and period in micro-units; ``opening_mrr``
    is the exact opening level (the ``previous_mrr`` of the first month plus all earlier changes)
    and ``closing_mrr`` is ``opening_mrr + new + expansion + reactivation + contraction + churn``
    computed in floating point in that order, so the identity holds exactly on every row.
    """
    step = months_per_period(freq)
    require_table_columns(movements, ("month", "previous_mrr", "mrr_change", "category"), table="movements")
    mv = movements.select(m=month_number(movements.month.cast("timestamp")), c=units(movements.mrr_change),
                          p=units(movements.previous_mrr), category=movements.category.cast("string"))
    mv = mv.mutate(period=mv.m // step)
    sums = mv.group_by("period").aggregate(
        **{part: mv.c.sum(where=mv.category == part).fill_null(0) for part in _BRIDGE_PARTS})
    first_month = mv.m.min()
    bounds = mv.aggregate(lo=mv.period.min(), hi=mv.period.max(),
                          opening0=mv.p.sum(where=mv.m == first_month.as_scalar()).fill_null(0))
    cal = calendar("period", CALENDAR_LOW // step, CALENDAR_HIGH // step)
    grid = cal.cross_join(bounds)
    grid = grid.filter((grid.period >= grid.lo) & (grid.period <= grid.hi))
    table = grid.left_join(sums, grid.period == sums.period).select(
        period=grid.period, opening0=grid.opening0, **{part: sums[part].fill_null(0) for part in _BRIDGE_PARTS})
    total = table.new + table.expansion + table.reactivation + table.contraction + table.churn
    table = table.mutate(total=total)
    table = table.mutate(opening=table.opening0 + table.total.cumsum(order_by="period") - table.total)
    opening = money(table.opening)
    parts = {part: money(table[part]) for part in _BRIDGE_PARTS}
    closing = opening + parts["new"] + parts["expansion"] + parts["reactivation"] + parts["contraction"] + parts["churn"]
    return table.select(period=month_start(table.period * step), opening_mrr=opening, **parts,
                        closing_mrr=closing).order_by("period")


def retention_counts(revenue: Any, *, as_of: str | date, window_months: int = 12,
                     count_reactivated: bool = True) -> dict:
    """The fields of ``fl.retention_summary`` (a ``RetentionSummary``), computed in the engine.

    One aggregate query over the rows of the starting month and the month of ``as_of``: cohort
    size, accounts still paying, starting, current and capped (GRR) MRR in micro-units; the ratios
    are then exact integer ratios, as in the pandas path.
    """
    ibis = ibis_module()
    whole = isinstance(window_months, int) and not isinstance(window_months, bool)
    if not whole or window_months < 1:
        raise ParameterError(f"window_months must be a whole number of months >= 1, got {window_months!r}")
    as_of_ts = parse_as_of(as_of)
    end_m = month_index(as_of_ts)
    start_m = end_m - window_months
    r = _revenue_rows(revenue)
    start = r.filter((r.m == start_m) & (r.u > 0)).select("account_id", su="u")
    end = r.filter(r.m == end_m).select("account_id", eu="u")
    cohort = start.left_join(end, start.account_id == end.account_id).select(
        start.account_id, start.su, eu=end.eu.fill_null(0))
    if not count_reactivated:
        window = r.filter((r.m > start_m) & (r.m <= end_m) & (r.u > 0))
        paid = window.group_by("account_id").aggregate(k=window.count())
        cohort = cohort.left_join(paid, cohort.account_id == paid.account_id).select(
            cohort.account_id, cohort.su, eu=(paid.k.fill_null(0) < window_months).ifelse(0, cohort.eu))
    result = cohort.aggregate(
        n=cohort.count(), kept=as_int(cohort.eu > 0).sum(), starting=cohort.su.sum(),
        current=cohort.eu.sum(), retained=ibis.least(cohort.su, cohort.eu).sum(),
    ).to_pandas().iloc[0]
    n = int(result["n"])
    start_label = pd.Timestamp(as_of_ts.to_period("M").start_time) - pd.DateOffset(months=window_months)
    if n == 0:
        raise InsufficientDataError(
            f"no account paid in {start_label:%Y-%m} ({window_months} months before the month of "
            f"as_of {as_of_ts:%Y-%m-%d}), so retention is undefined; use a later as_of or a "
            "shorter window_months"
        )
    starting, current, retained, kept = (int(result[c]) for c in ("starting", "current", "retained", "kept"))
    return dict(
        as_of=as_of_ts, window_months=int(window_months), count_reactivated=bool(count_reactivated),
        start_month=start_label, end_month=as_of_ts.to_period("M").start_time, n=n, retained_accounts=kept,
        starting_mrr=starting / UNITS, current_mrr=current / UNITS, retained_mrr=retained / UNITS,
        nrr=current / starting, grr=retained / starting, logo_retention=kept / n,
    )


def cohort_retention(revenue: Any, *, as_of: str | date, freq: str = "M", count_reactivated: bool = True) -> Any:
    """Logo and revenue retention of signup cohorts by period, as ``fl.cohort_retention``.

    Notes
    -----
    The cohort of an account is the period of its first paid month; the snapshot of a period is
    its last month (or the month of ``as_of``); with ``count_reactivated=False`` a snapshot row
    counts only when the account paid in every row since its first paid month (a running count
    of paid rows equals the months elapsed).
    """
    ibis = ibis_module()
    step = months_per_period(freq)
    end_m = month_index(parse_as_of(as_of))
    last_period = end_m // step
    r = _revenue_rows(revenue, last_month=end_m)
    paid = r.u > 0
    r = r.mutate(fp=ibis.cases((paid, r.m), else_=ibis.null("int64")).min().over(group_by=r.account_id),
                 cum_paid=as_int(paid).cumsum(group_by=r.account_id, order_by=r.m))
    starts = r.filter(r.m == r.fp)
    cohorts = starts.group_by(cohort=starts.fp // step).aggregate(accounts=starts.count(), starting=starts.u.sum())
    snapshot = (r.u > 0) if step == 1 else (r.u > 0) & (((r.m + 1) % step == 0) | (r.m == end_m))
    if not count_reactivated:
        snapshot = snapshot & (r.cum_paid == r.m - r.fp + 1)
    snaps = r.filter(snapshot & r.fp.notnull())
    cells = snaps.group_by(cohort=snaps.fp // step, k=snaps.m // step - snaps.fp // step).aggregate(
        retained=snaps.count(), mrr=snaps.u.sum())
    cal = calendar("k", 0, CALENDAR_HIGH - CALENDAR_LOW)
    grid = cohorts.cross_join(cal)
    grid = grid.filter(grid.k <= last_period - grid.cohort)
    table = grid.left_join(cells, [grid.cohort == cells.cohort, grid.k == cells.k]).select(
        cohort=grid.cohort, period_index=grid.k, accounts=grid.accounts.cast("int64"),
        retained=cells.retained.fill_null(0).cast("int64"), mrr=money(cells.mrr.fill_null(0)),
        starting_mrr=money(grid.starting))
    return table.select(
        cohort=month_start(table.cohort * step), period_index=table.period_index, accounts=table.accounts,
        retained=table.retained, mrr=table.mrr, starting_mrr=table.starting_mrr,
        share=table.retained / table.accounts, mrr_retention=table.mrr / table.starting_mrr,
    ).order_by(["cohort", "period_index"])


def account_lifetimes(revenue: Any, *, as_of: str | date) -> Any:
    """First paid lifetime of every account, as ``fl.account_lifetimes``.

    Notes
    -----
    A row continues a run when it and the row before are paid and one month apart; the running
    count of rows that do not continue one numbers the runs, and the first lifetime is the run of
    the account's first paid row: ``duration_months`` is its number of rows.
    """
    ibis = ibis_module()
    asof_m = month_index(parse_as_of(as_of, where="account_lifetimes"))
    require_table_columns(revenue, ("account_id", "month", "mrr"), table="revenue")
    r = revenue.select(account_id=revenue.account_id, m=month_number(revenue.month.cast("timestamp")),
                       paid=revenue.mrr.cast("float64") * UNITS > 0.5)
    r = r.filter(r.m <= asof_m)
    by_account = ibis.window(group_by=r.account_id, order_by=r.m)
    goes_on = r.paid & r.paid.lag().over(by_account) & (r.m == r.m.lag().over(by_account) + 1)
    r = r.mutate(opens=as_int(~goes_on.fill_null(False)))
    r = r.mutate(run=r.opens.cumsum(group_by=r.account_id, order_by=r.m))
    r = r.mutate(first_run=ibis.cases((r.paid, r.run), else_=ibis.null("int64")).min().over(group_by=r.account_id))
    runs = r.filter(r.run == r.first_run)
    life = runs.group_by("account_id").aggregate(first=runs.m.min(), duration=runs.count().cast("int64"))
    churned = life["first"] + life.duration <= asof_m
    return life.select(
        "account_id", start_month=month_start(life["first"]), duration_months=life.duration, churned=churned,
        churn_month=churned.ifelse(month_start(life["first"] + life.duration), ibis.null("timestamp")),
    ).order_by("account_id")


def _paying_in_month(revenue: Any, as_of: str | date) -> Any:
    """``account_id, u`` of the accounts paying in the month of ``as_of`` (dates compared as dates)."""
    ibis = ibis_module()
    month = parse_as_of(as_of).to_period("M")
    require_table_columns(revenue, ("account_id", "month", "mrr"), table="revenue")
    when = revenue.month.cast("timestamp")
    rows = revenue.filter((when >= ibis.literal(month.start_time, type="timestamp"))
                          & (when < ibis.literal((month + 1).start_time, type="timestamp")))
    rows = rows.select("account_id", u=units(rows.mrr))
    return rows.filter(rows.u > 0)


def _no_payers(as_of) -> InsufficientDataError:
    return InsufficientDataError(
        f"no account pays in {parse_as_of(as_of):%Y-%m} (the month of as_of); check as_of and that "
        "revenue comes from monthly_revenue with the same or a later as_of"
    )


def top_share(revenue: Any, *, as_of: str | date, top: float = 0.05) -> float:
    """Share of the month's MRR held by the top ``top`` fraction of paying accounts, as ``fl.top_share``.

    Two queries: the number of paying accounts n, then the MRR of the ``ceil(top * n)`` largest
    (a product within 1e-9 of a whole number counts as that number) over the total.
    """
    ibis = ibis_module()
    if not 0 < top <= 1:
        raise ParameterError(f"top must be a fraction in (0, 1], got {top!r} (0.05 = top 5%)")
    rows = _paying_in_month(revenue, as_of)
    n = int(scalar(rows.count()))
    if n == 0:
        raise _no_payers(as_of)
    k = max(1, math.ceil(round(top * n, 9)))
    largest = rows.order_by(ibis.desc("u")).limit(k)
    share = largest.aggregate(top=largest.u.sum()).cross_join(rows.aggregate(total=rows.u.sum())).to_pandas().iloc[0]
    return float(float(share["top"]) / float(share["total"]))


def concentration_summary(revenue: Any, *, as_of: str | date) -> Any:
    """One row of concentration figures of the month of ``as_of``, as
    ``fl.revenue_concentration(...).to_frame()``: ``month, n, total_mrr, gini, top5_share,
    top20_share, accounts_for_80_share``.

    Notes
    -----
    Gini ``sum_i (2i - n - 1) x_i / (n sum x)`` over the MRR sorted ascending (in float64, so to
    about 1e-12); top shares take the ``ceil(top * n)`` largest accounts; the 80% figure counts the
    largest accounts whose running MRR is still below 80% of the total, plus one.
    """
    ibis = ibis_module()
    month = parse_as_of(as_of).to_period("M").start_time
    rows = _paying_in_month(revenue, as_of)
    whole = ibis.window()
    rows = rows.mutate(n=rows.count().over(whole), total=rows.u.sum().over(whole),
                       up=ibis.row_number().over(order_by=rows.u), down=ibis.row_number().over(order_by=ibis.desc(rows.u)),
                       running=rows.u.cumsum(order_by=ibis.desc(rows.u)))

    def top_k(top: float) -> Any:
        return ibis.greatest((rows.n * top).round(9).ceil().cast("int64"), 1)

    x = rows.u.cast("float64")
    summary = rows.aggregate(
        n=rows.n.max(), total=rows.total.max(),
        gini_num=((2 * rows.up - rows.n + 1).cast("float64") * x).sum(),
        top5=rows.u.sum(where=rows.down < top_k(0.05)), top20=rows.u.sum(where=rows.down < top_k(0.20)),
        below80=as_int(rows.running.cast("float64") < rows.total.cast("float64") * 0.8 * (1 - 1e-12)).sum(),
    )
    n, total = summary.n.cast("float64"), summary.total.cast("float64")
    return summary.select(
        month=ibis.literal(month, type="timestamp"), n=summary.n.cast("int64"), total_mrr=total / UNITS,
        gini=summary.gini_num / (n * total), top5_share=summary.top5.cast("float64") / total,
        top20_share=summary.top20.cast("float64") / total,
        accounts_for_80_share=ibis.least(summary.below80 + 1, summary.n).cast("float64") / n,
    )
