"""The rate glossary: one definition per rate, each naming a function that computes it."""

import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.reporting.glossary import rate_glossary


def test_each_rate_defined_once_with_a_library_function():
    g = rate_glossary()
    assert list(g.columns) == ["Rate", "Definition", "Formula", "Function"]
    assert g["Rate"].is_unique
    for needed in ("NRR", "GRR", "Revenue churn", "Logo churn", "NPS"):
        assert g["Rate"].str.contains(needed, regex=False).sum() == 1, needed
    for name in g["Function"]:
        assert callable(getattr(fl, name)), name


def test_formulas_agree_with_the_functions_on_a_hand_built_company():
    # a: 100 -> 180 (expands), b: 100 -> 50 (contracts), c: 100 -> gone, d: new this year.
    revenue = pd.DataFrame({
        "account_id": ["a", "a", "b", "b", "c", "d"],
        "month": pd.to_datetime(["2023-06-01", "2024-06-01", "2023-06-01", "2024-06-01",
                                 "2023-06-01", "2024-06-01"]),
        "mrr": [100.0, 180.0, 100.0, 50.0, 100.0, 500.0],
    })
    as_of = "2024-06-30"
    nrr = fl.net_revenue_retention(revenue, as_of=as_of)
    grr = fl.gross_revenue_retention(revenue, as_of=as_of)
    logos = fl.logo_retention(revenue, as_of=as_of)
    assert nrr == pytest.approx((180 + 50) / 300)          # d is not in last year's accounts
    assert grr == pytest.approx((100 + 50) / 300)          # a capped at its 100
    assert 1 - grr == pytest.approx(0.5)                   # revenue churn = 1 - GRR
    assert 1 - logos == pytest.approx(1 / 3)               # logo churn: c of a, b, c
    formulas = rate_glossary().set_index("Rate")["Formula"]
    assert formulas["Revenue churn"] == "Revenue churn = 1 - GRR"
    assert "min(MRR now, MRR 12 months ago)" in formulas["Gross revenue retention (GRR)"]
    score = fl.nps([10, 9, 8, 0]).score                    # 2 promoters, 1 detractor of 4
    assert score == pytest.approx(100 * (2 - 1) / 4)
    assert "100 x (promoters - detractors) / responses" in formulas["Net Promoter Score (NPS)"]
