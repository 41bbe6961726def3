"""Tests of the shared building blocks in feedback_lib._util: one as_of parser, one month toolkit,
one frequency table, one column check, one masking rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import (
    check_freq,
    last_complete_month,
    month_end,
    month_index,
    month_of_dates,
    month_start,
    months_per_period,
    parse_as_of,
)
from feedback_lib._util.privacy import mask_contacts, mask_email


@pytest.mark.parametrize("value", ["2026-09-30", dt.date(2026, 9, 30), dt.datetime(2026, 9, 30, 14, 3),
                                   np.datetime64("2026-09-30"), pd.Timestamp("2026-09-30 23:59", tz="Europe/Helsinki")])
def test_parse_as_of_gives_the_midnight_of_the_day_for_every_date_like(value):
    assert parse_as_of(value) == pd.Timestamp("2026-09-30")


@pytest.mark.parametrize("value", ["30.9.2026 or so", None, "", float("nan"), [2026, 9, 30]])
def test_parse_as_of_refuses_what_is_not_a_date_with_a_parameter_error_naming_the_caller(value):
    with pytest.raises(fl.ParameterError, match=r"^fl\.top_share: landmark"):
        parse_as_of(value, name="landmark", where="fl.top_share")


def test_month_numbers_round_trip_across_1970_and_leap_years():
    days = pd.date_range("1968-12-15", "2028-03-01", freq="17D")
    months = month_of_dates(days.to_numpy())
    assert months.tolist() == [month_index(d) for d in days]
    assert (month_start(months) == days.to_period("M").start_time.to_numpy()).all()
    assert month_end(month_index(pd.Timestamp("2024-02-10"))) == pd.Timestamp("2024-02-29")
    assert last_complete_month(pd.Timestamp("2024-02-29")) == month_index(pd.Timestamp("2024-02-01"))
    assert last_complete_month(pd.Timestamp("2024-02-28")) == month_index(pd.Timestamp("2024-01-01"))


def test_month_of_dates_keeps_nat_as_the_smallest_integer():
    out = month_of_dates(np.array(["2026-01-31", "NaT"], dtype="datetime64[ns]"))
    assert out.tolist() == [672, np.iinfo(np.int64).min]


def test_one_frequency_table_for_every_metric():
    assert [months_per_period(f) for f in "MQY"] == [1, 3, 12]
    assert check_freq("W") == "W"
    for bad in ("W", "D", None, "m"):
        with pytest.raises(fl.ParameterError, match="freq="):
            months_per_period(bad)  # type: ignore[arg-type]
    # the metrics call the same table: the same message from the bridge and the theme trends
    with pytest.raises(fl.ParameterError, match=r"freq='D' is not supported; use 'M' \(month\)"):
        fl.arr_bridge(pd.DataFrame(columns=["month", "previous_mrr", "mrr_change", "category"]), freq="D")
    with pytest.raises(fl.ParameterError, match=r"theme_trends: freq='Y' is not supported; use 'W' \(week\)"):
        fl.theme_trends(pd.DataFrame(columns=["response_id", "theme"]),
                        responses=pd.DataFrame(columns=["response_id", "responded_at", "comment"]),
                        as_of="2026-09-30", freq="Y")


def test_require_columns_names_the_caller_table_and_columns():
    with pytest.raises(fl.SchemaError, match=r"^fl\.arpa: revenue: missing column\(s\) 'mrr', 'month'; .*it has: account_id"):
        require_columns(pd.DataFrame({"account_id": ["a"]}), ["account_id", "mrr", "month"], table="revenue",
                        where="fl.arpa")
    with pytest.raises(fl.ParameterError, match="must be a pandas DataFrame, got dict"):
        require_columns({"mrr": [1]}, ["mrr"], table="revenue")  # type: ignore[arg-type]
    require_columns(pd.DataFrame({"mrr": [1.0]}), ["mrr"], table="revenue")  # no error


def test_one_masking_rule_for_text_and_contact_columns():
    assert mask_email("Reach maria.virtanen@example.com today") == "Reach m***@example.com today"
    contacts = pd.Series(["maria.virtanen@example.com", "Maria, +358 40 123", "", None],
                         index=[7, 7, 3, 1])  # a repeated index must not matter
    out = mask_contacts(contacts)
    assert out.index.tolist() == [7, 7, 3, 1]
    assert out.iloc[0] == mask_email("maria.virtanen@example.com") == "m***@example.com"
    assert out.iloc[1:].isna().all()  # anything that is not one address is hidden, never shown
    from feedback_lib._util.privacy import EMAIL_RE

    assert not any(EMAIL_RE.search(v) for v in out.dropna())
