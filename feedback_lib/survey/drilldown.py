"""Drill-down behind an NPS figure: the responses of one period (and group) of ``nps_table``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import parse_as_of
from feedback_lib.revenue.drilldown import with_accounts
from feedback_lib.survey.periods import period_ordinal
from feedback_lib.survey.score import nps_category

__all__ = ["nps_responses"]


def nps_responses(
    responses: pd.DataFrame,
    *,
    period: str | date | pd.Timestamp,
    freq: str = "W",
    group: Mapping[str, object] | None = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The responses behind one row of :func:`feedback_lib.nps_table`: a bad week, a segment cell.

    Parameters
    ----------
    responses
        The responses given to ``nps_table`` (``responded_at`` datetime64, ``score``), with any
        grouping columns joined on.
    period
        Any day in the period (the table's ``period`` value works).
    freq
        ``"W"`` (weeks from Monday), ``"M"``, ``"Q"`` or ``"Y"``, as for the table.
    group
        The cell's group, ``{column: value}`` for the table's ``by`` columns (``None`` matches a
        missing value, as the table groups them); ``None`` for the whole period.
    accounts
        Optional accounts table for ``name, segment, region, owner, csm`` (pass a frame with an
        ``mrr`` column, e.g. :func:`feedback_lib.account_covariates`, to add MRR too).

    Returns
    -------
    DataFrame
        The matching responses with a ``category`` column (detractor/passive/promoter),
        detractors first, then by ``responded_at``. Their category counts are the row's
        ``promoters``, ``passives`` and ``detractors``, so ``fl.nps(rows["score"]).score`` is
        the row's ``nps``.

    Examples
    --------
    >>> r = pd.DataFrame({"responded_at": pd.to_datetime(["2025-06-02", "2025-06-04", "2025-06-11"]),
    ...                   "score": [10, 3, 9], "segment": ["SMB", "SMB", "SMB"]})
    >>> nps_responses(r, period="2025-06-02", group={"segment": "SMB"})[["score", "category"]]
       score   category
    0      3  detractor
    1     10   promoter
    """
    require_columns(responses, ("responded_at", "score", *(group or {})), table="responses", where="nps_responses")
    when = parse_as_of(period, name="period", where="nps_responses")
    ordinal = period_ordinal(responses["responded_at"], freq)
    keep = ordinal == period_ordinal(pd.Series([when]), freq)[0]
    for column, value in (group or {}).items():
        col = responses[column]
        keep &= col.isna().to_numpy() if value is None or value is pd.NA else (col == value).fillna(False).to_numpy()
    rows = responses.loc[keep].copy()
    rows["category"] = nps_category(rows["score"]).to_numpy()
    rank = rows["category"].map({"detractor": 0, "passive": 1, "promoter": 2}).to_numpy()
    order = np.lexsort((rows["responded_at"].to_numpy(), rank))
    rows = rows.iloc[order].reset_index(drop=True)
    return with_accounts(rows, accounts) if "account_id" in rows.columns else rows
