"""Tests of feedback_lib.verbatims.drivers: Shapley R^2 decomposition and key driver analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedback_lib.errors import FeedbackLibError
from feedback_lib.verbatims.drivers import key_drivers, shapley_r2


def test_shapley_r2_orthogonal_design_splits_by_own_contribution():
    # balanced 2 x 2 design, y = 2 x1 + x2 exactly: var(2 x1) = 1, var(x2) = 0.25 -> 0.8 and 0.2
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5, dtype=float)
    y = 2 * x[:, 0] + x[:, 1]
    assert shapley_r2(x, y, [[0], [1]]) == pytest.approx([0.8, 0.2])


def test_shapley_r2_duplicate_drivers_share_equally_and_groups_sum_to_r2():
    rng = np.random.default_rng(5)
    a = rng.normal(size=300)
    x = np.column_stack([a, a, rng.normal(size=300), rng.normal(size=300)])
    y = a + 0.5 * x[:, 2] + rng.normal(size=300)
    phi = shapley_r2(x, y, [[0], [1], [2, 3]])
    assert phi[0] == pytest.approx(phi[1])  # identical drivers: identical shares
    xc = np.column_stack([np.ones(300), x[:, [0, 2, 3]]])
    resid = y - xc @ np.linalg.lstsq(xc, y, rcond=None)[0]
    r2 = 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))
    assert phi.sum() == pytest.approx(r2)  # efficiency: the shares add up to the full R^2


def planted_survey(n: int = 1500, seed: int = 2):
    """Scores with planted effects: performance -2, pricing -1, onboarding 0, Enterprise -0.5."""
    rng = np.random.default_rng(seed)
    perf, price, onboard = (rng.random(n) < p for p in (0.3, 0.4, 0.2))
    enterprise = rng.random(n) < 0.3
    score = 8 - 2 * perf - 1 * price - 0.5 * enterprise + rng.normal(0, 1.2, n)
    ids = [f"r{i}" for i in range(n)]
    responses = pd.DataFrame({"response_id": ids, "account_id": [f"a{i}" for i in range(n)],
                              "score": score, "comment": np.where(rng.random(n) < 0.9, "kommentti", "")})
    accounts = pd.DataFrame({"account_id": responses["account_id"],
                             "segment": np.where(enterprise, "Enterprise", "SMB")})
    tagged = pd.concat([pd.DataFrame({"response_id": np.asarray(ids)[m], "theme": t})
                        for t, m in (("performance", perf), ("pricing", price), ("onboarding", onboard))])
    return responses, accounts, tagged


def test_key_drivers_recovers_planted_effects_and_ranks_them():
    responses, accounts, tagged = planted_survey()
    kd = key_drivers(responses, tagged=tagged, accounts=accounts, attributes=("segment",))
    assert kd.n == (responses["comment"] != "").sum()
    coef = kd.coefficients.set_index("term")
    for term, planted in (("performance", -2.0), ("pricing", -1.0), ("onboarding", 0.0),
                          ("segment=Enterprise", -0.5)):
        assert coef.loc[term, "ci_low"] <= planted <= coef.loc[term, "ci_high"], term
    imp = kd.importance.set_index("driver")
    assert imp["shapley_r2"].sum() == pytest.approx(kd.r_squared)
    assert kd.importance["driver"].tolist()[:2] == ["performance", "pricing"]
    assert imp.loc["performance", "verdict"] == "be great"
    assert imp.loc["onboarding", "verdict"] == "good enough"
    assert "Be great at: performance" in kd.summary and "not causes" in kd.summary
    assert kd.to_frame() is kd.importance


def test_key_drivers_errors():
    responses, accounts, tagged = planted_survey(200)
    with pytest.raises(FeedbackLibError, match="attribute 'plan'"):
        key_drivers(responses, tagged=tagged, accounts=accounts, attributes=("plan",))
    with pytest.raises(FeedbackLibError, match="no theme has"):
        key_drivers(responses, tagged=tagged.iloc[:0], attributes=())


def test_demo_planted_segment_shift_recovered():
    """The demo shifts the mean score by segment: SMB +0.2, Mid-Market 0.0, Enterprise -0.3, so
    Enterprise - SMB = -0.5; its themes are drawn independently of the score."""
    from feedback_lib.demo.company import generate_demo
    from feedback_lib.verbatims.themes import tag_themes

    demo = generate_demo(seed=42, n_accounts=2000, start="2023-10-01", end="2026-09-30")
    kd = key_drivers(demo.responses, tagged=tag_themes(demo.responses), accounts=demo.accounts,
                     attributes=("segment",), commented_only=False)
    ent = kd.coefficients.set_index("term").loc["segment=Enterprise"]
    assert ent["ci_low"] <= -0.5 <= ent["ci_high"]
    assert "comment_left" in set(kd.importance["driver"])
