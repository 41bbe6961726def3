"""One definition per rate: the glossary printed at the end of every report.

The weekly, quarterly and valuation reports name revenue churn, logo churn, GRR, NRR and NPS
the same way; this table is where each is defined, with its formula and the library function
that computes it (``docs/metrics.md`` has the conventions in full).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["RATE_DEFINITIONS", "rate_glossary"]

#: (rate, definition, formula, function) in the order the glossary shows them.
RATE_DEFINITIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Net revenue retention (NRR)",
        "Revenue today from the accounts that paid 12 months ago, as a share of what they paid "
        "then; expansion counts, accounts won since do not.",
        "NRR = MRR now of last year's paying accounts / their MRR 12 months ago",
        "net_revenue_retention",
    ),
    (
        "Gross revenue retention (GRR)",
        "NRR with each account capped at what it paid 12 months ago: expansion cannot hide "
        "churn and contraction.",
        "GRR = sum of min(MRR now, MRR 12 months ago) / MRR 12 months ago, same accounts",
        "gross_revenue_retention",
    ),
    (
        "Revenue churn",
        "Share of last year's revenue lost to cancellations and downgrades over 12 months "
        "(the annual churn of the valuation models).",
        "Revenue churn = 1 - GRR",
        "gross_revenue_retention",
    ),
    (
        "Logo churn",
        "Share of the accounts that paid 12 months ago and pay nothing now (accounts, not money).",
        "Logo churn = 1 - accounts paying now among last year's payers / last year's payers",
        "logo_retention",
    ),
    (
        "Net Promoter Score (NPS)",
        "Promoters (score 9-10) minus detractors (0-6) as a share of all answers, in points; "
        "the interval is adjusted Wald (3/4 added to promoters and detractors, 3 to n).",
        "NPS = 100 x (promoters - detractors) / responses",
        "nps",
    ),
)


def rate_glossary() -> pd.DataFrame:
    """The rates every report uses, each defined once.

    Returns
    -------
    DataFrame
        One row per rate: ``Rate``, ``Definition``, ``Formula`` (human headers: the table is
        shown as is) and ``Function`` (the ``feedback_lib`` function that computes it).

    Notes
    -----
    All retention rates use a 12-month window, month-end MRR snapshots and count reactivated
    accounts (``count_reactivated=True``), as in ChartMogul's cohort net MRR retention; NPS
    follows Reichheld (2003) with the adjusted-Wald interval of Rocks (2016). See
    ``docs/metrics.md``.

    Examples
    --------
    >>> g = rate_glossary()
    >>> list(g.columns), len(g)
    (['Rate', 'Definition', 'Formula', 'Function'], 5)
    >>> g.loc[g["Rate"] == "Revenue churn", "Formula"].item()
    'Revenue churn = 1 - GRR'
    """
    return pd.DataFrame(list(RATE_DEFINITIONS), columns=["Rate", "Definition", "Formula", "Function"])
