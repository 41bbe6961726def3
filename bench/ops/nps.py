"""NPS by week and segment: ``fl.nps_table`` vs SQL counts, NPS and the adjusted-Wald interval."""

from __future__ import annotations

import duckdb

import feedback_lib as fl
from feedback_lib._util.stats import z_value

from ..compare import compare_frames
from .base import Operation

__all__ = ["OPERATIONS"]

# Adjusted Wald (CONTRACT.md): add 3/4 to promoters and to detractors and 3 to n.
_NPS_SQL = f"""
WITH counts AS (
    SELECT date_trunc('week', responded_at) AS period, segment,          -- weeks start on Monday
           count(*) AS n_responses,
           count(*) FILTER (WHERE score >= 9) AS promoters,
           count(*) FILTER (WHERE score BETWEEN 7 AND 8) AS passives,
           count(*) FILTER (WHERE score <= 6) AS detractors
    FROM responses_segment GROUP BY ALL
),
shares AS (
    SELECT *, promoters + passives + detractors AS n,
           (promoters + 0.75) / (promoters + passives + detractors + 3) AS p_adj,
           (detractors + 0.75) / (promoters + passives + detractors + 3) AS d_adj
    FROM counts
),
stats AS (
    SELECT *, sqrt(greatest(p_adj + d_adj - pow(p_adj - d_adj, 2), 0) / (n + 3)) AS se,
           (promoters - detractors) / n AS score,
           lag(period) OVER w AS previous_period,
           lag((promoters - detractors) / n) OVER w AS previous_score
    FROM shares WINDOW w AS (PARTITION BY segment ORDER BY period)
)
SELECT period, segment, n_responses, n, promoters, passives, detractors, CAST(n AS DOUBLE) AS n_effective,
       100 * score AS nps,
       greatest(-100, least(100, 100 * (p_adj - d_adj - {z_value(0.95)!r} * se))) AS ci_low,
       greatest(-100, least(100, 100 * (p_adj - d_adj + {z_value(0.95)!r} * se))) AS ci_high,
       100 * se AS std_error,
       CASE WHEN previous_period = period - INTERVAL 7 DAY THEN 100 * (score - previous_score) END AS change,
       n < 30 AS small_sample
FROM stats ORDER BY period, segment
"""

_COLUMNS = ["n_responses", "n", "promoters", "passives", "detractors", "n_effective", "nps", "ci_low", "ci_high",
            "std_error", "change", "small_sample"]


def _library(inputs, as_of):
    return fl.nps_table(inputs.get("responses_segment"), freq="W", by=["segment"])


def _baseline(con: duckdb.DuckDBPyConnection, as_of: str):
    return con.sql(_NPS_SQL).to_arrow_table()


def _check(library, baseline):
    return compare_frames(library, baseline, keys=["period", "segment"], columns=_COLUMNS, atol=1e-9, what="nps")


OPERATIONS = (
    Operation("nps_table", "fl.nps_table (W, by segment)", ("responses_segment",), _library, _baseline, _check),
)
