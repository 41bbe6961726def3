"""Tests of the generic Cox fit (feedback_lib.churn.cox.fit_cox) against R and by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.errors import InsufficientDataError, ParameterError, SchemaError
from tests.reference.cox import breslow_cox

COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    # Rossi, Berk & Lenihan (1980) recidivism data, 432 releasees followed 52 weeks, as in R
    # carData::Rossi and lifelines.datasets.load_rossi; copied to tests/reference/rossi.csv
    return pd.read_csv(Path(__file__).parent / "reference" / "rossi.csv")


def test_fit_cox_reproduces_r_coxph_on_rossi_efron(rossi):
    # R: coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = Rossi)
    # as printed in Fox & Weisberg, "Cox Proportional-Hazards Regression for Survival Data in R",
    # appendix to An R Companion to Applied Regression (cran.r-project.org/doc/contrib/Fox-Companion)
    r = {"fin": (-0.37942, 0.68426, 0.19138, 0.04742), "age": (-0.05744, 0.94418, 0.02200, 0.00903),
         "race": (0.31390, 1.36875, 0.30799, 0.30812), "wexp": (-0.14980, 0.86088, 0.21222, 0.48029),
         "mar": (-0.43370, 0.64810, 0.38187, 0.25606), "paro": (-0.08487, 0.91863, 0.19576, 0.66461),
         "prio": (0.09150, 1.09581, 0.02865, 0.00140)}
    res = fl.fit_cox(rossi, duration_col="week", event_col="arrest", covariates=COVARIATES)
    assert list(res.summary.index) == COVARIATES and (res.n, res.events) == (432, 114)
    for name, (coef, hr, se, p) in r.items():
        row = res.summary.loc[name]
        assert row["coef"] == pytest.approx(coef, abs=5e-6), name
        assert row["hazard_ratio"] == pytest.approx(hr, abs=5e-6), name
        assert row["se"] == pytest.approx(se, abs=5e-6), name
        assert row["p"] == pytest.approx(p, abs=5e-6), name
    # "Concordance= 0.64 (se = 0.027)"; "Likelihood ratio test=33.27 on 7 df"
    assert round(res.concordance, 2) == 0.64
    assert res.model.log_likelihood_ratio_test().test_statistic == pytest.approx(33.27, abs=5e-3)
    # the interval is exp(coef -+ 1.96 se)
    fin = res.summary.loc["fin"]
    assert fin["ci_low"] == pytest.approx(math.exp(-0.37942 - 1.959964 * 0.19138), rel=1e-4)


def test_fit_cox_breslow_matches_a_plain_newton_raphson_on_rossi(rossi):
    coef, se = breslow_cox(rossi["week"], rossi["arrest"], rossi[COVARIATES])
    res = fl.fit_cox(rossi, duration_col="week", event_col="arrest", covariates=COVARIATES, ties="breslow")
    np.testing.assert_allclose(res.summary["coef"], coef, atol=1e-7)
    np.testing.assert_allclose(res.summary["se"], se, atol=1e-7)
    # a third implementation agrees: surpyval's test suite (test_breslow_betas_rossi) pins the
    # Breslow coefficients of the same model (R's printed coxph(ties = "breslow") output for Rossi
    # was not found in a published source)
    surpyval = [-0.37902189, -0.05724593, 0.31412977, -0.15111460, -0.43278257, -0.08498284, 0.09111154]
    np.testing.assert_allclose(res.summary["coef"], surpyval, atol=1e-6)
    # Breslow and Efron differ on Rossi's tied weeks, in the 3rd-4th digit (prio 0.09111 vs 0.09150)
    efron = fl.fit_cox(rossi, duration_col="week", event_col="arrest", covariates=COVARIATES, ph_test=False)
    assert res.summary.at["prio", "coef"] == pytest.approx(0.09111, abs=5e-6)
    assert abs(res.summary.at["prio", "coef"] - efron.summary.at["prio", "coef"]) > 1e-4


def test_fit_cox_breslow_by_hand():
    # events at t=1 (x=1 and x=0, all four at risk) and t=2 (x=1; risk set x=1, x=0):
    # log L = 2b - 3 log(1 + e^b) + const, so e^b / (1 + e^b) = 2/3, b = log 2, and the
    # information 3 (2/3)(1/3) = 2/3 gives se = sqrt(1.5)
    df = pd.DataFrame({"t": [1, 1, 2, 3], "e": [1, 1, 1, 0], "x": [1.0, 0.0, 1.0, 0.0]})
    for ties in ("breslow", "efron"):  # Efron's correction is a constant factor here
        row = fl.fit_cox(df, duration_col="t", event_col="e", ties=ties, ph_test=False).summary.loc["x"]
        assert row["coef"] == pytest.approx(math.log(2), abs=1e-5), ties
        assert row["se"] == pytest.approx(math.sqrt(1.5), abs=1e-5), ties


def _simulated(n=400, seed=1, ties=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    t = rng.exponential(np.exp(-x @ [0.5, -0.3]))
    c = rng.exponential(2, n)
    dur = np.minimum(t, c)
    if ties:
        dur = np.ceil(dur * 4)
    return pd.DataFrame({"t": dur, "e": (t < c).astype(int), "a": x[:, 0], "b": x[:, 1],
                         "site": rng.choice(["north", "south"], n)})


def test_fit_cox_ties_agree_without_ties_also_robust_and_stratified():
    df = _simulated()
    for kw in ({}, {"robust": True}, {"strata": "site"}):
        e = fl.fit_cox(df, duration_col="t", event_col="e", covariates=["a", "b"], ph_test=False, **kw)
        b = fl.fit_cox(df, duration_col="t", event_col="e", covariates=["a", "b"], ties="breslow", ph_test=False, **kw)
        np.testing.assert_allclose(e.summary[["coef", "se"]], b.summary[["coef", "se"]], rtol=1e-5)
        assert e.concordance == pytest.approx(b.concordance, abs=1e-9)
    # planted effects are recovered; the robust standard errors differ from the model-based ones
    plain = fl.fit_cox(df, duration_col="t", event_col="e", covariates=["a", "b"], ph_test=False)
    robust = fl.fit_cox(df, duration_col="t", event_col="e", covariates=["a", "b"], robust=True, ph_test=False)
    assert plain.summary.at["a", "ci_low"] < math.exp(0.5) < plain.summary.at["a", "ci_high"]
    assert not np.allclose(plain.summary["se"], robust.summary["se"])


def test_fit_cox_proportional_hazards_test_flags_a_planted_time_varying_effect():
    rng = np.random.default_rng(7)
    n = 1500
    ph, flip = rng.integers(0, 2, n), rng.integers(0, 2, n)
    # 'flip' triples the hazard before t = 1 and thirds it afterwards; 'ph' doubles it throughout
    t0 = rng.exponential(1 / (np.exp(np.log(2) * ph + np.log(3) * flip)))
    late = t0 > 1
    t = np.where(late, 1 + rng.exponential(1 / (np.exp(np.log(2) * ph - np.log(3) * flip))), t0)
    df = pd.DataFrame({"t": np.minimum(t, 4), "e": (t < 4).astype(int), "ph": ph, "flip": flip})
    test = fl.fit_cox(df, duration_col="t", event_col="e").proportional_hazards.set_index("covariate")
    assert test.at["flip", "p_value"] < 1e-4
    assert test.at["ph", "p_value"] > 0.01


def test_fit_cox_defaults_and_errors():
    df = _simulated()
    res = fl.fit_cox(df.drop(columns="site"), duration_col="t", event_col="e")
    assert list(res.summary.index) == ["a", "b"] and "ph_p_value" in res.to_frame().columns
    with pytest.raises(SchemaError, match="'site' is not numeric"):
        fl.fit_cox(df, duration_col="t", event_col="e")
    with pytest.raises(SchemaError, match=r"'a' has 1 missing values \(rows \[3\]\)"):
        fl.fit_cox(df.assign(a=df["a"].where(df.index != 2)), duration_col="t", event_col="e", covariates=["a"])
    with pytest.raises(SchemaError, match="must be >= 0"):
        fl.fit_cox(df.assign(t=-df["t"]), duration_col="t", event_col="e", covariates=["a"])
    with pytest.raises(ParameterError, match="ties"):
        fl.fit_cox(df, duration_col="t", event_col="e", covariates=["a"], ties="exact")
    with pytest.raises(InsufficientDataError, match="no events"):
        fl.fit_cox(df.assign(e=0), duration_col="t", event_col="e", covariates=["a"])
