"""Stripe subscription objects -> subscriptions: MRR by Stripe's billing-analytics rules, computed by
hand on the fixtures in tests/data/stripe/ (built from Stripe's documented object schema)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.io.schema import empty_frame

DATA = Path(__file__).parent / "data" / "stripe"


def fixture_records() -> list[dict]:
    return json.loads((DATA / "subscriptions.json").read_text())["data"]


def one(**overrides) -> dict:
    """A minimal active monthly subscription: 1 x 10.00 USD from 2024-01-01."""
    sub = {"id": "sub_x", "object": "subscription", "customer": "cus_x", "status": "active",
           "currency": "usd", "start_date": 1704067200, "discounts": [],
           "items": {"data": [{"id": "si_x", "quantity": 1, "price": {
               "id": "price_x", "currency": "usd", "billing_scheme": "per_unit", "unit_amount": 1000,
               "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"}}}]}}
    sub.update(overrides)
    return sub


def price(sub: dict, i: int = 0) -> dict:
    return sub["items"]["data"][i]["price"]


def mrr_of(sub: dict) -> float:
    return float(fl.read_stripe_subscriptions([sub])["mrr"].iloc[0])


def test_fixture_mrr_by_hand():
    table = fl.read_stripe_subscriptions(DATA / "subscriptions.json")
    got = table.set_index("subscription_id")
    expected = {
        "sub_monthly": 145.00,  # 5 seats x 29.00 per month
        "sub_annual": 100.00,  # 1,200.00 a year / 12, past_due still counts
        "sub_quarterly_forever": 240.00,  # 2 x 450.00 every 3 months = 300.00 / month, forever 20% off
        "sub_weekly_repeating": 52.00,  # 12.00 a week x 52 / 12; a repeating coupon leaves MRR alone
        "sub_canceled": 99.95,  # 10 x 9.995 (unit_amount_decimal wins over unit_amount)
        # 3 x 40.00 + 20.00 less 10% forever on the add-on = 138.00, metered and one-time items
        # excluded, the 'once' coupon ignored, the forever 15.00 off applied: 123.00
        "sub_multi": 123.00,
    }
    assert got["mrr"].to_dict() == pytest.approx(expected, abs=1e-9)
    assert "sub_trialing" not in got.index  # trials carry no MRR
    assert got["account_id"].to_dict() == {"sub_monthly": "cus_A", "sub_annual": "cus_B",
                                           "sub_quarterly_forever": "cus_C",  # expanded customer
                                           "sub_weekly_repeating": "cus_D", "sub_canceled": "cus_F",
                                           "sub_multi": "cus_G"}
    # revenue starts when the trial ends; a cancellation ends at ended_at; a scheduled one at cancel_at
    assert got.loc["sub_canceled", "start_date"] == pd.Timestamp("2024-01-15")
    assert got.loc["sub_canceled", "end_date"] == pd.Timestamp("2024-06-01")
    assert got.loc["sub_multi", "end_date"] == pd.Timestamp("2027-01-01")
    assert pd.isna(got.loc["sub_monthly", "end_date"])
    assert got.loc["sub_multi", "plan"] == "Base + Analytics add-on + API calls + Setup fee"
    # canonical dtypes: the table is what load_dataset would give
    assert list(table.columns) == list(empty_frame("subscriptions").columns)
    assert (table.dtypes == empty_frame("subscriptions").dtypes).all()


def test_table_feeds_monthly_revenue():
    table = fl.read_stripe_subscriptions(DATA / "subscriptions.json")
    revenue = fl.monthly_revenue(table, as_of="2024-06-30")
    by_month = revenue.groupby("month")["mrr"].sum()
    # May: all six paying; June: sub_canceled ended on 2024-06-01
    assert by_month[pd.Timestamp("2024-05-01")] == pytest.approx(145 + 100 + 240 + 52 + 99.95 + 123)
    assert by_month[pd.Timestamp("2024-06-01")] == pytest.approx(145 + 100 + 240 + 52 + 123)


def test_source_forms_are_equivalent(tmp_path):
    records = fixture_records()
    path = tmp_path / "as_list.json"
    path.write_text(json.dumps(records))
    a = fl.read_stripe_subscriptions(records)
    b = fl.read_stripe_subscriptions(str(path))
    c = fl.read_stripe_subscriptions({"object": "list", "data": records})
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


@pytest.mark.parametrize(("currency", "unit_amount", "mrr"), [
    ("jpy", 120000, 10000.0),  # zero-decimal: 120,000 yen a year -> 10,000 yen a month
    ("krw", 12000, 1000.0),
    ("kwd", 120000, 10.0),  # three-decimal: 120.000 KWD a year
    ("usd", 120000, 100.0),
    ("EUR", 120000, 100.0),
])
def test_minor_units_by_currency_exponent(currency, unit_amount, mrr):
    sub = one(currency=currency)
    price(sub).update(currency=currency, unit_amount=unit_amount, recurring={"interval": "year", "interval_count": 1})
    assert mrr_of(sub) == pytest.approx(mrr)


def test_jpy_fixture():
    table = fl.read_stripe_subscriptions(DATA / "jpy.json")
    assert table["mrr"].tolist() == [10000.0]


@pytest.mark.parametrize(("interval", "count", "mrr"), [
    ("month", 1, 10.0), ("month", 6, 10 / 6), ("year", 2, 10 / 24), ("week", 2, 10 * 52 / 12 / 2),
    ("day", 1, 10 * 365 / 12),
])
def test_monthly_normalisation(interval, count, mrr):
    sub = one()
    price(sub)["recurring"] = {"interval": interval, "interval_count": count}
    assert mrr_of(sub) == pytest.approx(mrr, rel=1e-12)


def test_legacy_plan_object():
    sub = one()
    sub["items"]["data"][0] = {"id": "si", "quantity": 4, "plan": {
        "id": "plan_old", "currency": "usd", "amount": 6000, "interval": "year", "interval_count": 1}}
    assert mrr_of(sub) == pytest.approx(20.0)  # 4 x 60.00 / 12


@pytest.mark.parametrize(("mode", "quantity", "minor"), [
    # tiers: up to 5 at 10.00, 6-10 at 8.00 (+ 5.00 flat), above 10 at 6.00
    ("volume", 3, 3 * 1000),
    ("volume", 7, 7 * 800 + 500),
    ("volume", 12, 12 * 600),
    ("graduated", 3, 3 * 1000),
    ("graduated", 7, 5 * 1000 + 2 * 800 + 500),
    ("graduated", 12, 5 * 1000 + 5 * 800 + 500 + 2 * 600),
    ("graduated", 0, 0),
])
def test_tiered_prices(mode, quantity, minor):
    sub = one()
    sub["items"]["data"][0]["quantity"] = quantity
    price(sub).update(billing_scheme="tiered", tiers_mode=mode, unit_amount=None, tiers=[
        {"up_to": 5, "unit_amount": 1000, "flat_amount": None},
        {"up_to": 10, "unit_amount": 800, "flat_amount": 500},
        {"up_to": None, "unit_amount": 600, "flat_amount": None},
    ])
    assert mrr_of(sub) == pytest.approx(minor / 100)


def test_forever_discounts_only_and_in_order():
    sub = one()
    sub["items"]["data"][0]["quantity"] = 10  # 100.00 a month
    sub["discounts"] = [
        {"id": "d1", "end": None, "coupon": {"percent_off": 50, "duration": "forever"}},
        {"id": "d2", "end": None, "coupon": {"amount_off": 1000, "currency": "usd", "duration": "forever"}},
        {"id": "d3", "end": None, "coupon": {"percent_off": 90, "duration": "once"}},
        {"id": "d4", "end": 1735689600, "coupon": {"percent_off": 90, "duration": "repeating"}},
    ]
    assert mrr_of(sub) == pytest.approx(40.0)  # 100 x 0.5 - 10


def test_amount_off_is_per_invoice_and_never_below_zero():
    sub = one()
    price(sub)["recurring"] = {"interval": "year", "interval_count": 1}
    price(sub)["unit_amount"] = 120000  # 100.00 a month
    sub["discounts"] = [{"id": "d", "coupon": {"amount_off": 12000, "currency": "usd", "duration": "forever"}}]
    assert mrr_of(sub) == pytest.approx(90.0)  # 120.00 off each annual invoice = 10.00 a month
    sub["discounts"][0]["coupon"]["amount_off"] = 10_000_000
    assert mrr_of(sub) == 0.0


def test_newer_api_discount_source_and_legacy_discount_counted_once():
    sub = one()
    legacy = {"id": "di_1", "coupon": {"percent_off": 25, "duration": "forever"}}
    sub["discount"] = legacy
    sub["discounts"] = [copy.deepcopy(legacy)]  # the same discount listed twice by the API
    assert mrr_of(sub) == pytest.approx(7.5)
    sub = one(discounts=[{"id": "di_2", "source": {"type": "coupon", "coupon": {"percent_off": 40, "duration": "forever"}}}])
    assert mrr_of(sub) == pytest.approx(6.0)


def test_customer_discount_applies_only_without_a_subscription_discount():
    customer = {"id": "cus_x", "discount": {"id": "dc", "coupon": {"percent_off": 50, "duration": "forever"}}}
    assert mrr_of(one(customer=customer)) == pytest.approx(5.0)
    own = [{"id": "ds", "coupon": {"percent_off": 10, "duration": "forever"}}]
    assert mrr_of(one(customer=customer, discounts=own)) == pytest.approx(9.0)


@pytest.mark.parametrize("status", ["trialing", "incomplete", "incomplete_expired", "unpaid", "paused"])
def test_statuses_without_mrr_give_no_row(status):
    table = fl.read_stripe_subscriptions([one(status=status), one(id="sub_ok")])
    assert table["subscription_id"].tolist() == ["sub_ok"]


def test_canceled_during_trial_and_free_plans_give_no_row():
    in_trial = one(id="sub_t", status="canceled", trial_end=1706745600, ended_at=1705276800)  # ended 01-15, trial to 02-01
    only_metered = one(id="sub_m")
    price(only_metered)["recurring"]["usage_type"] = "metered"
    table = fl.read_stripe_subscriptions([in_trial, only_metered, one(id="sub_ok")])
    assert table["subscription_id"].tolist() == ["sub_ok"]


def test_timestamp_is_the_utc_calendar_date():
    sub = one(start_date=1704067200 + 23 * 3600 + 59 * 60)  # 2024-01-01 23:59 UTC
    assert fl.read_stripe_subscriptions([sub])["start_date"].iloc[0] == pd.Timestamp("2024-01-01")


def _break(path: str, value):
    def edit(sub: dict) -> dict:
        target = sub
        keys = path.split(".")
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        if value is _DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
        return sub
    return edit


_DELETE = object()

BAD = [
    ("customer", _DELETE, "customer", "customer id"),
    ("status", "frozen", "status", "one of active"),
    ("start_date", "2024-01-01", "start_date", "type: int"),
    ("start_date", -5, "start_date", "Unix time"),
    ("items.data.0.price.recurring.interval", "fortnight", "items.data[0].price.recurring.interval", "one of day"),
    ("items.data.0.price.recurring.interval_count", 0, "items.data[0].price.recurring.interval_count", "whole number >= 1"),
    ("items.data.0.price.unit_amount", -100, "items.data[0].price.unit_amount", ">= 0"),
    ("items.data.0.price.unit_amount", None, "items.data[0].price.unit_amount", "required for a per_unit price"),
    ("items.data.0.price.unit_amount_decimal", "NaN", "items.data[0].price.unit_amount_decimal", "finite number"),
    ("items.data.0.quantity", 2.5, "items.data[0].quantity", "whole number >= 0"),
    ("items.data.0.price", "price_123", "items.data[0].price", "price object (expanded)"),
    ("items.data.0.price.billing_scheme", "tiered", "items.data[0].price.tiers", "tiered price needs its tiers"),
    ("items", None, "items.data", "list of subscription items"),
    ("discounts", ["di_123"], "discounts[0]", "expanded Discount object"),
    ("discounts", [{"id": "d", "coupon": {"percent_off": 150, "duration": "forever"}}], "discounts[0].coupon.percent_off",
     "number between 0 and 100"),
    ("discounts", [{"id": "d", "coupon": {"amount_off": 100, "currency": "eur", "duration": "forever"}}],
     "discounts[0].coupon.currency", "same currency"),
]


@pytest.mark.parametrize(("path", "value", "field", "rule"), BAD,
                         ids=[f"{b[0]}={'deleted' if b[1] is _DELETE else repr(b[1])}"[:40] for b in BAD])
def test_bad_record_names_index_id_field_rule(path, value, field, rule):
    records = [one(id="sub_good"), _break(path, value)(one(id="sub_bad"))]
    with pytest.raises(fl.SchemaError) as info:
        fl.read_stripe_subscriptions(records)
    message = str(info.value)
    assert f"record 2 (sub_bad): field '{field}' breaks rule '{rule}" in message
    failures = info.value.failures
    assert failures[["row", "column"]].values.tolist() == [[2, field]]


def test_every_bad_record_reported_at_once_and_duplicates_found():
    records = [one(id="a", status="x"), one(id="b"), one(id="b"), one(id="c", customer=None)]
    with pytest.raises(fl.SchemaError) as info:
        fl.read_stripe_subscriptions(records)
    assert info.value.failures["row"].tolist() == [1, 3, 4]
    assert "record 3 (b): field 'id' breaks rule 'unique (also record 2)'" in str(info.value)


def test_mixed_currencies_refused():
    yen = one(id="sub_yen", currency="jpy")
    price(yen)["currency"] = "jpy"
    with pytest.raises(fl.SchemaError, match=r"record 2 \(sub_yen\): field 'currency' breaks rule 'one currency per export \(record 1 uses usd"):
        fl.read_stripe_subscriptions([one(), yen])


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe\x00", b'{"data": 3}', b'"text"'])
def test_unreadable_files_are_schema_errors_naming_the_file(tmp_path, content):
    path = tmp_path / "export.json"
    path.write_bytes(content)
    with pytest.raises(fl.SchemaError, match="export.json"):
        fl.read_stripe_subscriptions(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(fl.SchemaError, match="gone.json"):
        fl.read_stripe_subscriptions(tmp_path / "gone.json")
    with pytest.raises(fl.SchemaError, match="folder.json"):
        (tmp_path / "folder.json").mkdir()
        fl.read_stripe_subscriptions(tmp_path / "folder.json")
