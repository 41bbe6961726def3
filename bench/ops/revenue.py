"""Revenue operations: monthly revenue, MRR movements + ARR bridge, cohorts, concentration.

The baselines add money as BIGINT micro-units (``round(mrr * 1e6)``), exactly as the library
does, so sums are exact and independent of the order of additions; months are integer keys
(months since 1970-01), which DuckDB groups, ranges and sorts faster than timestamps. Among the
variants tried at L, the fastest correct one is kept (see the comments).
"""

from __future__ import annotations

import duckdb

import feedback_lib as fl

from ..compare import combine, compare_frames, compare_scalars
from .base import Operation, month_literal, month_number, month_of, month_start, timestamp_literal

__all__ = ["OPERATIONS"]

_UNITS = "CAST(round(mrr * 1000000) AS BIGINT)"  # money in exact integer micro-units


# ------------------------------------------------------------------------------ monthly revenue
def _revenue_sql(as_of: str) -> str:
    # Step encoding: +mrr in a subscription's first month, -mrr after its last; a running sum per
    # account gives constant-MRR segments, unnested into months (gap months are segments at 0).
    # About 3x faster at L than expanding every subscription into months, grouping by account and
    # month and left-joining a month grid.
    day, as_of_m = timestamp_literal(as_of), month_number(as_of)
    return f"""
    WITH subs AS (           -- first and last month-end at which each subscription is active
        SELECT account_id, {_UNITS} AS mrr,
               {month_of('start_date')} AS first_m,
               CASE WHEN end_date IS NULL OR end_date > {day} THEN {as_of_m}
                    ELSE {month_of('end_date')} - 1 END AS last_m
        FROM subscriptions
        WHERE mrr > 0 AND start_date <= {day}
    ),
    steps AS (
        SELECT account_id, m, CAST(sum(step) AS BIGINT) AS step FROM (
            SELECT account_id, first_m AS m, mrr AS step FROM subs WHERE last_m >= first_m
            UNION ALL
            SELECT account_id, last_m + 1, -mrr FROM subs WHERE last_m >= first_m
        ) GROUP BY account_id, m
    ),
    segments AS (
        SELECT account_id, m AS from_m, lead(m) OVER w AS to_m, CAST(sum(step) OVER w AS BIGINT) AS mrr
        FROM steps
        WINDOW w AS (PARTITION BY account_id ORDER BY m ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT account_id, {month_start('m')} AS month, mrr / 1000000 AS mrr
    FROM (SELECT account_id, unnest(range(from_m, to_m)) AS m, mrr FROM segments WHERE to_m IS NOT NULL)
    ORDER BY account_id, m
    """


def _revenue_library(inputs, as_of):
    return fl.monthly_revenue(inputs.get("subscriptions"), as_of=as_of)


def _revenue_baseline(con: duckdb.DuckDBPyConnection, as_of: str):
    return con.sql(_revenue_sql(as_of)).to_arrow_table()


def _revenue_check(library, baseline):
    return compare_frames(library, baseline, keys=["account_id", "month"], columns=["mrr"], what="revenue")


# ------------------------------------------------------------------------------ movements + bridge
def _movements_sql(as_of: str) -> str:
    # One window pass per account (lag for the previous month, whole-partition min/max for the
    # first paid and the last month); a framed "paid before" count was 15% slower at L.
    as_of_m = month_number(as_of)
    return f"""
    CREATE OR REPLACE TEMP TABLE bench_movements AS
    WITH w AS (
        SELECT account_id, m, mrr,
               coalesce(lag(mrr) OVER acc, 0) AS previous_mrr,
               min(m) FILTER (WHERE mrr > 0) OVER whole AS first_paid_m,
               max(m) OVER whole AS last_m
        FROM (SELECT account_id, {month_of('month')} AS m, {_UNITS} AS mrr
              FROM revenue WHERE month <= {month_literal(as_of)})
        WINDOW acc AS (PARTITION BY account_id ORDER BY m), whole AS (PARTITION BY account_id)
    )
    SELECT account_id, m, mrr, previous_mrr, mrr - previous_mrr AS mrr_change,
           CASE WHEN m = first_paid_m THEN 'new'
                WHEN mrr = 0 AND previous_mrr > 0 THEN 'churn'
                WHEN mrr > 0 AND previous_mrr = 0 THEN 'reactivation'
                WHEN mrr > previous_mrr THEN 'expansion'
                WHEN mrr < previous_mrr THEN 'contraction'
                ELSE 'unchanged' END AS category
    FROM w
    UNION ALL                -- the churn row after an account's last paid month before as_of
    SELECT account_id, m + 1, 0, mrr, -mrr, 'churn' FROM w WHERE m = last_m AND mrr > 0 AND m < {as_of_m}
    """


_MOVEMENTS_OUT = f"""
SELECT account_id, {month_start('m')} AS month, mrr / 1000000 AS mrr, previous_mrr / 1000000 AS previous_mrr,
       mrr_change / 1000000 AS mrr_change, category
FROM bench_movements ORDER BY account_id, m
"""

_BRIDGE = f"""
WITH p AS (
    SELECT m,
           sum(mrr_change) FILTER (WHERE category = 'new') AS new,
           sum(mrr_change) FILTER (WHERE category = 'expansion') AS expansion,
           sum(mrr_change) FILTER (WHERE category = 'reactivation') AS reactivation,
           sum(mrr_change) FILTER (WHERE category = 'contraction') AS contraction,
           sum(mrr_change) FILTER (WHERE category = 'churn') AS churn,
           sum(mrr_change) AS total
    FROM bench_movements GROUP BY m
),
grid AS (SELECT unnest(range(min(m), max(m) + 1)) AS m FROM bench_movements),
opening AS (
    SELECT sum(previous_mrr) AS mrr FROM bench_movements
    WHERE m = (SELECT min(m) FROM bench_movements)
)
SELECT {month_start('grid.m')} AS period,
       (opening.mrr + coalesce(sum(coalesce(total, 0)) OVER before, 0)) / 1000000 AS opening_mrr,
       coalesce(new, 0) / 1000000 AS new,
       coalesce(expansion, 0) / 1000000 AS expansion,
       coalesce(reactivation, 0) / 1000000 AS reactivation,
       coalesce(contraction, 0) / 1000000 AS contraction,
       coalesce(churn, 0) / 1000000 AS churn,
       (opening.mrr + sum(coalesce(total, 0)) OVER upto) / 1000000 AS closing_mrr
FROM grid LEFT JOIN p USING (m) CROSS JOIN opening
WINDOW before AS (ORDER BY grid.m ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
       upto AS (ORDER BY grid.m ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
ORDER BY grid.m
"""


def _bridge_library(inputs, as_of):
    movements = fl.mrr_movements(inputs.get("revenue"), as_of=as_of)
    return movements, fl.arr_bridge(movements, freq="M")


def _bridge_baseline(con: duckdb.DuckDBPyConnection, as_of: str):
    con.execute(_movements_sql(as_of))
    result = con.sql(_MOVEMENTS_OUT).to_arrow_table(), con.sql(_BRIDGE).to_arrow_table()
    con.execute("DROP TABLE bench_movements")
    return result


_BRIDGE_COLUMNS = ["opening_mrr", "new", "expansion", "reactivation", "contraction", "churn", "closing_mrr"]


def _bridge_check(library, baseline):
    return combine(
        compare_frames(library[0], baseline[0], keys=["account_id", "month"],
                       columns=["mrr", "previous_mrr", "mrr_change", "category"], what="movements"),
        compare_frames(library[1], baseline[1], keys=["period"], columns=_BRIDGE_COLUMNS, what="bridge"),
    )


# ------------------------------------------------------------------------------ cohorts
def _cohort_sql(as_of: str) -> str:
    # Joining each paid month to its account's first paid month beat a window min() at L.
    return f"""
    WITH r AS (
        SELECT account_id, {month_of('month')} AS m, {_UNITS} AS mrr
        FROM revenue WHERE month <= {month_literal(as_of)} AND mrr > 0
    ),
    firsts AS (SELECT account_id, min(m) AS cohort, arg_min(mrr, m) AS starting FROM r GROUP BY account_id),
    sizes AS (SELECT cohort, count(*) AS accounts, sum(starting) AS starting_mrr FROM firsts GROUP BY cohort),
    cells AS (
        SELECT cohort, m - cohort AS period_index, count(*) AS retained, sum(mrr) AS mrr
        FROM r JOIN firsts USING (account_id) GROUP BY ALL
    ),
    grid AS (
        SELECT cohort, accounts, starting_mrr,
               unnest(range(0, {month_number(as_of)} - cohort + 1)) AS period_index
        FROM sizes
    )
    SELECT {month_start('cohort')} AS cohort, period_index, accounts,
           coalesce(retained, 0) AS retained, coalesce(mrr, 0) / 1000000 AS mrr,
           starting_mrr / 1000000 AS starting_mrr,
           coalesce(retained, 0) / accounts AS share,
           coalesce(mrr, 0) / starting_mrr AS mrr_retention
    FROM grid LEFT JOIN cells USING (cohort, period_index)
    ORDER BY cohort, period_index
    """


def _cohort_library(inputs, as_of):
    return fl.cohort_retention(inputs.get("revenue"), as_of=as_of, freq="M")


def _cohort_baseline(con: duckdb.DuckDBPyConnection, as_of: str):
    return con.sql(_cohort_sql(as_of)).to_arrow_table()


def _cohort_check(library, baseline):
    return compare_frames(
        library, baseline, keys=["cohort", "period_index"],
        columns=["accounts", "retained", "mrr", "starting_mrr", "share", "mrr_retention"], what="cohorts",
    )


# ------------------------------------------------------------------------------ concentration
def _paying_sql(as_of: str) -> str:
    return f"SELECT {_UNITS} AS mrr FROM revenue WHERE month = {month_literal(as_of)} AND mrr > 0"


def _concentration_sql(as_of: str, top: float) -> str:
    return f"""
    WITH v AS (
        SELECT mrr, row_number() OVER (ORDER BY mrr) AS i, count(*) OVER () AS n
        FROM ({_paying_sql(as_of)})
    )
    SELECT sum(mrr) FILTER (WHERE i > n - greatest(1, ceil(round({top!r} * n, 9)))) / sum(mrr) AS top_share,
           sum((2 * i - n - 1) * CAST(mrr AS DOUBLE)) / (any_value(n) * CAST(sum(mrr) AS DOUBLE)) AS gini
    FROM v
    """


def _lorenz_sql(as_of: str) -> str:
    return f"""
    SELECT 0 AS accounts, 0.0 AS account_share, 0.0 AS mrr_share
    UNION ALL
    SELECT row_number() OVER w AS accounts,
           row_number() OVER w / count(*) OVER () AS account_share,
           sum(mrr) OVER w / sum(mrr) OVER () AS mrr_share
    FROM ({_paying_sql(as_of)})
    WINDOW w AS (ORDER BY mrr ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ORDER BY accounts
    """


def _concentration_library(inputs, as_of):
    # one pass over the month's rows for the three answers (top_share, gini and lorenz_curve
    # each make that pass when called on their own)
    concentration = fl.revenue_concentration(inputs.get("revenue"), as_of=as_of)
    return {"top_share": concentration.top_share(0.05), "gini": concentration.gini}, concentration.lorenz


def _concentration_baseline(con: duckdb.DuckDBPyConnection, as_of: str):
    (top_share, gini), = con.execute(_concentration_sql(as_of, 0.05)).fetchall()
    return {"top_share": top_share, "gini": gini}, con.sql(_lorenz_sql(as_of)).to_arrow_table()


def _concentration_check(library, baseline):
    return combine(
        compare_scalars(library[0], baseline[0]),
        compare_frames(library[1], baseline[1], keys=["accounts"], columns=["account_share", "mrr_share"],
                       atol=1e-12, what="lorenz"),
    )


OPERATIONS = (
    Operation("monthly_revenue", "fl.monthly_revenue", ("subscriptions",),
              _revenue_library, _revenue_baseline, _revenue_check),
    Operation("mrr_movements_bridge", "fl.mrr_movements + fl.arr_bridge (M)", ("revenue",),
              _bridge_library, _bridge_baseline, _bridge_check),
    Operation("cohort_retention", "fl.cohort_retention (M)", ("revenue",),
              _cohort_library, _cohort_baseline, _cohort_check),
    Operation("concentration", "fl.revenue_concentration (top 5% share, Gini, Lorenz)", ("revenue",),
              _concentration_library, _concentration_baseline, _concentration_check),
)
