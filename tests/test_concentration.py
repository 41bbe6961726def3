"""Tests of feedback_lib.revenue.concentration: ARPA, top share, the 80:20 check, Lorenz curve and Gini."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import feedback_lib as fl  # noqa: E402
from feedback_lib.errors import FeedbackLibError, ParameterError  # noqa: E402

AS_OF = "2024-06-30"


def month_revenue(values, month: str = "2024-06-01", prefix: str = "A") -> pd.DataFrame:
    """One revenue row per value, all in one month."""
    return pd.DataFrame(
        {
            "account_id": pd.array([f"{prefix}{i:03d}" for i in range(len(values))], dtype="string"),
            "month": pd.to_datetime([month] * len(values)),
            "mrr": [float(v) for v in values],
        }
    )


def test_top_share_rounds_the_number_of_accounts_up():
    revenue = month_revenue([100] + [10] * 19)
    # 20 paying accounts, top 5% = ceil(0.05 * 20) = 1 account: 100 / (100 + 19 * 10) = 100 / 290
    assert fl.top_share(revenue, as_of=AS_OF) == pytest.approx(100 / 290)
    # top 10% = 2 accounts: (100 + 10) / 290
    assert fl.top_share(revenue, as_of=AS_OF, top=0.1) == pytest.approx(110 / 290)
    # 21 accounts: ceil(0.05 * 21) = ceil(1.05) = 2 accounts: (100 + 10) / 300
    assert fl.top_share(month_revenue([100] + [10] * 20), as_of=AS_OF) == pytest.approx(110 / 300)
    assert fl.top_share(revenue, as_of=AS_OF, top=1.0) == 1.0


def test_top_share_ignores_float_noise_and_non_paying_rows():
    # 0.07 * 100 = 7.000000000000001 in floats: still 7 accounts, the values 94..100, sum 679 of 5050
    revenue = month_revenue(range(1, 101))
    assert fl.top_share(revenue, as_of=AS_OF, top=0.07) == pytest.approx(679 / 5050)
    # a gap-month row (MRR 0) and a row of another month do not count as paying accounts
    extra = pd.concat([month_revenue([100] + [10] * 19), month_revenue([0], prefix="Z"),
                       month_revenue([1000], month="2024-05-01", prefix="Y")])
    assert fl.top_share(extra, as_of=AS_OF) == pytest.approx(100 / 290)


def test_top_share_from_subscriptions():
    subscriptions = pd.DataFrame({
        "subscription_id": pd.array(["S1", "S2", "S3", "S4"], dtype="string"),
        "account_id": pd.array(["a", "a", "b", "c"], dtype="string"),
        "plan": pd.array(["Pro"] * 4, dtype="string"),
        "start_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-01", "2024-01-01"]),
        "end_date": pd.to_datetime([None, None, None, "2024-06-10"]),
        "mrr": [300.0, 100.0, 100.0, 500.0],
    })
    revenue = fl.monthly_revenue(subscriptions, as_of=AS_OF)
    # June: a 400, b 100 (c ended on June 10): top 1 of 2 = 400 / 500
    assert fl.top_share(revenue, as_of=AS_OF, top=0.5) == pytest.approx(0.8)


def test_errors():
    with pytest.raises(FeedbackLibError, match="top must be"):
        fl.top_share(month_revenue([10]), as_of=AS_OF, top=0)
    with pytest.raises(FeedbackLibError, match="no account pays in 2024-07"):
        fl.top_share(month_revenue([10]), as_of="2024-07-31")
    with pytest.raises(FeedbackLibError, match="several rows"):
        fl.gini(pd.concat([month_revenue([10]), month_revenue([20])]), as_of=AS_OF)
    with pytest.raises(FeedbackLibError, match="share must be"):
        fl.accounts_for_share(month_revenue([10]), as_of=AS_OF, share=1.5)


def test_gini_of_known_distributions():
    assert fl.gini(month_revenue([50] * 7), as_of=AS_OF) == pytest.approx(0.0, abs=1e-12)
    # sorted 1, 2, 3, 4: (-3 * 1 - 1 * 2 + 1 * 3 + 3 * 4) / (4 * 10) = 10 / 40
    assert fl.gini(month_revenue([4, 1, 3, 2]), as_of=AS_OF) == pytest.approx(0.25)
    # one of five accounts holds everything (four lapsed earlier): (5 - 1) / 5
    lapsed = pd.concat([month_revenue([1000]), month_revenue([10] * 4, month="2024-03-01", prefix="L")])
    assert fl.gini(lapsed, as_of=AS_OF, include_lapsed=True) == pytest.approx(4 / 5)
    assert fl.gini(lapsed, as_of=AS_OF) == 0.0  # among paying accounts there is only one


def test_lorenz_curve_by_hand():
    curve = fl.lorenz_curve(month_revenue([4, 1, 3, 2]), as_of=AS_OF)
    # cumulated from the smallest: 0, 1, 3, 6, 10 of 10
    assert curve["accounts"].tolist() == [0, 1, 2, 3, 4]
    assert curve["account_share"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert curve["mrr_share"].tolist() == pytest.approx([0.0, 0.1, 0.3, 0.6, 1.0])


def test_accounts_for_share_is_the_80_20_check():
    # two accounts of 400 and eight of 25: the top 2 (20%) hold exactly 800 of 1000 (80%)
    revenue = month_revenue([400, 400] + [25] * 8)
    result = fl.accounts_for_share(revenue, as_of=AS_OF)
    assert (result.accounts, result.n, result.account_share, result.mrr_share) == (2, 10, 0.2, 0.8)
    assert result.total_mrr == 1000.0
    # 81% needs a third account: 825 / 1000
    more = fl.accounts_for_share(revenue, as_of=AS_OF, share=0.81)
    assert (more.accounts, more.mrr_share) == (3, 0.825)
    assert more.to_frame().loc[0, "target"] == 0.81


def test_arpa():
    # (100 + 50) / 2 paying accounts; the zero row is not paying
    assert fl.arpa(month_revenue([100, 50, 0]), as_of=AS_OF) == 75.0


def test_plot_lorenz():
    curve = fl.lorenz_curve(month_revenue([400, 400] + [25] * 8), as_of=AS_OF)
    fig, ax = plt.subplots()
    assert fl.plot_lorenz(curve, ax=ax) is ax
    # Lorenz points (k/10, 25k/1000) for k <= 8, then 0.6 and 1.0: the top 20% hold 80%;
    # Gini = (sum_i (2i - 11) x_i) / (10 * 1000) = (25 * -16 + 400 * 7 + 400 * 9) / 10000 = 0.6
    assert ax.get_title() == "Revenue concentration: Gini 0.60, top 20% of accounts hold 80% of MRR"
    big = fl.lorenz_curve(month_revenue(range(1, 10_001)), as_of=AS_OF)
    ax = fl.plot_lorenz(big)
    assert max(len(line.get_xdata()) for line in ax.get_lines()) <= 4001
    plt.close("all")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 10**7), min_size=1, max_size=60), st.floats(0.01, 1.0), st.floats(0.05, 1.0))
def test_concentration_properties(cents, top, share):
    revenue = month_revenue([c / 100 for c in cents])
    n = len(cents)
    ordered = sorted(cents, reverse=True)
    k = math.ceil(round(top * n, 9))
    assert fl.top_share(revenue, as_of=AS_OF, top=top) == pytest.approx(sum(ordered[:k]) / sum(cents))
    g = fl.gini(revenue, as_of=AS_OF)
    assert -1e-12 <= g <= (n - 1) / n + 1e-12
    curve = fl.lorenz_curve(revenue, as_of=AS_OF)
    assert (np.diff(curve["mrr_share"]) >= 0).all()
    assert (curve["mrr_share"] <= curve["account_share"] + 1e-12).all()
    y = curve["mrr_share"].to_numpy()
    area = np.sum(np.diff(curve["account_share"]) * (y[1:] + y[:-1]) / 2)  # trapezoids
    assert g == pytest.approx(1 - 2 * area, abs=1e-9)
    result = fl.accounts_for_share(revenue, as_of=AS_OF, share=share)
    assert result.mrr_share >= share - 1e-9
    assert sum(ordered[: result.accounts - 1]) / sum(cents) < share  # and no fewer accounts suffice
    shuffled = revenue.sample(frac=1, random_state=0)
    assert fl.gini(shuffled, as_of=AS_OF) == g


def test_revenue_concentration_gives_what_the_single_functions_give():
    rng = np.random.default_rng(3)
    mrr = np.round(rng.lognormal(5, 1.2, 500), 2)
    revenue = month_revenue(list(mrr))
    c = fl.revenue_concentration(revenue, as_of=AS_OF)
    assert c.n == 500 and c.total_mrr == pytest.approx(mrr.sum())
    assert c.gini == fl.gini(revenue, as_of=AS_OF)
    for top in (0.01, 0.05, 0.2, 1.0):
        assert c.top_share(top) == fl.top_share(revenue, as_of=AS_OF, top=top)
    assert c.accounts_for_share(0.8) == fl.accounts_for_share(revenue, as_of=AS_OF, share=0.8)
    pd.testing.assert_frame_equal(c.lorenz, fl.lorenz_curve(revenue, as_of=AS_OF))
    row = c.to_frame().iloc[0]
    assert row["top5_share"] == c.top_share(0.05) and row["accounts_for_80_share"] == c.accounts_for_share(0.8).account_share
    with pytest.raises(ParameterError):
        c.top_share(0)
