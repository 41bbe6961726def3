"""Tests of the time-varying Cox model on the monthly panel (feedback_lib.churn.timevarying)."""

from __future__ import annotations

import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.churn.panel import monthly_panel
from feedback_lib.churn.timevarying import TimeVaryingChurnModel
from tests.conftest import hazard_ratio  # noqa: E402

AS_OF = "2026-09-30"  # the demo's last day




@pytest.fixture(scope="module")
def panel(demo) -> pd.DataFrame:
    return monthly_panel(demo, as_of=AS_OF)




@pytest.fixture(scope="module")
def tv(panel) -> TimeVaryingChurnModel:
    return TimeVaryingChurnModel().fit(panel)


@pytest.mark.parametrize(
    "covariate, truth_key",
    [("detractor", "detractor_hazard_ratio"), ("ticket_burst", "ticket_burst_hazard_ratio"),
     ("low_usage", "low_usage_hazard_ratio")],
)
def test_time_varying_model_recovers_planted_hazard_ratios(demo, tv, covariate, truth_key):
    hr, lo, hi = hazard_ratio(tv.summary, covariate)
    truth = demo.truth[truth_key]
    assert lo <= truth <= hi, f"{covariate}: HR {hr:.2f} (95% CI {lo:.2f}-{hi:.2f}) vs planted {truth}"


def test_time_varying_model_recovers_segment_base_hazards(demo, tv):
    base = demo.truth["base_monthly_hazard"]
    for col, seg in (("segment_smb", "SMB"), ("segment_mid_market", "Mid-Market")):
        truth = base[seg] / base["Enterprise"]  # 4 and 2: ratios of monthly hazards vs Enterprise
        hr, lo, hi = hazard_ratio(tv.summary, col)
        assert lo <= truth <= hi, f"{seg} vs Enterprise: HR {hr:.2f} ({lo:.2f}-{hi:.2f}) vs planted {truth}"


def test_time_varying_model_reports_sample_sizes(panel, tv):
    s = tv.summary
    assert s["covariate"].tolist() == ["detractor", "ticket_burst", "low_usage", "segment_mid_market", "segment_smb"]
    assert tv.events_ == int(panel["event"].sum()) and tv.rows_ == len(panel)
    assert tv.n_ == panel["account_id"].nunique() and tv.sample_fraction_ == 1.0
    assert (s["n"] == tv.n_).all() and (s["events"] == tv.events_).all()


def test_time_varying_model_names_the_reference_segment(panel, tv):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert tv.segments_ == ["Enterprise", "Mid-Market", "SMB"]
    smb_ref = TimeVaryingChurnModel(reference_segment="SMB").fit(panel)
    assert smb_ref.segments_ == ["SMB", "Enterprise", "Mid-Market"]
    fig, ax = plt.subplots()
    smb_ref.plot_forest(ax=ax)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)
    assert labels[-2:] == ["Segment: Enterprise (vs SMB)", "Segment: Mid-Market (vs SMB)"]
    # Enterprise churns at a quarter of SMB's planted base hazard: the flipped reference shows it
    hr = smb_ref.summary.set_index("covariate").loc["segment_enterprise", "hazard_ratio"]
    assert hr < 0.5
    # no segment dummies: nothing to compare with
    assert TimeVaryingChurnModel(covariates=["detractor", "low_usage"]).fit(panel).segments_ == []


def test_time_varying_model_samples_whole_accounts_per_segment(panel):
    a = TimeVaryingChurnModel(max_accounts=600, seed=1).fit(panel)
    b = TimeVaryingChurnModel(max_accounts=600, seed=1).fit(panel)
    n_all = panel["account_id"].nunique()
    assert a.sample_fraction_ == pytest.approx(600 / n_all)
    assert abs(a.n_ - 600) <= 3  # rounding per segment
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_time_varying_model_errors(panel):
    with pytest.raises(fl.FeedbackLibError, match="lacks column"):
        TimeVaryingChurnModel().fit(panel.drop(columns="detractor"))
    with pytest.raises(fl.FeedbackLibError, match="never vary"):
        TimeVaryingChurnModel(covariates=["detractor", "segment_smb"]).fit(panel.assign(segment_smb=0))
    with pytest.raises(fl.ParameterError, match="reference_segment"):
        TimeVaryingChurnModel(reference_segment="Galactic").fit(panel)
    with pytest.raises(fl.FeedbackLibError, match="not fitted"):
        TimeVaryingChurnModel().summary
