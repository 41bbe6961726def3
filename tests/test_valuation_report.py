"""The valuation report's verdict, tables and metrics.json: computed from the same numbers."""

from __future__ import annotations

import json
import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import feedback_lib as fl  # noqa: E402
from feedback_lib.errors import ReportError  # noqa: E402
from feedback_lib.reporting.metrics_schema import validate_metrics  # noqa: E402
from feedback_lib.valuation import presentation as vp  # noqa: E402

GRID = {"discount_rates": [0.0, 0.05, 0.10, 0.15, 0.20], "growths": [0.0, 0.05, 0.10], "horizons": [5]}
SNAKE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")


def _check(claimed: float):
    return fl.check_valuation_claim(churn_low=0.05, churn_high=0.15, claimed_uplift=claimed, **GRID)


def test_headline_claim_does_not_hold_and_every_output_says_so():
    # At d = 10%, g = 5%: perpetuity (0.15 + 0.05) / (0.05 + 0.05) - 1 = 100% < 200%.
    check = _check(2.0)
    verdict = vp.claim_verdict(check)
    assert check.central_uplift()["perpetuity"] == pytest.approx(1.0)
    assert verdict.claim_holds is False and verdict.models_holding == 0
    assert "holds under 0 of 5 models" in verdict.sentence and "it does not hold" in verdict.sentence
    assert "under 0 of 5 models" in check.describe()  # section 1 says the same
    m = fl.valuation_headline(check, grr=0.88, nrr=1.02, arr_growth=0.1)
    assert m["claim_holds"] is False and not any(m["holds_at_central"].values())
    assert (vp.model_table(check)["Holds at central assumptions"] == "no").all()


def test_modest_claim_holds_under_every_model():
    # 20% more value: the smallest central uplift is the finite model's 21.8% (see the claims grid).
    check = _check(0.20)
    uplift = check.central_uplift()
    assert min(uplift.values()) == pytest.approx(0.2182, abs=1e-3)
    verdict = vp.claim_verdict(check)
    assert verdict.claim_holds is True and verdict.models_holding == 5
    assert verdict.sentence.endswith("it holds.")
    m = fl.valuation_headline(check, grr=0.88, nrr=1.02, arr_growth=0.1)
    assert m["claim_holds"] is True and all(m["holds_at_central"].values())


def test_split_claim_is_not_established():
    # 100%: perpetuity (exactly 100%) and DCF (138%) hold; finite and the multiples do not.
    verdict = vp.claim_verdict(_check(1.0))
    assert verdict.holds_at_central["perpetuity"] and verdict.holds_at_central["simulation_dcf"]
    assert verdict.models_holding == 2 and verdict.claim_holds is False
    assert "not established" in verdict.sentence


class _Rate:
    value, n, ci_low, ci_high = 0.88, 412, 0.85, 0.91


def test_metrics_validate_against_the_schema_and_carry_n_and_interval():
    m = fl.valuation_headline(_check(2.0), grr=_Rate(), nrr=1.3, arr_growth=0.1)
    json.dumps(m, allow_nan=False)
    validate_metrics("valuation", m)
    assert m["company"]["grr"] == {"value": 0.88, "n": 412, "ci_low": 0.85, "ci_high": 0.91}
    churn = m["company"]["revenue_churn"]
    assert churn["value"] == pytest.approx(0.12) and churn["ci_low"] == pytest.approx(0.09)
    assert m["company"]["value_per_arr"]["perpetuity"] is None  # NRR 1.3 >= 1 + 10%: unbounded
    broken = {**m, "claim_holds": {"perpetuity": False}}  # a dict where the verdict should be
    with pytest.raises(ReportError, match=r"\$\.claim_holds"):
        validate_metrics("valuation", broken)


def test_tables_have_human_headers_and_no_inf_or_na():
    check = _check(2.0)
    case = fl.retention_inc_vs_churnco(years=5, discount_rate=0.10)
    own = fl.retention_value_implications(grr=0.9, nrr=1.1, discount_rates=[0.05, 0.10, 0.20])
    for table in (vp.model_table(check), vp.case_study_table(case, currency="EUR"),
                  vp.retention_value_table(own, currency="EUR")):
        assert not [c for c in table.columns if SNAKE.match(c)]
        text = " ".join(table.astype(str).to_numpy().ravel())
        assert not re.search(r"\binf\b|\bnan\b|<NA>", text, flags=re.I), text
    assert "unbounded" in " ".join(vp.model_table(check)["Range over the grid"])
    shown = vp.retention_value_table(own, currency="EUR")
    assert shown["Value of 1 ARR"].iloc[0].startswith("unbounded")  # NRR 1.1 >= 1 + 5%
    assert shown["Value of 1 ARR"].iloc[2] == "EUR 8.00"  # margin / (1 - NRR + d) = 0.8 / 0.1
    assert "EUR" in vp.case_study_table(case, currency="EUR").iloc[0, 1]


def test_uplift_sensitivity_against_hand_values():
    t = vp.uplift_sensitivity(churn_high=0.15, churn_lows=[0.05, 0.10], discount_rates=[0.0, 0.10], growth=0.10)
    perp = t[t["model"] == "perpetuity"].set_index(["churn_low", "discount_rate"])["implied_uplift"]
    assert perp[(0.10, 0.10)] == pytest.approx((0.15 + 0.0) / (0.10 + 0.0) - 1)  # d - g = 0
    assert math.isinf(perp[(0.05, 0.0)])  # 0.05 + 0 - 0.10 < 0: the low-churn perpetuity diverges
    assert "unbounded" in vp.describe_sensitivity(t, churn_low=0.05)
    ax = vp.plot_uplift_sensitivity(t, claimed_uplift=2.0, churn_high=0.15)
    assert len(ax.get_lines()) >= 3  # two discount rates and the claim line
    plt.close(ax.figure)
