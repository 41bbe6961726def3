"""The revenue metrics and nps_table on DuckDB through Ibis equal the pandas path: hypothesis on
generated subscriptions and responses, a seeded company, dispatch, laziness and ``fl.connect``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import feedback_lib as fl

from . import engines_conftest
from .conftest import subs
from .engines_conftest import assert_nps_tables_agree, assert_revenue_metrics_agree, uploader
from .test_reference_implementations import days, responses, subscriptions

ENGINE = settings(max_examples=15, deadline=None)
duckdb_put = engines_conftest.duckdb_put  # the fixture


def seeded_subscriptions(n: int, *, seed: int) -> pd.DataFrame:
    """``n`` random subscriptions of ``n // 3`` accounts over 2023-2026, 40% still running."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 1300, n), "D")
    end = (start + pd.to_timedelta(rng.integers(1, 600, n), "D")).where(rng.random(n) < 0.6, pd.NaT)
    return pd.DataFrame({
        "subscription_id": [f"s{i}" for i in range(n)],
        "account_id": pd.array([f"A{i:04d}" for i in rng.integers(0, n // 3, n)], dtype="string[pyarrow]"),
        "start_date": start, "end_date": end, "mrr": rng.integers(0, 100_000, n) / 100,
    })


def _duckdb():
    import ibis

    return uploader(ibis.duckdb.connect())


@ENGINE
@given(subscriptions(), days(-40, 800))
def test_revenue_metrics_on_duckdb_equal_pandas_on_generated_subscriptions(frame, as_of):
    assert_revenue_metrics_agree(_duckdb(), frame, as_of=as_of)


def test_revenue_metrics_on_duckdb_equal_pandas_on_a_seeded_company(duckdb_put):
    assert_revenue_metrics_agree(duckdb_put, seeded_subscriptions(1500, seed=1), as_of="2026-09-14")


def test_revenue_metrics_on_duckdb_equal_pandas_on_the_demo(duckdb_put):
    demo = fl.generate_demo(seed=7, n_accounts=150, start="2024-01-01", end="2026-09-30")
    assert_revenue_metrics_agree(duckdb_put, demo.subscriptions, as_of="2026-09-30")


@ENGINE
@given(st.sampled_from(["W", "M", "Q", "Y"]).flatmap(lambda f: st.tuples(st.just(f), responses(f))),
       st.sampled_from([None, "segment", ["segment", "channel"]]), st.sampled_from([None, "mrr"]),
       st.sampled_from(["wald", "adjusted-wald"]), st.sampled_from([0.8, 0.95]))
def test_nps_table_on_duckdb_equals_pandas(freq_and_responses, by, weight, method, confidence):
    freq, frame = freq_and_responses
    assert_nps_tables_agree(_duckdb(), frame, freq=freq, by=by, weight=weight, method=method, confidence=confidence)


def test_engine_results_are_lazy_ibis_tables_with_hand_computed_values(duckdb_put):
    # a: 100 from Jan 10 to Mar 1, then 50 from Feb 1 on; b: 30 in Jan and Feb only
    table = duckdb_put("subscriptions", subs(("a", "2024-01-10", "2024-03-01", 100), ("a", "2024-02-01", None, 50),
                                             ("b", "2024-01-01", "2024-03-01", 30)))
    revenue = fl.monthly_revenue(table, as_of="2024-04-15")
    assert type(revenue).__module__.startswith("ibis")  # nothing has run yet
    frame = revenue.to_pandas()
    assert frame["mrr"].tolist() == [100.0, 150.0, 50.0, 50.0, 30.0, 30.0]
    bridge = fl.arr_bridge(fl.mrr_movements(revenue, as_of="2024-04-15"), freq="M").to_pandas()
    # Jan new 130; Feb expansion 50; Mar contraction -100 and churn -30 (b); Apr unchanged
    assert bridge["new"].tolist() == [130.0, 0.0, 0.0, 0.0]
    assert bridge["churn"].tolist() == [0.0, 0.0, -30.0, 0.0]
    assert bridge["closing_mrr"].tolist() == [130.0, 180.0, 50.0, 50.0]
    assert fl.net_revenue_retention(revenue, as_of="2024-04-15", window_months=3) == 50 / 130


def test_empty_starting_cohort_on_the_engine_is_insufficient_data(duckdb_put):
    table = duckdb_put("subscriptions", subs(("a", "2024-01-10", None, 100)))
    with pytest.raises(fl.InsufficientDataError, match="no account paid in 2023-04"):
        fl.net_revenue_retention(fl.monthly_revenue(table, as_of="2024-04-15"), as_of="2024-04-15")


def test_missing_columns_on_the_engine_are_a_schema_error(duckdb_put):
    table = duckdb_put("subscriptions", pd.DataFrame({"account_id": ["a"], "mrr": [1.0]}))
    with pytest.raises(fl.SchemaError, match="missing column.*'start_date'"):
        fl.monthly_revenue(table, as_of="2024-04-15")


def test_bootstrap_on_an_engine_is_a_parameter_error(duckdb_put):
    table = duckdb_put("responses", pd.DataFrame({"responded_at": pd.to_datetime(["2025-01-01"]), "score": [9]}))
    with pytest.raises(fl.ParameterError, match="bootstrap"):
        fl.nps_table(table, method="bootstrap")


def test_import_feedback_lib_does_not_load_ibis():
    probe = "import sys, feedback_lib as fl; print('ibis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "False"


# ------------------------------------------------------------------------------------------
# fl.connect and validate
# ------------------------------------------------------------------------------------------
def _store(tmp_path, tables: dict[str, pd.DataFrame]):
    import duckdb

    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    for name, frame in tables.items():
        con.register("frame", frame)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
        con.unregister("frame")
    con.close()
    return path


def test_connect_reads_a_duckdb_file_and_the_metrics_run_there(tmp_path, tiny):
    path = _store(tmp_path, {"accounts": tiny.accounts, "subscriptions": tiny.subscriptions})
    ds = fl.connect(path)
    assert ds.missing == ("responses", "conversations", "tickets", "usage")
    assert ds.validate().empty
    got = fl.monthly_revenue(ds.subscriptions, as_of="2026-09-30").to_pandas()
    want = fl.monthly_revenue(tiny.subscriptions, as_of="2026-09-30")
    assert got["mrr"].tolist() == want["mrr"].tolist()
    assert list(ds.responses.columns) == list(tiny.responses.columns)  # a missing table: empty, canonical columns


def test_connect_reads_a_parquet_folder(tmp_path, tiny):
    tiny.subscriptions.to_parquet(tmp_path / "subscriptions.parquet")
    tiny.accounts.to_parquet(tmp_path / "accounts.parquet")
    ds = fl.connect(tmp_path)
    assert ds.subscriptions.count().execute() == len(tiny.subscriptions)
    assert ds.validate().empty


def test_validate_counts_broken_rules_in_the_engine_with_examples(tmp_path, tiny):
    subscriptions = tiny.subscriptions.copy()
    subscriptions.loc[0, "mrr"] = -5.0  # one negative MRR
    subscriptions.loc[1, "end_date"] = subscriptions.loc[1, "start_date"] - pd.Timedelta(days=1)  # ends before it starts
    subscriptions.loc[2, "account_id"] = "ZZZ"  # unknown account
    extra = subscriptions.iloc[[3]]  # a duplicated key
    path = _store(tmp_path, {"accounts": tiny.accounts, "subscriptions": pd.concat([subscriptions, extra])})
    ds = fl.connect(path)
    report = ds.validate(errors="report").set_index("rule")
    assert report.loc[">= 0", "rows"] == 1
    assert report.loc["end_date after start_date", "rows"] == 1
    assert report.loc["account_id in accounts", "rows"] == 1
    assert "ZZZ" in report.loc["account_id in accounts", "examples"]
    assert report.loc["unique key (subscription_id)", "rows"] == 2
    with pytest.raises(fl.SchemaError, match="subscriptions: column 'mrr' breaks rule '>= 0' in 1 row"):
        ds.validate()


def test_connect_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(fl.ParameterError, match="cannot read"):
        fl.connect(tmp_path / "export.csv")
    with pytest.raises(fl.ParameterError, match="no <table>.parquet"):
        fl.connect(tmp_path)
