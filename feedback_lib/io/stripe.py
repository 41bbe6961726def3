"""Stripe subscription objects -> the contract's ``subscriptions`` table, MRR as Stripe defines it.

Stripe's Billing analytics defines MRR as "the sum of the monthly-normalized value of all your
active and past_due subscriptions", excluding trials, taxes, free plans and metered products; a
coupon with duration ``forever`` reduces MRR, a ``once`` or ``repeating`` one does not
(https://docs.stripe.com/billing/subscriptions/analytics/glossary,
https://support.stripe.com/questions/billing-analytics). Every rule this reader applies is listed
in :func:`read_stripe_subscriptions` and in ``docs/data-model.md``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from feedback_lib.errors import DataQualityWarning, SchemaError
from feedback_lib.io.schema import REJECTED_COLUMNS
from feedback_lib.io.validate import validate_tables

__all__ = ["read_stripe_subscriptions"]

#: Currencies whose amounts Stripe gives in major units (https://docs.stripe.com/currencies).
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
#: Currencies whose amounts Stripe gives in thousandths.
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())

#: Months per billing interval: a price billed every ``interval_count`` intervals is divided by
#: ``MONTHS[interval] * interval_count`` (a year is 12 months, a week 12/52 of one, a day 12/365).
MONTHS = {"month": Decimal(1), "year": Decimal(12), "week": Decimal(12) / Decimal(52),
          "day": Decimal(12) / Decimal(365)}

COUNTED = ("active", "past_due")  # statuses that carry MRR now
ENDED = ("canceled",)  # statuses that carried MRR until ended_at
EXCLUDED = ("trialing", "incomplete", "incomplete_expired", "unpaid", "paused")


class _Bad(Exception):
    """One broken rule in one record (collected, then raised together as a SchemaError)."""

    def __init__(self, field: str, rule: str, value: Any) -> None:
        super().__init__(field)
        self.field, self.rule, self.value = field, rule, value


def minor_unit_exponent(currency: str) -> int:
    """Decimal places of ``currency`` in Stripe amounts: 0 (JPY, ...), 3 (KWD, ...) or 2."""
    code = currency.lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def _load(source) -> tuple[list, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = path.name
        try:
            data = json.loads(path.read_bytes())
        except OSError as exc:
            raise SchemaError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SchemaError(f"{name}: not a JSON file ({exc})") from None
    else:
        data, name = source, "stripe subscriptions"
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise SchemaError(
            f"{name}: expected a list of Stripe subscription objects or an object with a 'data' "
            f"list (as Stripe's list endpoint returns), got {type(data).__name__}"
        )
    return data, name


def _get(obj: dict, key: str, where: str, kinds: tuple, *, required: bool = True) -> Any:
    value = obj.get(key)
    if value is None:
        if required:
            raise _Bad(f"{where}{key}", "required", "")
        return None
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise _Bad(f"{where}{key}", "type: " + " or ".join(k.__name__ for k in kinds), value)
    return value


def _amount(obj: dict, key: str, where: str) -> Decimal | None:
    """``key_decimal`` (a string, fractions of a minor unit allowed) or ``key`` (an integer)."""
    text = obj.get(f"{key}_decimal")
    if text is not None:
        try:
            value = Decimal(str(text))
        except InvalidOperation:
            raise _Bad(f"{where}{key}_decimal", "type: decimal number", text) from None
        if not value.is_finite() or value < 0:
            raise _Bad(f"{where}{key}_decimal", "finite number >= 0", text)
        return value
    raw = _get(obj, key, where, (int,), required=False)
    if raw is not None and raw < 0:
        raise _Bad(f"{where}{key}", ">= 0", raw)
    return None if raw is None else Decimal(raw)


def _date(obj: dict, key: str, where: str) -> pd.Timestamp | None:
    seconds = _get(obj, key, where, (int,), required=False)
    if seconds is None:
        return None
    if not 0 <= seconds < 253402300800:  # 1970 .. 9999-12-31
        raise _Bad(f"{where}{key}", "Unix time in seconds (1970-9999)", seconds)
    return pd.Timestamp(seconds, unit="s").normalize()  # the UTC calendar date


def _tiered(price: dict, quantity: int, where: str) -> Decimal:
    tiers = price.get("tiers")
    if not isinstance(tiers, list) or not tiers:
        raise _Bad(f"{where}tiers", "tiered price needs its tiers (expand items.data.price.tiers)", "")
    mode = price.get("tiers_mode")
    if mode not in ("graduated", "volume"):
        raise _Bad(f"{where}tiers_mode", "one of graduated, volume", mode or "")
    total, below = Decimal(0), 0
    if mode == "graduated" and quantity == 0:
        return total
    for i, tier in enumerate(tiers):
        at = f"{where}tiers[{i}]."
        up_to = _get(tier, "up_to", at, (int,), required=False)
        unit = _amount(tier, "unit_amount", at) or Decimal(0)
        flat = _amount(tier, "flat_amount", at) or Decimal(0)
        top = math.inf if up_to is None else up_to
        if mode == "volume" and quantity <= top:
            return unit * quantity + flat
        if mode == "graduated" and quantity > below:
            total += unit * (min(quantity, top) - below) + flat  # type: ignore[operator]
            if quantity <= top:
                return total
        below = up_to if up_to is not None else below
    raise _Bad(f"{where}tiers", "last tier has up_to null", tiers[-1].get("up_to"))


def _item_amount(item: dict, where: str) -> tuple[Decimal, Decimal, str] | None:
    """Per-period amount (minor units), months per period and currency of one item; None if the
    item is not recurring licensed revenue (one-time or metered prices)."""
    price = item.get("price") if item.get("price") is not None else item.get("plan")
    key = "price" if item.get("price") is not None else "plan"
    if not isinstance(price, dict):
        raise _Bad(f"{where}price", "price object (expanded)", price if price is not None else "")
    at = f"{where}{key}."
    recurring: Any
    if key == "plan":  # the legacy Plan object: interval fields at the top level
        recurring = {"interval": price.get("interval"), "interval_count": price.get("interval_count"),
                     "usage_type": price.get("usage_type")}
    else:
        recurring = price.get("recurring")
        if recurring is None:
            return None  # a one-time price: not recurring revenue
        if not isinstance(recurring, dict):
            raise _Bad(f"{at}recurring", "object", recurring)
    if recurring.get("usage_type") == "metered":
        return None  # Stripe's MRR excludes metered (usage-based) prices
    interval = recurring.get("interval")
    if interval not in MONTHS:
        raise _Bad(f"{at}recurring.interval", "one of day, week, month, year", interval or "")
    count = recurring.get("interval_count")
    count = 1 if count is None else count
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _Bad(f"{at}recurring.interval_count", "whole number >= 1", count)
    quantity = item.get("quantity", 1)
    quantity = 1 if quantity is None else quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise _Bad(f"{where}quantity", "whole number >= 0", quantity)
    transform = price.get("transform_quantity")
    if isinstance(transform, dict) and transform.get("divide_by"):
        divided = Decimal(quantity) / Decimal(transform["divide_by"])
        quantity = int(divided.to_integral_value("ROUND_CEILING" if transform.get("round") == "up" else "ROUND_FLOOR"))
    currency = _get(price, "currency", at, (str,))
    if price.get("billing_scheme") == "tiered":
        amount = _tiered(price, quantity, at)
    else:
        unit = _amount(price, "unit_amount" if key == "price" else "amount", at)
        if unit is None:
            raise _Bad(f"{at}unit_amount", "required for a per_unit price", "")
        amount = unit * quantity
    return amount, MONTHS[interval] * count, currency.lower()


def _coupon(discount: Any, where: str) -> dict:
    """The coupon of a Discount object (``coupon``, or ``source.coupon`` in newer API versions)."""
    if not isinstance(discount, dict):
        raise _Bad(where, "expanded Discount object (expand[]=discounts)", discount)
    coupon = discount.get("coupon")
    if coupon is None and isinstance(discount.get("source"), dict):
        coupon = discount["source"].get("coupon")
    if not isinstance(coupon, dict):
        raise _Bad(f"{where}.coupon", "expanded Coupon object", coupon if coupon is not None else "")
    return coupon


def _apply_discounts(amount: Decimal, months: Decimal | None, discounts: list, currency: str,
                     where: str) -> Decimal:
    """Monthly ``amount`` after the ``forever`` coupons among ``discounts``, in listed order."""
    for i, discount in enumerate(discounts):
        at = f"{where}[{i}]"
        coupon = _coupon(discount, at)
        if coupon.get("duration") != "forever" or discount.get("end") is not None:
            continue  # once / repeating coupons leave MRR unchanged (Stripe's rule)
        if coupon.get("percent_off") is not None:
            pct = coupon["percent_off"]
            if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 100:
                raise _Bad(f"{at}.coupon.percent_off", "number between 0 and 100", pct)
            amount *= 1 - Decimal(str(pct)) / 100
        elif coupon.get("amount_off") is not None:
            off = coupon["amount_off"]
            if isinstance(off, bool) or not isinstance(off, int) or off < 0:
                raise _Bad(f"{at}.coupon.amount_off", "whole number >= 0", off)
            if str(coupon.get("currency", "")).lower() != currency:
                raise _Bad(f"{at}.coupon.currency", f"same currency as the prices ({currency})",
                           coupon.get("currency") or "")
            if months is None:
                raise _Bad(f"{at}.coupon.amount_off",
                           "an amount_off coupon needs all items on one billing interval", off)
            amount -= Decimal(off) / months  # amount_off is per invoice: normalise it too
    return max(amount, Decimal(0))


def _row(sub: Any) -> dict | None:
    """One subscriptions row of one Stripe subscription object, or None if it carries no MRR."""
    if not isinstance(sub, dict):
        raise _Bad("", "a Stripe subscription object", type(sub).__name__)
    sub_id = _get(sub, "id", "", (str,))
    customer = sub.get("customer")
    customer = customer.get("id") if isinstance(customer, dict) else customer
    if not isinstance(customer, str) or not customer:
        raise _Bad("customer", "customer id (or expanded Customer with id)", customer or "")
    status = _get(sub, "status", "", (str,))
    if status not in COUNTED + ENDED + EXCLUDED:
        raise _Bad("status", "one of " + ", ".join(COUNTED + ENDED + EXCLUDED), status)
    start = _date(sub, "start_date", "") or _date(sub, "created", "")
    if start is None:
        raise _Bad("start_date", "required", "")
    trial_end = _date(sub, "trial_end", "")
    ended = _date(sub, "ended_at", "") or _date(sub, "canceled_at", "")
    scheduled = _date(sub, "cancel_at", "")
    items = sub.get("items")
    data = items.get("data") if isinstance(items, dict) else items
    if not isinstance(data, list):
        raise _Bad("items.data", "list of subscription items", "")
    if status in EXCLUDED:
        return None
    if trial_end is not None and trial_end > start:
        start = trial_end  # revenue starts when the trial ends
    end = ended if status in ENDED else scheduled
    if status in ENDED and end is None:
        raise _Bad("ended_at", "required when status is canceled (or canceled_at)", "")
    if end is not None and end <= start:
        return None  # ended during its trial or on its first day: never at a month's end
    parts = []
    for i, item in enumerate(data):
        where = f"items.data[{i}]."
        if not isinstance(item, dict):
            raise _Bad(f"items.data[{i}]", "subscription item object", item)
        found = _item_amount(item, where)
        if found is None:
            continue
        amount, months, currency = found
        item_discounts = item.get("discounts") or []
        if not isinstance(item_discounts, list):
            raise _Bad(f"{where}discounts", "list", item_discounts)
        parts.append((_apply_discounts(amount / months, months, item_discounts, currency, f"{where}discounts"),
                      months, currency))
    currencies = {c for _, _, c in parts} | ({sub["currency"].lower()} if isinstance(sub.get("currency"), str) else set())
    if len(currencies) > 1:
        raise _Bad("currency", "one currency per subscription", ", ".join(sorted(currencies)))
    if not parts:
        return None  # no recurring licensed item: no MRR
    currency = currencies.pop()
    cycles = {m for _, m, _ in parts}
    cycle = cycles.pop() if len(cycles) == 1 else None
    discounts = []
    if sub.get("discount") is not None:  # legacy single discount
        discounts.append(sub["discount"])
    listed = sub.get("discounts") or []
    if not isinstance(listed, list):
        raise _Bad("discounts", "list", listed)
    legacy_id = sub["discount"].get("id") if isinstance(sub.get("discount"), dict) else None
    discounts += [d for d in listed if not (isinstance(d, dict) and legacy_id and d.get("id") == legacy_id)]
    if isinstance(sub.get("customer"), dict) and sub["customer"].get("discount") and not discounts:
        discounts.append(sub["customer"]["discount"])  # a subscription discount overrides the customer's
    minor: Decimal = _apply_discounts(sum((p for p, _, _ in parts), Decimal(0)), cycle, discounts, currency, "discounts")
    mrr = minor / (Decimal(10) ** minor_unit_exponent(currency))
    plan = " + ".join(_plan_name(item) for item in data if isinstance(item, dict))
    return dict(subscription_id=sub_id, account_id=customer, plan=plan or None, start_date=start,
                end_date=end, mrr=float(mrr), currency=currency)


def _plan_name(item: dict) -> str:
    price = item.get("price") or item.get("plan") or {}
    product = price.get("product")
    product = product.get("name") or product.get("id") if isinstance(product, dict) else product
    return str(price.get("nickname") or product or price.get("id") or "")


def read_stripe_subscriptions(source: str | Path | Sequence[dict]) -> pd.DataFrame:
    """Read Stripe subscription objects into the contract's ``subscriptions`` table.

    Parameters
    ----------
    source : str, Path or list of dict
        A JSON file holding Stripe subscription objects (a list, or a list endpoint's response,
        i.e. an object with a ``data`` list), or such a list. Subscription items must carry their
        ``price`` (or legacy ``plan``) objects, and discounts their coupons, expanded, as
        ``GET /v1/subscriptions?expand[]=data.discounts`` returns them.

    Returns
    -------
    DataFrame
        ``subscription_id, account_id, plan, start_date, end_date, mrr``, validated like every
        other source (canonical dtypes), one row per subscription that carries MRR.

    Notes
    -----
    MRR follows Stripe's Billing analytics definition ("the sum of the monthly-normalized value
    of all your active and past_due subscriptions", trials, taxes, free and metered products
    excluded; https://docs.stripe.com/billing/subscriptions/analytics/glossary and
    https://support.stripe.com/questions/billing-analytics):

    * item amount = ``quantity x unit_amount`` (``unit_amount_decimal`` when given; tiered prices
      by their ``tiers`` in ``volume`` or ``graduated`` mode; ``transform_quantity`` applied),
      in minor units;
    * monthly-normalised: ``amount / (months x interval_count)`` with months = 1 (``month``),
      12 (``year``), 12/52 (``week``, i.e. x 52/12) or 12/365 (``day``);
    * one-time prices (no ``recurring``) and ``usage_type="metered"`` prices are not MRR; a
      subscription's items are summed;
    * discounts: only coupons with ``duration="forever"`` (and no ``end``) reduce MRR; ``once``
      and ``repeating`` coupons leave it unchanged. ``percent_off`` multiplies, ``amount_off``
      (per invoice) is divided by the billing period's months; item ``discounts`` apply to their
      item, then the subscription's ``discount`` and ``discounts`` (or, when it has none, an
      expanded customer's ``discount``) to the sum, in listed order; MRR never goes below 0;
    * minor -> major units by the currency's exponent: 0 for zero-decimal currencies (JPY, KRW,
      ...), 3 for BHD, JOD, KWD, OMR, TND, else 2 (https://docs.stripe.com/currencies);
    * statuses: ``active`` and ``past_due`` run from ``start_date`` (or ``trial_end`` if later)
      with ``end_date`` = ``cancel_at`` when a cancellation is scheduled, else empty;
      ``canceled`` ends at ``ended_at`` (else ``canceled_at``); ``trialing``, ``incomplete``,
      ``incomplete_expired``, ``unpaid`` and ``paused`` carry no MRR and give no row (an
      ``unpaid`` object does not say since when, so its history cannot be placed); a subscription
      that ended before its trial did, or on its first day, gives no row;
    * dates: Unix seconds -> the UTC calendar date (``end_date`` is exclusive);
    * one currency per file (the table has no currency column): mixed currencies raise.

    Raises
    ------
    SchemaError
        Naming the record (1-based index and id), the field path, the rule and the value, for
        every broken record at once.

    Examples
    --------
    >>> sub = {"id": "sub_1", "customer": "cus_1", "status": "active", "start_date": 1704067200,
    ...        "items": {"data": [{"quantity": 3, "price": {"currency": "usd", "unit_amount": 12000,
    ...                  "recurring": {"interval": "year", "interval_count": 1}}}]}}
    >>> read_stripe_subscriptions([sub])[["subscription_id", "account_id", "mrr"]].values.tolist()
    [['sub_1', 'cus_1', 30.0]]
    """
    records, name = _load(source)
    rows, failures = [], []
    seen: dict[str, int] = {}
    for index, record in enumerate(records, start=1):
        try:
            row = _row(record)
            if row is not None and row["subscription_id"] in seen:
                raise _Bad("id", f"unique (also record {seen[row['subscription_id']]})", row["subscription_id"])
        except _Bad as bad:
            sub_id = record.get("id") if isinstance(record, dict) else None
            failures.append(dict(table=name, row=index, column=bad.field or "(record)", rule=bad.rule,
                                 value=str(bad.value), id=sub_id))
            continue
        if row is not None:
            seen[row["subscription_id"]] = index
            rows.append((index, row))
    if rows:
        first = rows[0][1]["currency"]
        odd = [(i, r) for i, r in rows if r["currency"] != first]
        if odd:
            i, r = odd[0]
            failures.append(dict(table=name, row=i, column="currency",
                                 rule=f"one currency per export (record {rows[0][0]} uses {first}; "
                                      f"{len(odd)} record(s) differ)",
                                 value=r["currency"], id=r["subscription_id"]))
    if failures:
        frame = pd.DataFrame(failures)
        lines = [f"  {name}: record {f['row']}" + (f" ({f['id']})" if f["id"] else "")
                 + f": field '{f['column']}' breaks rule '{f['rule']}' (value {f['value']!r})"
                 for f in failures[:20]]
        more = [f"  ... and {len(failures) - 20} more"] if len(failures) > 20 else []
        raise SchemaError("\n".join([f"{len(failures)} Stripe record(s) break the rules:", *lines, *more]),
                          failures=frame[REJECTED_COLUMNS])
    columns = ["subscription_id", "account_id", "plan", "start_date", "end_date", "mrr"]
    table = pd.DataFrame([r for _, r in rows], columns=columns)
    table.index = pd.RangeIndex(len(table))
    known = set(table["account_id"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # future cancel_at dates are expected
        return validate_tables({"subscriptions": table}, files={"subscriptions": name},
                               known_accounts=known).tables["subscriptions"]
