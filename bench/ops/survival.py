"""Survival operations: lifetimes, the covariate snapshot, Kaplan-Meier and the Cox churn model."""

from __future__ import annotations

import duckdb

import feedback_lib as fl
from feedback_lib._util.stats import z_value
from feedback_lib.churn.features import account_covariates
from feedback_lib.churn.model import ChurnModel

from ..compare import combine, compare_frames
from .base import Operation, month_literal, month_number, month_of, month_start, timestamp_literal

__all__ = ["OPERATIONS"]

_ALL_TABLES = ("accounts", "subscriptions", "responses", "conversations", "tickets", "usage")


# ------------------------------------------------------------------------------ lifetimes
def _lifetimes_sql(as_of: str) -> str:
    # monthly_revenue's rows run without holes from an account's first to its last paid month, so
    # the first lifetime ends at the first month with mrr 0, or after the last row.
    as_of_m = month_number(as_of)
    return f"""
    WITH a AS (
        SELECT account_id,
               min(m) FILTER (WHERE mrr > 0) AS first_m,
               coalesce(min(m) FILTER (WHERE mrr = 0), max(m) FILTER (WHERE mrr > 0) + 1) AS churn_m
        FROM (SELECT account_id, mrr, {month_of('month')} AS m FROM revenue WHERE month <= {month_literal(as_of)})
        GROUP BY account_id HAVING max(mrr) > 0
    )
    SELECT account_id, {month_start('first_m')} AS start_month,
           least(churn_m, {as_of_m} + 1) - first_m AS duration_months,
           churn_m <= {as_of_m} AS churned,
           CASE WHEN churn_m <= {as_of_m} THEN {month_start('churn_m')} END AS churn_month
    FROM a ORDER BY account_id
    """


def _lifetimes_library(inputs, as_of):
    return fl.account_lifetimes(inputs.get("revenue"), as_of=as_of)


def _lifetimes_baseline(con: duckdb.DuckDBPyConnection, as_of: str):
    return con.sql(_lifetimes_sql(as_of)).to_arrow_table()


def _lifetimes_check(library, baseline):
    return compare_frames(library, baseline, keys=["account_id"],
                          columns=["start_month", "duration_months", "churned", "churn_month"], what="lifetimes")


# ------------------------------------------------------------------------------ covariates
def _covariates_sql(as_of: str) -> str:
    day, as_of_m = timestamp_literal(as_of), month_number(as_of)
    return f"""
    WITH active AS (         -- paying at as_of: plan of the largest subscription (ties: lowest id)
        SELECT account_id, sum(mrr) AS mrr, arg_min(plan, (-mrr, subscription_id)) AS plan
        FROM subscriptions
        WHERE start_date <= {day} AND (end_date IS NULL OR end_date > {day}) AND mrr > 0
        GROUP BY account_id
    ),
    first_paid AS (          -- first month-end at which a subscription was active
        SELECT account_id, min({month_of('start_date')}) AS first_m
        FROM subscriptions
        WHERE mrr > 0 AND start_date <= {day}
          AND (end_date IS NULL OR end_date > {day} OR {month_of('end_date')} - 1 >= {month_of('start_date')})
        GROUP BY account_id
    ),
    nps AS (                 -- latest and previous score up to as_of
        SELECT account_id, count(*) AS n, max_by(score, (responded_at, response_id), 2) AS last_two
        FROM responses WHERE responded_at <= {day} GROUP BY account_id
    ),
    tk AS (
        SELECT account_id, count(*) AS n,
               count(*) FILTER (WHERE severity IN ('high', 'critical')) AS severe
        FROM tickets WHERE opened_at <= {day} AND opened_at > {day} - INTERVAL 90 DAY
        GROUP BY account_id
    ),
    us AS (                  -- usage weeks whose Monday is 0-27 and 28-55 days before as_of
        SELECT account_id,
               sum(active_users) FILTER (WHERE week > {day} - INTERVAL 28 DAY) AS users_recent,
               sum(seats) FILTER (WHERE week > {day} - INTERVAL 28 DAY) AS seats_recent,
               sum(active_users) FILTER (WHERE week <= {day} - INTERVAL 28 DAY) AS users_before,
               sum(seats) FILTER (WHERE week <= {day} - INTERVAL 28 DAY) AS seats_before
        FROM usage WHERE week <= {day} AND week > {day} - INTERVAL 56 DAY
        GROUP BY account_id
    ),
    conv AS (SELECT account_id, max(held_on) AS last FROM conversations WHERE held_on <= {day} GROUP BY account_id),
    joined AS (
        SELECT active.account_id, coalesce(accounts.segment, '(unknown)') AS segment, plan, active.mrr,
               {as_of_m} - first_paid.first_m + 1 AS tenure_months,
               nps.last_two[1] AS nps_latest, nps.last_two[2] AS nps_previous, coalesce(nps.n, 0) AS nps_responses,
               coalesce(tk.n, 0) AS tickets_90d, coalesce(tk.severe, 0) AS high_critical_90d,
               CASE WHEN seats_recent > 0 THEN users_recent / seats_recent END AS seat_utilisation,
               CASE WHEN seats_before > 0 THEN users_before / seats_before END AS utilisation_before,
               conv.last
        FROM active
        LEFT JOIN accounts USING (account_id) LEFT JOIN first_paid USING (account_id)
        LEFT JOIN nps USING (account_id) LEFT JOIN tk USING (account_id)
        LEFT JOIN us USING (account_id) LEFT JOIN conv USING (account_id)
    )
    SELECT account_id, segment, plan, mrr,
           CASE WHEN mrr < 250 THEN '<250' WHEN mrr < 1000 THEN '250-1,000'
                WHEN mrr < 5000 THEN '1,000-5,000' ELSE '5,000+' END AS mrr_band,
           tenure_months,
           CASE WHEN nps_latest >= 9 THEN 'promoter' WHEN nps_latest >= 7 THEN 'passive'
                WHEN nps_latest >= 0 THEN 'detractor' ELSE 'none' END AS nps_category,
           nps_latest, nps_latest - nps_previous AS nps_trend, nps_responses,
           tickets_90d, high_critical_90d, seat_utilisation,
           seat_utilisation - utilisation_before AS usage_trend,
           (epoch({day}) - epoch(last)) / 86400 AS days_since_exec_conversation,
           last IS NOT NULL AS exec_conversation
    FROM joined ORDER BY account_id
    """


_COVARIATE_COLUMNS = [
    "segment", "plan", "mrr", "mrr_band", "tenure_months", "nps_category", "nps_latest", "nps_trend",
    "nps_responses", "tickets_90d", "high_critical_90d", "seat_utilisation", "usage_trend",
    "days_since_exec_conversation", "exec_conversation",
]


def _covariates_library(inputs, as_of):
    return account_covariates(inputs.dataset(), as_of=as_of)


def _covariates_baseline(con: duckdb.DuckDBPyConnection, as_of: str):
    return con.sql(_covariates_sql(as_of)).to_arrow_table()


def _covariates_check(library, baseline):
    return compare_frames(library, baseline, keys=["account_id"], columns=_COVARIATE_COLUMNS, what="covariates")


# ------------------------------------------------------------------------------ Kaplan-Meier
def _km_sql(confidence: float) -> str:
    # lifelines' KaplanMeierFitter: product-limit estimate, exponential Greenwood bands
    # (log(-log S) scale), a row at time 0, bands 1.0 where undefined.
    z = z_value(confidence)
    return f"""
    WITH by_time AS (
        SELECT segment AS "group", duration_months AS time, count(*) AS removed,
               count(*) FILTER (WHERE churned) AS events
        FROM lifetimes_segment GROUP BY ALL
        UNION ALL
        SELECT DISTINCT segment, 0, 0, 0 FROM lifetimes_segment
    ),
    t AS (
        SELECT "group", time, CAST(sum(removed) AS BIGINT) AS removed, CAST(sum(events) AS BIGINT) AS events
        FROM by_time GROUP BY ALL
    ),
    risk AS (
        SELECT *, CAST(sum(removed) OVER g - coalesce(sum(removed) OVER before, 0) AS BIGINT) AS at_risk
        FROM t
        WINDOW g AS (PARTITION BY "group"),
               before AS (PARTITION BY "group" ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ),
    curve AS (
        SELECT "group", time, at_risk, events, removed - events AS censored,
               CASE WHEN bool_or(events = at_risk) OVER upto THEN 0.0
                    ELSE exp(sum(ln(at_risk - events) - ln(at_risk)) OVER upto) END AS survival,
               sum(CASE WHEN events < at_risk THEN events / (at_risk * (at_risk - events)) ELSE 0 END) OVER upto AS var
        FROM risk
        WINDOW upto AS (PARTITION BY "group" ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT "group", time, at_risk, events, censored, survival,
           CASE WHEN survival > 0 AND survival < 1
                THEN exp(-exp(ln(-ln(survival)) - {z!r} * sqrt(var) / ln(survival))) ELSE 1.0 END AS ci_low,
           CASE WHEN survival > 0 AND survival < 1
                THEN exp(-exp(ln(-ln(survival)) + {z!r} * sqrt(var) / ln(survival))) ELSE 1.0 END AS ci_high
    FROM curve ORDER BY "group", time
    """


_KM_SUMMARY = """
SELECT "group", CAST(sum(removed_n) AS BIGINT) AS n, CAST(sum(events_n) AS BIGINT) AS events, min(time) FILTER (WHERE survival <= 0.5) AS median
FROM (SELECT "group", time, survival, 0 AS removed_n, 0 AS events_n FROM bench_km
      UNION ALL SELECT segment, NULL, NULL, 1, churned::INT FROM lifetimes_segment)
GROUP BY "group" ORDER BY "group"
"""


def _km_library(inputs, as_of):
    return fl.kaplan_meier(inputs.get("lifetimes_segment"), by="segment")


def _km_baseline(con: duckdb.DuckDBPyConnection, as_of: str):
    curves = con.sql(_km_sql(0.95)).to_arrow_table()
    con.register("bench_km", curves)
    summary = con.sql(_KM_SUMMARY).to_arrow_table()
    con.unregister("bench_km")
    return curves, summary


def _km_check(library, baseline):
    summary = library.summary.assign(median=library.summary["median"].where(library.summary["median"] < float("inf")))
    return combine(
        compare_frames(library.curves, baseline[0], keys=["group", "time"],
                       columns=["at_risk", "events", "censored", "survival", "ci_low", "ci_high"], atol=1e-12,
                       what="km curves"),
        compare_frames(summary, baseline[1], keys=["group"], columns=["n", "events", "median"], what="km summary"),
    )


# ------------------------------------------------------------------------------ Cox
def _cox_library(inputs, as_of):
    return ChurnModel().fit(inputs.dataset(), as_of=as_of)


def _cox_info(model) -> dict:
    return {"accounts_fitted": model.n_, "events": model.events_, "sample_fraction": model.sample_fraction_,
            "max_rows": model.max_rows}


OPERATIONS = (
    Operation("account_lifetimes", "fl.account_lifetimes", ("revenue",),
              _lifetimes_library, _lifetimes_baseline, _lifetimes_check),
    Operation("account_covariates", "account_covariates (snapshot at as_of)", _ALL_TABLES,
              _covariates_library, _covariates_baseline, _covariates_check),
    Operation("kaplan_meier", "fl.kaplan_meier (by segment, lifelines)", ("lifetimes_segment",),
              _km_library, _km_baseline, _km_check, ratio_target=False),
    Operation("cox_churn_model", "ChurnModel().fit (Cox, lifelines)", _ALL_TABLES,
              _cox_library, ratio_target=False, info=_cox_info),
)
