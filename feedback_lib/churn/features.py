"""Churn covariates: an account snapshot at a date, and a monthly account panel for time-varying models.

Both builders read only what was known at the time: records dated on or before ``as_of`` for the
snapshot, and records dated before the first day of each month for the panel. They are vectorised
with integer account codes and sorted ``code * K + month`` keys, so they scale to millions of
accounts.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from feedback_lib._util.arrow import (
    is_strictly_increasing,
    lookup,
    lookup_columns,
    string_series,
    text_array,
)
from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import month_of_dates, parse_as_of
from feedback_lib.errors import ParameterError
from feedback_lib.revenue.mrr import active_on, counted_months

__all__ = ["account_covariates", "PANEL_COVARIATES"]

#: The planted-mechanism covariates of :func:`monthly_panel`, in the order D, B, U.
PANEL_COVARIATES: tuple[str, ...] = ("detractor", "ticket_burst", "low_usage")

_K = 1 << 20  # key = account code * _K + month index (month indexes since 1970 are < _K)
_NPS_CATEGORIES = ["promoter", "passive", "detractor", "none"]


def account_covariates(
    dataset,
    *,
    as_of,
    mrr_band_edges: tuple[float, ...] = (250.0, 1000.0, 5000.0),
) -> pd.DataFrame:
    """Snapshot of churn covariates for every account paying at ``as_of``.

    Parameters
    ----------
    dataset
        A :class:`feedback_lib.Dataset` (or any object with the six canonical tables as
        attributes).
    as_of
        Snapshot date (inclusive): an account is included when its subscriptions active on that
        day sum to MRR > 0; only records dated on or before it are used.
    mrr_band_edges
        Increasing MRR thresholds of the ``mrr_band`` labels.

    Returns
    -------
    DataFrame
        One row per paying account, sorted by ``account_id``:

        - ``segment``, ``plan`` (plan of the account's largest active subscription), ``mrr``,
          ``mrr_band``, ``tenure_months`` (months from the first paid month to the month of
          ``as_of``, both included);
        - ``nps_category`` (promoter 9-10, passive 7-8, detractor 0-6 of the latest response;
          ``none`` without one), ``nps_latest``, ``nps_trend`` (latest minus previous score; NaN
          with fewer than two responses), ``nps_responses``;
        - ``tickets_90d`` (opened in the 90 days ending at ``as_of``), ``high_critical_90d``;
        - ``seat_utilisation`` (sum of active users / sum of seats over the usage weeks whose
          Monday falls in the last 28 days), ``usage_trend`` (that minus the same ratio over the
          28 days before; NaN without usage);
        - ``days_since_exec_conversation`` (NaN when never) and ``exec_conversation`` (bool).

    Notes
    -----
    The readable specification is ``tests/reference/churn.py::account_covariates``; the two are
    tested equal with hypothesis (``tests/test_reference_implementations.py``).

    Examples
    --------
    >>> from feedback_lib.io.dataset import Dataset
    >>> ds = Dataset(
    ...     accounts=pd.DataFrame({"account_id": ["a", "b"], "segment": ["SMB", "Enterprise"]}),
    ...     subscriptions=pd.DataFrame({
    ...         "subscription_id": ["s1", "s2"], "account_id": ["a", "b"], "plan": ["Pro", "Team"],
    ...         "start_date": pd.to_datetime(["2024-01-10", "2024-03-01"]),
    ...         "end_date": pd.to_datetime([None, "2024-05-01"]), "mrr": [100.0, 900.0]}),
    ...     responses=pd.DataFrame({"response_id": ["r1", "r2"], "account_id": ["a", "a"],
    ...         "responded_at": pd.to_datetime(["2024-02-01", "2024-05-20"]), "score": [9, 5]}))
    >>> cov = account_covariates(ds, as_of="2024-06-30")
    >>> cov[["account_id", "mrr", "tenure_months", "nps_category", "nps_trend"]]
      account_id    mrr  tenure_months nps_category  nps_trend
    0          a  100.0              6    detractor       -4.0
    """
    as_of = parse_as_of(as_of, where="account_covariates")
    day = as_of.to_datetime64()
    subs = dataset.subscriptions
    require_columns(subs, ("account_id", "plan", "start_date", "end_date", "mrr"),
                    table="subscriptions", where="account_covariates")
    index = _AccountIndex(dataset.accounts)
    with ThreadPoolExecutor(1) as pool:  # the usage weeks (the largest table) in a second thread
        usage = pool.submit(_usage_weeks, dataset.usage, index.accounts, day)
        index.add_subscribers(subs)
        paying = _PayingAccounts.at(subs, index, day)
        n = len(paying.positions)
        out = pd.DataFrame({"account_id": string_series(index.ids_of(paying.positions))})
        events = _event_rows(dataset, day)
        found = lookup_columns([ids for ids, _ in events.values()], index.accounts, threads=1)
        code = {name: paying.rows_of(index.resolve(pos, ids)) for (name, (ids, _)), pos in zip(events.items(), found)}
        rows = {name: r for name, (_, r) in events.items()}
        out["segment"] = _segment(dataset.accounts, index, paying.positions)
        out["plan"] = string_series(text_array(subs["plan"]).take(pa.array(paying.plan_rows)))
        out["mrr"] = paying.mrr
        out["mrr_band"] = _bands(out["mrr"], mrr_band_edges)
        out["tenure_months"] = month_of_dates(np.array([day]))[0] - paying.first_paid_month(subs, day) + 1
        _add_nps(out, dataset.responses, rows["responses"], code["responses"], n)
        _add_tickets(out, dataset.tickets, rows["tickets"], code["tickets"], n)
        positions, ids, sums = usage.result()
    code["usage"] = paying.rows_of(index.resolve(positions, ids))
    out["seat_utilisation"], out["usage_trend"] = _usage_ratios(code["usage"], sums, n)
    last = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = code["conversations"] >= 0
    held = _dates(dataset.conversations, "held_on")[rows["conversations"]][ok]
    np.maximum.at(last.view(np.int64), code["conversations"][ok], held.view(np.int64))  # NaT is the smallest int64
    out["days_since_exec_conversation"] = (day - last) / np.timedelta64(1, "D")
    out["exec_conversation"] = ~np.isnat(last)
    return out




# ---------------------------------------------------------------- snapshot pieces
class _AccountIndex:
    """Every account a snapshot can meet, numbered: the rows of the accounts table, then the
    subscribers missing from it (hand-built data; a loaded Dataset has none).

    Look-ups go against the accounts table's ids alone (so that they can start before the
    subscriptions are read); :meth:`resolve` finds the few subscribers outside it.
    """

    def __init__(self, accounts: pd.DataFrame) -> None:
        ids = text_array(accounts["account_id"]) if "account_id" in accounts.columns else text_array([])
        self.accounts = ids.combine_chunks().cast(pa.large_string())
        self.extra = pa.array([], type=pa.large_string())
        self.sorted = is_strictly_increasing(self.accounts)

    def add_subscribers(self, subs: pd.DataFrame) -> None:
        """Number the subscriptions' accounts (``sub_positions``), adding those not in accounts."""
        ids = text_array(subs["account_id"])
        positions = lookup_columns([ids], self.accounts, threads=1)[0]
        missing = (positions < 0) & pc.is_valid(ids).to_numpy(zero_copy_only=False)
        if missing.any():
            self.extra = pc.unique(ids.filter(pa.array(missing))).cast(pa.large_string())
        self.sub_positions = self.resolve(positions, ids)

    def resolve(self, positions: np.ndarray, ids: pa.ChunkedArray) -> np.ndarray:
        """``positions`` (from a look-up in ``accounts``) with the extra subscribers filled in."""
        if len(self.extra) == 0:
            return positions
        missing = positions < 0
        found = lookup(ids.filter(pa.array(missing)), self.extra)
        positions = positions.copy()
        positions[missing] = np.where(found >= 0, found + len(self.accounts), -1)
        return positions

    @property
    def size(self) -> int:
        return len(self.accounts) + len(self.extra)

    def ids_of(self, positions: np.ndarray) -> pa.Array:
        """The account ids of ``positions``."""
        return pa.concat_arrays([self.accounts, self.extra]).take(pa.array(positions))


class _PayingAccounts:
    """Accounts paying on one day, in ``account_id`` order, with their MRR and largest plan.

    ``positions`` number them as :class:`_AccountIndex` does; ``slot`` maps such a number to
    the account's row in the snapshot (-1 when it is not paying).
    """

    def __init__(self, index: _AccountIndex, positions, slot, mrr, plan_rows) -> None:
        self.index, self.positions, self.slot, self.mrr, self.plan_rows = index, positions, slot, mrr, plan_rows

    @classmethod
    def at(cls, subs: pd.DataFrame, index: _AccountIndex, day: np.datetime64) -> _PayingAccounts:
        sub_positions = index.sub_positions
        mrr = subs["mrr"].to_numpy(dtype=float, na_value=np.nan)
        active = active_on(_dates(subs, "start_date"), _dates(subs, "end_date"), day)
        rows = np.flatnonzero(active & (mrr > 0) & (sub_positions >= 0))
        seen = np.zeros(index.size, dtype=bool)
        seen[sub_positions[rows]] = True
        paying = np.flatnonzero(seen)
        if not index.sorted or len(index.extra):  # numbered out of account_id order
            paying = paying[pc.sort_indices(index.ids_of(paying)).to_numpy()]
        slot = np.full(index.size, -1, dtype=np.int64)
        slot[paying] = np.arange(len(paying))
        code = slot[sub_positions[rows]]
        # float even when nobody pays (numpy's bincount of no rows is an integer array)
        total = np.bincount(code, weights=mrr[rows], minlength=len(paying)).astype(float, copy=False)
        # the plan of the largest active subscription; ties go to the earliest row
        largest = np.full(len(paying), -np.inf)
        np.maximum.at(largest, code, mrr[rows])
        tied = mrr[rows] == largest[code]
        plan_rows = np.full(len(paying), len(subs), dtype=np.int64)
        np.minimum.at(plan_rows, code[tied], rows[tied])
        return cls(index, paying, slot, total, plan_rows)

    def rows_of(self, positions: np.ndarray) -> np.ndarray:
        """Snapshot row of accounts numbered ``positions`` (-1: unknown or not paying)."""
        rows = np.full(len(positions), -1, dtype=np.int64)
        known = positions >= 0
        rows[known] = self.slot[positions[known]]
        return rows

    def first_paid_month(self, subs: pd.DataFrame, day: np.datetime64) -> np.ndarray:
        """First month with MRR > 0 by :func:`feedback_lib.monthly_revenue`'s rule, per account.

        The smallest start month of the account's subscriptions that count in some month
        (:func:`feedback_lib.revenue.mrr.counted_months`): the minimum paid month of
        ``monthly_revenue(subs, as_of=day)``, without building the account-month table.
        """
        counts, sm, _ = counted_months(_dates(subs, "start_date"), _dates(subs, "end_date"), as_of=pd.Timestamp(day))
        mrr = subs["mrr"].to_numpy(dtype=float, na_value=np.nan)
        code = self.rows_of(self.index.sub_positions)
        counts &= (mrr > 0) & (code >= 0)
        first = np.full(len(self.positions), np.iinfo(np.int64).max)
        np.minimum.at(first, code[counts], sm[counts])
        return first


def _dates(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype="datetime64[ns]")


def _event_rows(dataset, day: np.datetime64) -> dict[str, tuple[pa.ChunkedArray, np.ndarray]]:
    """Per table a snapshot on ``day`` reads: the account ids and positions of the rows it uses.

    Responses and conversations up to ``day``, tickets opened in the 90 days ending on ``day``
    (usage weeks: :func:`_usage_weeks`).
    """
    opened = _dates(dataset.tickets, "opened_at")
    keep = {
        "responses": _dates(dataset.responses, "responded_at") <= day,
        "tickets": (opened <= day) & (opened > day - np.timedelta64(90, "D")),
        "conversations": _dates(dataset.conversations, "held_on") <= day,
    }
    return {name: _rows_of(getattr(dataset, name), mask) for name, mask in keep.items()}


def _rows_of(frame: pd.DataFrame, mask: np.ndarray) -> tuple[pa.ChunkedArray, np.ndarray]:
    """The account ids of the rows of ``frame`` in ``mask``, and those rows' positions."""
    ids = text_array(frame["account_id"])
    return (ids, np.arange(len(mask))) if mask.all() else (ids.filter(pa.array(mask)), np.flatnonzero(mask))


def _segment(accounts: pd.DataFrame, index: _AccountIndex, positions: np.ndarray) -> pd.Series:
    """``accounts.segment`` of accounts numbered ``positions``; ``(unknown)`` for subscribers
    missing from the accounts table."""
    known = positions < len(index.accounts)
    if "segment" not in accounts.columns or not len(accounts):
        return string_series(pa.array(["(unknown)"] * len(positions), type=pa.large_string()))
    taken = text_array(accounts["segment"]).take(pa.array(np.where(known, positions, 0), mask=~known))
    return string_series(pc.fill_null(taken, "(unknown)"))


def _bands(mrr: pd.Series, edges: tuple[float, ...]) -> pd.Categorical:
    edges = tuple(float(e) for e in edges)
    if list(edges) != sorted(set(edges)) or not edges or edges[0] <= 0:
        raise ParameterError(f"mrr_band_edges must be increasing positive numbers, got {edges!r}")
    labels = [f"<{edges[0]:,.0f}"]
    labels += [f"{a:,.0f}-{b:,.0f}" for a, b in zip(edges[:-1], edges[1:])]
    labels += [f"{edges[-1]:,.0f}+"]
    return pd.cut(mrr, bins=[0.0, *edges, np.inf], labels=labels, right=False)


def _id_rank(ids) -> np.ndarray:
    """Rank of each id in string order (row order when the ids are already increasing)."""
    values = text_array(ids)
    if is_strictly_increasing(values):
        return np.arange(len(values))
    return pc.rank(values, sort_keys="ascending", tiebreaker="first").to_numpy().astype(np.int64)


def _add_nps(out: pd.DataFrame, responses: pd.DataFrame, rows: np.ndarray, code: np.ndarray, n: int) -> None:
    ok = np.flatnonzero(code >= 0)
    rows = rows[ok]
    when = _dates(responses, "responded_at").view(np.int64)[rows]
    order = np.lexsort((_id_rank(responses["response_id"])[rows], when, code[ok]))
    code = code[ok][order]
    score = responses["score"].to_numpy(dtype=float, na_value=np.nan)[rows[order]]
    count = np.bincount(code, minlength=n)
    last = np.r_[code[1:] != code[:-1], True] if len(code) else np.zeros(0, bool)
    latest = np.full(n, np.nan)
    latest[code[last]] = score[last]
    prev = np.full(n, np.nan)
    # the row before an account's last row is its previous response when the account has >= 2
    idx_last = np.flatnonzero(last)
    has_prev = count[code[idx_last]] >= 2
    prev[code[idx_last[has_prev]]] = score[idx_last[has_prev] - 1]
    category = np.where(latest >= 9, 0, np.where(latest >= 7, 1, np.where(latest >= 0, 2, 3)))
    out["nps_category"] = pd.Categorical.from_codes(category, categories=_NPS_CATEGORIES)
    out["nps_latest"] = latest
    out["nps_trend"] = latest - prev
    out["nps_responses"] = count


def _add_tickets(out: pd.DataFrame, tickets: pd.DataFrame, rows: np.ndarray, code: np.ndarray, n: int) -> None:
    ok = code >= 0
    severity = text_array(tickets["severity"]).take(pa.array(rows))
    severe = pc.is_in(severity, value_set=pa.array(["high", "critical"], pa.large_string()))
    severe = pc.fill_null(severe, False).to_numpy(zero_copy_only=False)
    out["tickets_90d"] = np.bincount(code[ok], minlength=n)
    out["high_critical_90d"] = np.bincount(code[ok], weights=severe[ok], minlength=n).astype(np.int64)


def _usage_weeks(usage: pd.DataFrame, accounts: pa.Array, day):
    """Seats and active users per account over the usage weeks whose Monday is 0-27 days
    (recent) and 28-55 days before ``day``: the accounts' positions in ``accounts`` (-1: not
    there), their ids, and the four sums (seats recent, users recent, seats before, users before).

    A grouped sum over millions of rows by a text key is where DuckDB's hash aggregation beats
    a numpy look-up per row (it hashes each id once, in compiled code, with short strings
    inlined), so it runs as SQL over the Arrow buffers of ``usage`` (no copy), on one thread:
    the caller's thread does the other tables meanwhile.
    """
    import duckdb

    table = pa.table({
        "account_id": text_array(usage["account_id"]),
        "age": pa.array((day - _dates(usage, "week")) / np.timedelta64(1, "D")),
        "seats": pa.array(usage["seats"].to_numpy(dtype=float, na_value=np.nan), from_pandas=True),
        "users": pa.array(usage["active_users"].to_numpy(dtype=float, na_value=np.nan), from_pandas=True),
    })
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 1")
        con.register("weeks", table)
        sums = con.sql(
            "SELECT account_id, sum(seats) FILTER (WHERE age < 28) AS sr, sum(users) FILTER (WHERE age < 28) AS ur, "
            "sum(seats) FILTER (WHERE age >= 28) AS sb, sum(users) FILTER (WHERE age >= 28) AS ub "
            "FROM weeks WHERE age >= 0 AND age < 56 GROUP BY account_id"
        ).to_arrow_table()
    finally:
        con.close()
    ids = sums.column("account_id")
    values = [pc.fill_null(sums.column(c), 0.0).to_numpy() for c in ("sr", "ur", "sb", "ub")]
    return lookup_columns([ids], accounts, threads=1)[0], ids, values


def _usage_ratios(code: np.ndarray, sums: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Seat utilisation (active users / seats) of the recent weeks and its change against the 28
    days before, per snapshot row (NaN without usage), from the sums of :func:`_usage_weeks`."""
    ok = code >= 0
    seats_recent, users_recent, seats_before, users_before = (
        np.bincount(code[ok], weights=v[ok], minlength=n) for v in sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        recent = np.where(seats_recent > 0, users_recent / seats_recent, np.nan)
        before = np.where(seats_before > 0, users_before / seats_before, np.nan)
    return recent, recent - before












def _slug(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_") or "blank"
