"""Engines for the engine tests, started by the tests themselves: DuckDB in memory, a real
PostgreSQL server (``pgserver``: a pip-packaged server, in a temporary folder, stopped at the end)
and Apache Spark in local mode (``local[2]``, through PySpark, on the machine's Java runtime that
``make setup`` installs). Plus the comparison every engine test makes: each metric on the engine,
``.to_pandas()``, equals the pandas path.
"""

from __future__ import annotations

import itertools
import tempfile
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.engines import concentration_summary

_UPLOADS = itertools.count()  # table names are never reused in a session
Put = Callable[[str, pd.DataFrame], object]  # uploads a frame as a named table, returns the ibis table


def uploader(con) -> Put:
    """Upload frames to ``con`` as tables (``ibis.memtable``: ``create_table`` from a DataFrame
    fails with ibis 12 / duckdb 2.0.1, see issue 17)."""
    import ibis

    def put(name: str, frame: pd.DataFrame):  # a new name each time: overwrite=True fails the same way
        return con.create_table(f"{name}_{next(_UPLOADS)}", ibis.memtable(frame))

    return put


@pytest.fixture
def duckdb_put() -> Put:
    import ibis

    return uploader(ibis.duckdb.connect())


@pytest.fixture(scope="session")
def postgres_con() -> Iterator[object]:
    """A PostgreSQL server in a temporary folder, on a Unix socket, for the whole session."""
    import ibis
    import pgserver

    with tempfile.TemporaryDirectory(prefix="fl-pg-") as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
        server = pgserver.get_server(folder, cleanup_mode="stop")
        con = ibis.connect(server.get_uri())
        try:
            yield con
        finally:
            con.disconnect()
            server.cleanup()


@pytest.fixture(scope="module")
def spark_con() -> Iterator[object]:
    """A Spark session in local mode with two cores, once per test module."""
    import ibis
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("feedback_lib-tests")
             .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").config("spark.driver.memory", "1g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield ibis.pyspark.connect(spark)
    finally:
        spark.stop()


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        col = out[column]
        if col.dtype.kind == "M":
            out[column] = col.astype("datetime64[ns]")
        elif col.dtype.kind in "OUS" or isinstance(col.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            out[column] = col.astype(object).where(col.notna(), None).astype(object)
    return out


def assert_same(got, want: pd.DataFrame, *, money: tuple[str, ...] = (), rtol: dict | None = None,
                sort: list[str] | None = None) -> None:
    """An engine result (an ibis table) equals the pandas frame: same columns and rows, integers,
    booleans, dates and text exactly, money to the cent, other floats to 1e-9 (``rtol`` per column).
    ``sort`` re-sorts both sides in code-point order first (engines may collate text otherwise)."""
    got_frame = _normalised(got.to_pandas())
    want_frame = _normalised(want)
    assert list(got_frame.columns) == list(want_frame.columns)
    assert len(got_frame) == len(want_frame)
    if sort:
        got_frame = got_frame.sort_values(sort, kind="stable", na_position="last").reset_index(drop=True)
        want_frame = want_frame.sort_values(sort, kind="stable", na_position="last").reset_index(drop=True)
    for column in want_frame.columns:
        g, w = got_frame[column], want_frame[column]
        if w.dtype.kind == "f":
            tol = dict(rtol=0, atol=0.005) if column in money else dict(rtol=(rtol or {}).get(column, 1e-9), atol=1e-9)
            np.testing.assert_allclose(g.to_numpy(dtype=float), w.to_numpy(dtype=float), equal_nan=True,
                                       err_msg=column, **tol)
        else:
            assert g.tolist() == w.tolist(), column


def assert_revenue_metrics_agree(put: Put, subs: pd.DataFrame, *, as_of, freqs=("M", "Q", "Y")) -> None:
    """Every revenue metric of ``subs`` on the engine equals the pandas path."""
    revenue = fl.monthly_revenue(subs, as_of=as_of)
    on_engine = fl.monthly_revenue(put("subscriptions", subs), as_of=as_of)
    assert_same(on_engine, revenue, money=("mrr",), sort=["account_id", "month"])
    rev = put("revenue", revenue)  # the engine's own output, chained lazily, is tested below too
    movements = fl.mrr_movements(revenue, as_of=as_of)
    assert_same(fl.mrr_movements(rev, as_of=as_of), movements.astype({"category": object}),
                money=("mrr", "previous_mrr", "mrr_change"), sort=["account_id", "month"])
    engine_movements = fl.mrr_movements(on_engine, as_of=as_of)
    for freq in freqs:
        bridge = fl.arr_bridge(engine_movements, freq=freq)
        assert_same(bridge, fl.arr_bridge(movements, freq=freq),
                    money=("opening_mrr", "new", "expansion", "reactivation", "contraction", "churn", "closing_mrr"))
        b = bridge.to_pandas()
        assert (b.opening_mrr + b.new + b.expansion + b.reactivation + b.contraction + b.churn == b.closing_mrr).all()
        for reactivated in (True, False):
            assert_same(fl.cohort_retention(rev, as_of=as_of, freq=freq, count_reactivated=reactivated),
                        fl.cohort_retention(revenue, as_of=as_of, freq=freq, count_reactivated=reactivated),
                        money=("mrr", "starting_mrr"))
    for window, reactivated in ((12, True), (3, False)):
        try:
            want = fl.retention_summary(revenue, as_of=as_of, window_months=window, count_reactivated=reactivated)
        except fl.InsufficientDataError:
            with pytest.raises(fl.InsufficientDataError):
                fl.net_revenue_retention(rev, as_of=as_of, window_months=window, count_reactivated=reactivated)
            continue
        assert fl.retention_summary(rev, as_of=as_of, window_months=window, count_reactivated=reactivated) == want
        assert fl.net_revenue_retention(rev, as_of=as_of, window_months=window, count_reactivated=reactivated) == want.nrr
        assert fl.gross_revenue_retention(rev, as_of=as_of, window_months=window, count_reactivated=reactivated) == want.grr
        assert fl.logo_retention(rev, as_of=as_of, window_months=window, count_reactivated=reactivated) == want.logo_retention
    assert_same(fl.account_lifetimes(rev, as_of=as_of), fl.account_lifetimes(revenue, as_of=as_of), sort=["account_id"])
    try:
        concentration = fl.revenue_concentration(revenue, as_of=as_of)
    except fl.InsufficientDataError:
        with pytest.raises(fl.InsufficientDataError):
            fl.top_share(rev, as_of=as_of)
        return
    assert fl.top_share(rev, as_of=as_of) == pytest.approx(concentration.top_share(0.05), rel=1e-12)
    assert_same(concentration_summary(rev, as_of=as_of), concentration.to_frame(), money=("total_mrr",))


def assert_nps_tables_agree(put: Put, responses: pd.DataFrame, **kwargs) -> None:
    """``fl.nps_table`` on the engine equals the pandas path (p-values to 1e-6: see engines/survey.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fl.SmallSampleWarning)
        want = fl.nps_table(responses, **kwargs)
    by = kwargs.get("by")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    assert_same(fl.nps_table(put("responses", responses), **kwargs), want, rtol={"change_p_value": 1e-6},
                sort=["period", *by_cols] if by_cols else None)
