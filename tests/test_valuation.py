"""Tests of the valuation lab: customer_value, heterogeneity, company_simulation,
valuation_claims, valuation_report, comps and the retention_valuation report notebook."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import feedback_lib as fl

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "reports" / "retention_valuation.ipynb"
COMPS_CSV = ROOT / "data" / "examples" / "comps_synthetic.csv"


# --- customer_base_value and its finite horizon -------------------------------------------------


def test_customer_base_value_5_vs_15_percent_churn_is_exactly_three_times():
    # zero discount and growth: 12 m mrr / 0.05 over 12 m mrr / 0.15 = 0.15 / 0.05 = 3 ("200% higher")
    low = fl.customer_base_value(10_000, churn=0.05)
    high = fl.customer_base_value(10_000, churn=0.15)
    assert low == pytest.approx(2_400_000, rel=1e-12)  # 12 * 10,000 / 0.05
    assert high == pytest.approx(800_000, rel=1e-12)  # 12 * 10,000 / 0.15
    assert low / high == pytest.approx(3.0, rel=1e-12)


def test_customer_base_value_closed_form_with_discount_growth_margin():
    # 12 * 0.8 * 10,000 / (0.10 + 0.10 - 0.05) = 96,000 / 0.15 = 640,000
    value = fl.customer_base_value(10_000, churn=0.10, discount_rate=0.10, growth=0.05, margin=0.8)
    assert value == pytest.approx(640_000, rel=1e-12)


@pytest.mark.parametrize("growth", [0.15, 0.20])
def test_customer_base_value_raises_when_denominator_not_positive(growth):
    with pytest.raises(fl.FeedbackLibError, match="not positive"):
        fl.customer_base_value(1_000, churn=0.10, discount_rate=0.05, growth=growth)


@pytest.mark.parametrize(
    "kwargs", [dict(churn=1.5), dict(churn=0.1, margin=1.2), dict(churn=0.1, discount_rate=-1.0)]
)
def test_customer_base_value_rejects_out_of_range_rates(kwargs):
    with pytest.raises(fl.FeedbackLibError):
        fl.customer_base_value(1_000, **kwargs)


def test_customer_base_value_rejects_negative_mrr():
    with pytest.raises(ValueError, match="mrr"):
        fl.customer_base_value(-1.0, churn=0.1)


def test_finite_horizon_closed_forms():
    # undiscounted: 12,000 * (1 - 0.9^3) / 0.1 = 12,000 * 2.71 = 32,520 = 12,000 * (1 + 0.9 + 0.81)
    assert fl.customer_base_value_finite(1_000, churn=0.1, horizon_years=3) == pytest.approx(32_520)
    # k = churn + d - g = 0: 12,000 * N
    assert fl.customer_base_value_finite(1_000, churn=0.05, growth=0.05, horizon_years=7) == 84_000
    # k < 0 stays finite: q = 1.05, 12,000 * (1 + 1.05) = 24,600
    assert fl.customer_base_value_finite(1_000, churn=0.0, growth=0.05, horizon_years=2) == pytest.approx(24_600)


def test_finite_horizon_tends_to_perpetuity():
    perpetuity = fl.customer_base_value(1_000, churn=0.1, discount_rate=0.05, margin=0.8)
    finite = fl.customer_base_value_finite(1_000, churn=0.1, discount_rate=0.05, margin=0.8, horizon_years=1_000)
    assert finite == pytest.approx(perpetuity, rel=1e-12)


@given(
    churn=st.floats(0.01, 0.6), discount=st.floats(0.0, 0.3), growth=st.floats(0.0, 0.3),
    horizon=st.integers(1, 40),
)
def test_finite_horizon_is_increasing_and_below_perpetuity(churn, discount, growth, horizon):
    assume(0.001 < churn + discount - growth <= 1)
    kw = dict(churn=churn, discount_rate=discount, growth=growth)
    shorter = fl.customer_base_value_finite(100.0, horizon_years=horizon, **kw)
    longer = fl.customer_base_value_finite(100.0, horizon_years=horizon + 1, **kw)
    assert shorter <= longer <= fl.customer_base_value(100.0, **kw) * (1 + 1e-12)


def test_monthly_churn_rate_compounds_back_to_annual():
    # (1 - c_m)^12 = 1 - 0.2 = 0.8; SaaS Capital quotes 80% retention as about 1.85% a month
    c_m = fl.monthly_churn_rate(0.20)
    assert (1 - c_m) ** 12 == pytest.approx(0.8, rel=1e-12)
    assert c_m == pytest.approx(0.0184, abs=5e-5)


# --- heterogeneity (sBG) -------------------------------------------------------------------------

# Fader & Hardie (2010), Marketing Science 29(1), Table 3: DERL at d = 10% for customers who have
# made 0..4 renewals, both cases with 80% first-year retention (mean churn 0.2). Case 1 has
# polarization 0.05 (alpha 3.80, beta 15.20), case 2 polarization 0.75 (printed alpha 0.067,
# beta 0.267, i.e. 1/15 and 4/15). Figures as quoted in pymc-marketing's test suite
# (tests/clv/models/test_shifted_beta_geo.py, which cites the paper's Table 3).
FH2010_CASES = [
    (3.80, 15.20, [3.31, 3.45, 3.59, 3.72, 3.84]),
    (1 / 15, 4 / 15, [7.68, 9.46, 9.86, 10.06, 10.19]),
]


@pytest.mark.parametrize(("alpha", "beta", "published"), FH2010_CASES)
def test_derl_reproduces_fader_hardie_2010_table_3(alpha, beta, published):
    def derl(renewals: int) -> float:
        return fl.discounted_expected_residual_lifetime(alpha=alpha, beta=beta, discount_rate=0.10, renewals=renewals)

    assert [round(derl(n), 2) for n in range(5)] == published


@pytest.mark.parametrize(("alpha", "beta"), [(0.7, 1.2), (3.8, 15.2)])
def test_derl_equals_direct_sum_of_sbg_survival(alpha, beta):
    # DERL(n-1 renewals) = sum_{t >= n} S(t) / S(n-1) / (1 + d)^(t - n), S(t) = B(a, b + t) / B(a, b)
    from feedback_lib.churn.heterogeneity import _sbg_survival

    d, n = 0.15, 3
    t = np.arange(n, 3_000)
    direct = np.sum(_sbg_survival(t, alpha, beta) / _sbg_survival(n - 1, alpha, beta) / (1 + d) ** (t - n))
    closed = fl.discounted_expected_residual_lifetime(alpha=alpha, beta=beta, discount_rate=d, renewals=n - 1)
    assert closed == pytest.approx(direct, rel=1e-9)


def test_del_is_first_payment_plus_discounted_derl():
    alpha, beta, d = 0.704, 1.182, 0.1  # Fader & Hardie (2007) "regular" segment
    derl0 = fl.discounted_expected_residual_lifetime(alpha=alpha, beta=beta, discount_rate=d)
    life = fl.discounted_expected_lifetime(alpha=alpha, beta=beta, discount_rate=d)
    assert life == pytest.approx(1 + derl0 / 1.1)


def test_sbg_tends_to_geometric_when_heterogeneity_vanishes():
    # alpha, beta -> inf at mean churn 0.2: DERL -> r (1 + d) / (d + c) = 0.8 * 1.1 / 0.3 = 2.9333,
    # DEL -> (1 + d) / (d + c) = 1.1 / 0.3 = 3.6667
    alpha, beta = 0.2 * 1e7, 0.8 * 1e7
    derl = fl.discounted_expected_residual_lifetime(alpha=alpha, beta=beta, discount_rate=0.1, renewals=3)
    assert derl == pytest.approx(0.8 * 1.1 / 0.3, rel=1e-5)
    life = fl.discounted_expected_lifetime(alpha=alpha, beta=beta, discount_rate=0.1)
    assert life == pytest.approx(1.1 / 0.3, rel=1e-5)
    check = fl.heterogeneity_check(alpha=alpha, beta=beta, discount_rate=0.1)
    assert check.undervaluation == pytest.approx(0, abs=1e-5)


def test_undiscounted_sbg_lifetime_is_the_mean_of_a_shifted_geometric():
    # E[1 / theta] for theta ~ Beta(3, 2) = (a + b - 1) / (a - 1) = 4 / 2 = 2 periods
    assert fl.discounted_expected_lifetime(alpha=3.0, beta=2.0, discount_rate=0.0) == pytest.approx(2.0)
    with pytest.raises(fl.FeedbackLibError, match="infinite"):
        fl.discounted_expected_lifetime(alpha=0.9, beta=2.0, discount_rate=0.0)


def test_heterogeneity_check_quantifies_the_undervaluation():
    h = fl.heterogeneity_check(alpha=1 / 15, beta=4 / 15, discount_rate=0.10)
    assert h.first_year_retention == pytest.approx(0.8)  # 4/15 / (5/15)
    assert h.lifetime_constant == pytest.approx(1.1 / 0.3)  # (1 + d) / (d + 1 - r)
    # 1 - 3.6667 / (1 + 7.6815 / 1.1) = 1 - 3.6667 / 7.9832 = 0.5407
    assert h.undervaluation == pytest.approx(0.5407, abs=1e-4)
    assert h.by_tenure["retention_rate"].is_monotonic_increasing  # (b + n - 1) / (a + b + n - 1)
    assert h.by_tenure["derl_constant"].to_numpy() == pytest.approx([0.8 * 1.1 / 0.3] * 5)
    assert "54%" in h.describe()


def test_heterogeneity_check_accepts_a_fitted_model_object():
    model = SimpleNamespace(alpha=3.8, beta=15.2)
    assert fl.heterogeneity_check(model, discount_rate=0.1).lifetime_sbg == pytest.approx(
        fl.heterogeneity_check(alpha=3.8, beta=15.2, discount_rate=0.1).lifetime_sbg
    )
    with pytest.raises(fl.FeedbackLibError, match="not both"):
        fl.heterogeneity_check(model, alpha=1.0, beta=1.0, discount_rate=0.1)


# --- company simulation and Retention Inc. vs ChurnCo --------------------------------------------


def _arr_closed_form(churn: float, months: int, bookings: float = 120_000.0) -> float:
    c_m = 1 - (1 - churn) ** (1 / 12)
    return bookings * (1 - (1 - c_m) ** months) / c_m


def test_simulation_matches_the_closed_form_without_expansion():
    sim = fl.simulate_company(annual_churn=0.20, years=5)
    # ARR_m = B (1 - (1 - c_m)^m) / c_m with (1 - c_m)^60 = 0.8^5 = 0.32768
    expected = [_arr_closed_form(0.20, 12 * y) for y in range(1, 6)]
    assert sim.yearly["arr"].to_numpy() == pytest.approx(expected, rel=1e-12)
    # customers = 10 new a month on the same closed form; CAC = 10 * 12,000 * 12 = 1.44M a year
    assert sim.yearly["customers"].iloc[-1] == pytest.approx(expected[-1] / 12_000, rel=1e-12)
    assert sim.yearly["cac_spend"].eq(1_440_000).all()
    y = sim.yearly
    assert (y["cash_flow"] - (0.8 * y["revenue"] - y["cac_spend"])).abs().max() < 1e-6


def test_simulation_terminal_values():
    sim = fl.simulate_company(annual_churn=0.05, years=5, discount_rate=0.10)
    arr = sim.yearly["arr"].iloc[-1]
    growth = sim.yearly["arr_growth"].iloc[-1]
    assert sim.value("multiple") == pytest.approx(5 * arr)
    assert sim.value("growth_multiple") == pytest.approx((1.5 + 10 * growth) * arr)
    assert sim.value("perpetuity") == pytest.approx(0.8 * arr / 0.15)  # margin ARR / (c + d - g)
    pv = (sim.yearly["cash_flow"] / 1.1 ** sim.yearly["year"]).sum() + 0.8 * arr / 0.15 / 1.1**5
    assert sim.value("perpetuity", present=True) == pytest.approx(pv)
    diverging = fl.simulate_company(annual_churn=0.05, annual_expansion=0.10, years=3)
    assert math.isinf(diverging.value("perpetuity"))
    assert math.isnan(fl.simulate_company(annual_churn=0.05, years=1).value("growth_multiple"))


def test_retention_inc_vs_churnco_reproduction():
    # Gainsight x SaaS Capital webinar (Murphy & Gardner, 2015-03-19): $120k new ACV a month,
    # $12k CAC per customer (our assumption: $12k ACV, 10 customers a month), 80% gross margin,
    # 95% vs 80% retention, 5 years. Published slides give the assumptions and "growth rate is
    # 50% higher" but no year-5 figures we could retrieve; these are our reproduced numbers.
    case = fl.retention_inc_vs_churnco(discount_rate=0.10)
    firms = case.companies.set_index(["scenario", "company"])
    study = "case study: 95% vs 80% retention"
    ri, cc = firms.loc[(study, "Retention Inc.")], firms.loc[(study, "ChurnCo")]
    # 120k * (1 - 0.95^5) / (1 - 0.95^(1/12)) = 6.364M ; 120k * (1 - 0.8^5) / (1 - 0.8^(1/12)) = 4.379M
    assert ri["arr"] == pytest.approx(6_364_422, abs=1)
    assert cc["arr"] == pytest.approx(4_379_110, abs=1)
    # year-5 ARR growth 21.96% vs 13.88%: ratio 1.58 (the slide's "growth rate is 50% higher")
    assert ri["arr_growth"] == pytest.approx(0.21955, abs=1e-5)
    assert cc["arr_growth"] == pytest.approx(0.13875, abs=1e-5)
    values = case.valuations.set_index(["scenario", "model"])["value_ratio"]
    assert values[(study, "multiple")] == pytest.approx(6_364_422 / 4_379_110, rel=1e-6)  # 1.4534
    # perpetuity of the installed base: ARR ratio * (0.20 + 0.10) / (0.05 + 0.10) = 1.4534 * 2 = 2.9067
    assert values[(study, "perpetuity")] == pytest.approx(2 * 6_364_422 / 4_379_110, rel=1e-6)
    assert values[(study, "growth_multiple")] == pytest.approx(1.860, abs=1e-3)
    # headline 5% vs 15%: ChurnCo ARR 120k * (1 - 0.85^5) / (1 - 0.85^(1/12)) = 4.963M, ratio 1.2825
    headline = "headline: 5% vs 15% churn"
    assert firms.loc[(headline, "ChurnCo"), "arr"] == pytest.approx(_arr_closed_form(0.15, 60), rel=1e-12)
    assert values[(headline, "multiple")] == pytest.approx(1.2825, abs=1e-4)
    assert values[(headline, "perpetuity")] == pytest.approx(1.2825 * 0.25 / 0.15, abs=1e-3)  # 2.1375


# --- the claim checker and the other claims ------------------------------------------------------


@pytest.fixture(scope="module")
def claim_5_vs_15():
    return fl.check_valuation_claim(churn_low=0.05, churn_high=0.15, claimed_uplift=2.0)


def test_claim_grid_shape_and_perpetuity_values(claim_5_vs_15):
    grid = claim_5_vs_15.grid
    # perpetuity: 5 discount rates x 3 growths; four horizon models x 15 x 2 horizons
    assert grid["model"].value_counts().to_dict() == {
        "perpetuity": 15, "finite": 30, "simulation_multiple": 30,
        "simulation_growth_multiple": 30, "simulation_dcf": 30,
    }
    perp = grid[grid["model"] == "perpetuity"].set_index(["discount_rate", "growth"])["implied_uplift"]
    assert perp[(0.0, 0.0)] == pytest.approx(2.0)  # 0.15 / 0.05 - 1
    assert perp[(0.10, 0.0)] == pytest.approx(0.25 / 0.15 - 1)  # 66.7%
    assert math.isinf(perp[(0.0, 0.10)])  # low-churn perpetuity diverges: 0.05 + 0 - 0.10 < 0
    row = grid[(grid["model"] == "perpetuity") & (grid["discount_rate"] == 0.0) & (grid["growth"] == 0.0)].iloc[0]
    assert row["at_least"] and row["reproduces"] and row["holds"]


def test_claim_verdicts_are_generated_from_the_grid(claim_5_vs_15):
    verdict = claim_5_vs_15.verdict
    assert verdict["perpetuity"].startswith(
        "holds only when growth 0%: discount rate <= 0%; growth 5%: discount rate <= 5%; "
        "growth 10%: discount rate <= 10%"
    )
    # (0.15 + x) / (0.05 + x) >= 3  <=>  x = d - g <= (0.15 - 3 * 0.05) / 2 = 0
    assert "exact: holds iff discount rate - growth <= 0.0%" in verdict["perpetuity"]
    assert verdict["finite"].startswith("does not hold anywhere in the grid")
    summary = claim_5_vs_15.summary.set_index("model")
    assert summary.loc["perpetuity", "cases_holding"] == 6  # d <= g: (0,0), (0,.05), (.05,.05), (0..0.10, .10)


def test_simulation_multiple_does_not_depend_on_discount_rate(claim_5_vs_15):
    grid = claim_5_vs_15.grid
    sim = grid[grid["model"] == "simulation_multiple"]
    assert sim.groupby(["growth", "horizon_years"])["implied_uplift"].nunique().eq(1).all()


def test_claim_central_assumptions(claim_5_vs_15):
    assert (claim_5_vs_15.central_discount_rate, claim_5_vs_15.central_growth) == (0.10, 0.05)
    assert claim_5_vs_15.central_horizon == 5
    # perpetuity at d = 10%, g = 5%: (0.15 + 0.05) / (0.05 + 0.05) - 1 = 1.0
    assert claim_5_vs_15.central_uplift()["perpetuity"] == pytest.approx(1.0)


def test_case_study_claim_holds_with_growth_linked_multiple_only_at_10_percent_expansion():
    check = fl.check_valuation_claim(churn_low=0.05, churn_high=0.20, claimed_uplift=2.0)
    assert check.verdict["simulation_growth_multiple"].startswith(
        "holds only when growth 10%: any discount rate in the grid at 10y"
    )
    # (0.20 + x) / (0.05 + x) >= 3  <=>  x <= (0.20 - 0.15) / 2 = 2.5%
    assert "discount rate - growth <= 2.5%" in check.verdict["perpetuity"]


def test_reproduces_criterion_uses_tolerance():
    check = fl.check_valuation_claim(
        churn_low=0.05, churn_high=0.15, claimed_uplift=2.0, criterion="reproduces",
        discount_rates=[0.0, 0.05], growths=[0.0], horizons=[5], tolerance=0.5,
    )
    perp = check.grid[check.grid["model"] == "perpetuity"].set_index("discount_rate")
    # d = 0.05: 0.20 / 0.10 - 1 = 1.0, |1.0 - 2.0| > 0.5 -> not reproduced, and not at least
    assert perp.loc[0.0, "holds"] and not perp.loc[0.05, "holds"]


@pytest.mark.parametrize(
    "kwargs",
    [dict(churn_low=0.2, churn_high=0.1), dict(criterion="roughly"), dict(horizons=[1]), dict(growths=[])],
)
def test_check_valuation_claim_rejects_bad_parameters(kwargs):
    base = dict(churn_low=0.05, churn_high=0.15, claimed_uplift=2.0)
    with pytest.raises(fl.FeedbackLibError):
        fl.check_valuation_claim(**{**base, **kwargs})


def test_revenue_growth_claim():
    # 10% a year for 5 years adds $17M only from ARR0 = 17e6 / (1.1^5 - 1) = 17e6 / 0.61051 = $27.85M
    assert fl.revenue_growth_claim(growth_rate=0.10, years=5, added_revenue=17e6) == pytest.approx(
        17e6 / 0.61051, rel=1e-9
    )
    with pytest.raises(fl.FeedbackLibError):
        fl.revenue_growth_claim(growth_rate=0.0, years=5, added_revenue=17e6)


def test_one_point_retention_uplift_against_saas_capital_12_percent():
    table = fl.one_point_retention_uplift(retention=0.80, discount_rate=0.10).set_index("model")
    assert table.loc["perpetuity", "implied_uplift"] == pytest.approx(0.30 / 0.29 - 1)  # 3.45%
    # finite, 5 years, d = 10%: (1 - 0.71^5) / 0.29 over (1 - 0.70^5) / 0.30, minus 1
    assert table.loc["finite", "implied_uplift"] == pytest.approx(
        (1 - 0.71**5) / 0.29 / ((1 - 0.70**5) / 0.30) - 1
    )
    # Finding: none of the models reaches SaaS Capital's 12% per point at 80% retention, d = 10%, g = 0
    assert (table["implied_uplift"] < 0.12).all()


# --- the report helpers ---------------------------------------------------------------------------


def test_retention_value_implications():
    rv = fl.retention_value_implications(grr=0.90, nrr=1.00, discount_rates=[0.05, 0.10])
    # perpetuity per $1 of ARR: 0.8 / (1 - NRR + d) = 0.8 / 0.10 = 8; one more GRR point: 0.10 / 0.09 - 1
    row = rv.at("perpetuity", 0.10)
    assert row["value_per_arr"] == pytest.approx(8.0)
    assert row["uplift_one_point"] == pytest.approx(0.10 / 0.09 - 1)
    diverging = fl.retention_value_implications(grr=0.9, nrr=1.2, discount_rates=[0.1])
    assert math.isinf(diverging.at("perpetuity", 0.1)["value_per_arr"])
    assert "unbounded in perpetuity" in diverging.describe()
    with pytest.raises(fl.FeedbackLibError, match="NaN"):
        fl.retention_value_implications(grr=float("nan"), nrr=1.0, discount_rates=[0.1])


def test_arr_growth_rate():
    revenue = pd.DataFrame(
        {"account_id": ["a", "b", "a", "c"], "mrr": [100.0, 60.0, 150.0, 50.0],
         "month": pd.to_datetime(["2025-03-01", "2025-03-01", "2026-03-01", "2026-03-01"])}
    )
    assert fl.arr_growth_rate(revenue, as_of="2026-03-31") == pytest.approx(200 / 160 - 1)
    with pytest.raises(fl.FeedbackLibError, match="no MRR"):
        fl.arr_growth_rate(revenue, as_of="2026-03-31", window_months=6)


def test_valuation_headline_is_json_ready(claim_5_vs_15):
    headline = fl.valuation_headline(claim_5_vs_15, grr=0.9, nrr=1.2, arr_growth=0.3)
    json.dumps(headline, allow_nan=False)  # raises on inf/NaN
    assert headline["implied_uplift"]["perpetuity"] == pytest.approx(1.0)
    assert headline["company"]["value_per_arr"]["perpetuity"] is None  # NRR 1.2 >= 1 + 0.10: diverges
    assert headline["holds_at_central"] == {m: False for m in fl.CLAIM_MODELS}


def test_plot_claim_heatmap_annotates_every_cell_and_marks_holding_ones(claim_5_vs_15):
    ax = fl.plot_claim_heatmap(claim_5_vs_15.grid, model="perpetuity")
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 15  # 3 growths x 5 discount rates
    assert sum("\u2713" in t for t in texts) == 6
    assert "unbounded \u2713" in texts
    plt.close(ax.figure)
    with pytest.raises(fl.FeedbackLibError, match="pick horizon_years"):
        fl.plot_claim_heatmap(claim_5_vs_15.grid, model="finite")
    ax = fl.plot_claim_heatmap(claim_5_vs_15.grid, model="finite", horizon_years=10, colorbar=False)
    assert "10 years" in ax.get_title()
    plt.close(ax.figure)
    with pytest.raises(fl.FeedbackLibError, match="not in the grid"):
        fl.plot_claim_heatmap(claim_5_vs_15.grid, model="nonsense")


# --- comparable companies ------------------------------------------------------------------------


def test_shipped_comps_csv_is_labelled_synthetic_and_reproducible():
    first_line = COMPS_CSV.read_text().splitlines()[0]
    assert first_line.startswith("#") and "SYNTHETIC" in first_line
    comps = fl.read_comps(COMPS_CSV)
    assert comps["name"].str.startswith("SYNTHETIC-").all()
    pd.testing.assert_frame_equal(comps, fl.synthetic_comps(seed=2015, n=40))


def test_fit_valuation_multiple_recovers_planted_coefficients():
    fit = fl.fit_valuation_multiple(fl.synthetic_comps(seed=2015))
    coef = fit.coefficients.set_index("term")
    truth = fl.SYNTHETIC_COMPS_COEFFICIENTS
    for term in ("nrr", "growth"):
        assert coef.loc[term, "ci_low"] < truth[term] < coef.loc[term, "ci_high"]
    assert fit.n == 40 and 0.5 < fit.r_squared < 1


def test_fit_valuation_multiple_uses_hc3_errors():
    comps = fl.synthetic_comps(seed=7, n=25)
    fit = fl.fit_valuation_multiple(comps)
    x = np.column_stack([np.ones(len(comps)), comps["nrr"], comps["growth"]])
    y = comps["revenue_multiple"].to_numpy()
    bread = np.linalg.inv(x.T @ x)
    resid = y - x @ (bread @ x.T @ y)
    leverage = np.einsum("ij,jk,ik->i", x, bread, x)
    meat = x.T @ (x * (resid**2 / (1 - leverage) ** 2)[:, None])  # MacKinnon & White (1985) HC3
    se = np.sqrt(np.diag(bread @ meat @ bread))
    assert fit.coefficients["std_error"].to_numpy() == pytest.approx(se, rel=1e-9)


def test_fit_predict_returns_mean_and_wider_prediction_interval():
    fit = fl.fit_valuation_multiple(fl.synthetic_comps(seed=2015))
    pred = fit.predict(retention=1.05, growth=0.20).iloc[0]
    b = fit.coefficients.set_index("term")["estimate"]
    assert pred["multiple"] == pytest.approx(b["const"] + 1.05 * b["nrr"] + 0.20 * b["growth"])
    assert pred["pi_low"] < pred["ci_low"] < pred["multiple"] < pred["ci_high"] < pred["pi_high"]


def test_fit_valuation_multiple_schema_errors():
    comps = fl.synthetic_comps(seed=1, n=8)
    with pytest.raises(fl.SchemaError, match="missing column.*'retention'"):
        fl.fit_valuation_multiple(comps, retention_col="retention")
    with pytest.raises(fl.SchemaError, match="at least 5"):
        fl.fit_valuation_multiple(comps.head(4))
    broken = comps.astype({"growth": object})
    broken.loc[[2, 5], "growth"] = ["n/a", None]
    with pytest.raises(fl.SchemaError, match=r"'growth' has 2 .*rows 3, 6; e.g. 'n/a'") as info:
        fl.fit_valuation_multiple(broken)
    assert info.value.failures["row"].tolist() == [3, 6]


# --- the report notebook -------------------------------------------------------------------------


def _code_cells(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_notebook_structure():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    params = nb.cells[1]
    assert "parameters" in params.metadata.get("tags", [])
    for name in ("as_of", "source", "churn_low", "churn_high", "claimed_uplift", "discount_rates",
                 "growths", "horizon_years", "comps_path", "segment", "output_dir"):
        assert f"\n{name}: " in "\n" + params.source
    for source in _code_cells(nb):  # no business logic: no function definitions, no loops
        assert not re.search(r"^\s*(def|class|for|while)\s", source, flags=re.M)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)  # saved without outputs


@pytest.mark.slow
def test_notebook_metrics_equal_the_library(tmp_path, monkeypatch):
    import os
    import sys

    import papermill as pm

    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    params = dict(
        output_dir=str(tmp_path), churn_high=0.20, discount_rates=[0.05, 0.10, 0.15], growths=[0.0, 0.05],
        horizon_years=4, segment="Mid-Market", comps_path=str(COMPS_CSV),
    )
    pm.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "out.ipynb"), parameters=params, kernel_name="python3",
        progress_bar=False, cwd=str(NOTEBOOK.parent),
    )
    as_of = "2026-09-30"
    data = fl.generate_demo(seed=42)
    mid_market = data.accounts.loc[data.accounts["segment"] == "Mid-Market", "account_id"]
    subscriptions = data.subscriptions[data.subscriptions["account_id"].isin(mid_market)]
    revenue = fl.monthly_revenue(subscriptions, as_of=as_of)
    check = fl.check_valuation_claim(
        churn_low=0.05, churn_high=0.20, claimed_uplift=2.0, discount_rates=[0.05, 0.10, 0.15],
        growths=[0.0, 0.05], horizons=[4],
    )
    expected = fl.valuation_headline(
        check,
        grr=fl.gross_revenue_retention(revenue, as_of=as_of),
        nrr=fl.net_revenue_retention(revenue, as_of=as_of),
        arr_growth=fl.arr_growth_rate(revenue, as_of=as_of),
    )
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == json.loads(json.dumps(expected))
    assert written["central_assumptions"] == {"discount_rate": 0.10, "growth": 0.0, "horizon_years": 4}
