"""Tests of feedback_lib.survey.periods: the NPS table by period/group and the control chart."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_lib.errors import ParameterError, SchemaError, SmallSampleWarning
from feedback_lib.survey.periods import TABLE_COLUMNS, nps_control_chart, nps_table
from feedback_lib.survey.score import nps, nps_change


def responses(rows: list[tuple[str, int, int, int]], **extra) -> pd.DataFrame:
    """(date, promoters, passives, detractors) per row -> canonical response rows."""
    dates, scores = [], []
    for date, p, q, d in rows:
        dates += [date] * (p + q + d)
        scores += [10] * p + [8] * q + [2] * d
    frame = pd.DataFrame({"responded_at": pd.to_datetime(dates),
                          "score": pd.array(scores, dtype="Int64")})
    return frame.assign(**{k: v for k, v in extra.items()})


def two_segments() -> pd.DataFrame:
    smb = responses([("2025-06-02", 50, 30, 20), ("2025-06-12", 42, 33, 25)]).assign(segment="SMB")
    ent = responses([("2025-06-04", 20, 15, 5), ("2025-06-15", 25, 10, 5)]).assign(segment="Ent")
    return pd.concat([smb, ent], ignore_index=True)


def test_table_by_segment_matches_scalar_functions():
    with pytest.warns(SmallSampleWarning):  # min_n = 41 marks the two Ent rows (n 40) small
        strict = nps_table(two_segments(), by="segment", min_n=41)
    t = nps_table(two_segments(), by=["segment"])
    assert list(t.columns) == ["period", "segment", *TABLE_COLUMNS[1:]]
    assert t["period"].tolist() == list(pd.to_datetime(["2025-06-02"] * 2 + ["2025-06-09"] * 2))
    assert t["segment"].tolist() == ["Ent", "SMB", "Ent", "SMB"]
    # Ent week 1: (20 - 5) / 40 = 37.5; SMB week 1: 30; Ent week 2: (25 - 5) / 40 = 50; SMB 17
    assert t["nps"].tolist() == [37.5, 30.0, 50.0, 17.0]
    assert t["n"].tolist() == [40, 100, 40, 100]
    assert t["promoters"].tolist() == [20, 50, 25, 42]
    smb_w2 = t.iloc[3]
    scalar = nps([10] * 42 + [8] * 33 + [2] * 25)
    assert (smb_w2["ci_low"], smb_w2["ci_high"], smb_w2["std_error"]) == pytest.approx(
        (scalar.ci_low, scalar.ci_high, scalar.std_error))
    # change vs the previous week of the same segment: SMB 17 - 30 = -13, p = 0.245 (weekly example)
    assert smb_w2["change"] == pytest.approx(-13.0)
    assert smb_w2["change_p_value"] == pytest.approx(0.2451, abs=1e-4)
    ent_change = nps_change([10] * 20 + [8] * 15 + [2] * 5, [10] * 25 + [8] * 10 + [2] * 5)
    assert t.iloc[2]["change"] == pytest.approx(12.5)
    assert t.iloc[2]["change_p_value"] == pytest.approx(ent_change.p_value)
    assert t["change"].iloc[:2].isna().all()
    assert not t["small_sample"].any()
    assert strict["small_sample"].tolist() == [True, False, True, False]


def test_weeks_start_monday_and_calendar_periods():
    # 2025-06-08 is a Sunday (week of Monday 06-02); 2025-06-09 a Monday
    frame = responses([("2025-06-08", 1, 0, 0), ("2025-06-09", 0, 0, 1), ("2025-07-01", 1, 0, 0)])
    with pytest.warns(SmallSampleWarning):
        weekly = nps_table(frame, freq="W")
        monthly = nps_table(frame, freq="M")
        quarterly = nps_table(frame, freq="Q")
        yearly = nps_table(frame, freq="Y")
    assert weekly["period"].dt.strftime("%Y-%m-%d").tolist() == ["2025-06-02", "2025-06-09",
                                                                 "2025-06-30"]
    assert (weekly["period"].dt.dayofweek == 0).all()
    assert monthly["period"].dt.strftime("%Y-%m-%d").tolist() == ["2025-06-01", "2025-07-01"]
    assert monthly["nps"].tolist() == [0.0, 100.0]
    assert quarterly["period"].dt.strftime("%Y-%m-%d").tolist() == ["2025-04-01", "2025-07-01"]
    assert yearly["period"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-01"]
    assert yearly["n"].tolist() == [3]
    # weeks 06-09 -> 06-30 are not consecutive: no change; months June -> July are
    assert weekly["change"].isna().tolist() == [True, False, True]
    assert monthly["change"].tolist()[1] == 100.0


def test_small_sample_warns_once():
    frame = responses([(f"2025-06-{d:02d}", 3, 2, 1) for d in (2, 9, 16)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = nps_table(frame)
    small = [w for w in caught if issubclass(w.category, SmallSampleWarning)]
    assert len(small) == 1 and "3 of 3 NPS rows" in str(small[0].message)
    assert t["small_sample"].all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not nps_table(frame, min_n=6)["small_sample"].any()


def test_missing_group_values_form_a_group():
    frame = responses([("2025-06-02", 30, 10, 10), ("2025-06-03", 20, 10, 10)])
    frame["region"] = pd.array(["EMEA"] * 50 + [None] * 40, dtype="string")
    t = nps_table(frame, by="region")
    assert t["region"].isna().tolist() == [False, True]
    assert t["nps"].tolist() == [40.0, 25.0]  # (30 - 10) / 50; (20 - 10) / 40


def test_weighted_table_matches_nps():
    frame = responses([("2025-06-02", 20, 10, 10)])
    frame["mrr"] = np.linspace(100, 500, len(frame))
    t = nps_table(frame, weight="mrr")
    scalar = nps(frame["score"], weights=frame["mrr"])
    row = t.iloc[0]
    assert row["nps"] == pytest.approx(scalar.score)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((scalar.ci_low, scalar.ci_high))
    assert row["n"] == pytest.approx(frame["mrr"].sum())
    assert row["n_responses"] == 40
    assert row["n_effective"] == pytest.approx(scalar.n_effective)
    with pytest.raises(ParameterError, match="bootstrap"):
        nps_table(frame, weight="mrr", method="bootstrap")


def test_bootstrap_table():
    frame = responses([("2025-06-02", 200, 120, 80), ("2025-06-09", 100, 60, 40)])
    t = nps_table(frame, method="bootstrap")
    assert t.equals(nps_table(frame, method="bootstrap"))
    # Wald SEs: sqrt(0.61 / 400) = 3.905 and sqrt(0.61 / 200) = 5.523 points
    assert t["std_error"].tolist() == pytest.approx([3.905, 5.523], abs=0.4)
    assert (t["ci_low"] < t["nps"]).all() and (t["nps"] < t["ci_high"]).all()


def test_empty_and_invalid_input():
    empty = responses([])
    t = nps_table(empty, by=[])
    assert t.empty and list(t.columns) == TABLE_COLUMNS
    bad = responses([("2025-06-02", 40, 0, 0)])
    bad.loc[5, "score"] = 11
    with pytest.raises(SchemaError, match=r"responses: column 'score': 1 value outside 0-10 \(row 6"):
        nps_table(bad)
    with pytest.raises(ParameterError, match="freq"):
        nps_table(responses([("2025-06-02", 40, 0, 0)]), freq="D")
    with pytest.raises(SchemaError, match="missing column.*'segment'"):
        nps_table(responses([("2025-06-02", 40, 0, 0)]), by="segment")
    no_date = responses([("2025-06-02", 40, 0, 0)])
    no_date.loc[0, "responded_at"] = pd.NaT
    with pytest.raises(SchemaError, match=r"1 missing dates \(rows 1"):
        nps_table(no_date)
    with pytest.raises(SchemaError, match="datetime64"):
        nps_table(no_date.assign(responded_at="2025-06-02"))
    with pytest.raises(ParameterError, match="clash"):
        nps_table(no_date.assign(nps=1), by="nps")


@settings(max_examples=15, deadline=None)
@given(scores=st.lists(st.integers(0, 10), min_size=1, max_size=120), seed=st.integers(0, 1000))
def test_table_ignores_row_order(scores, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "responded_at": pd.Timestamp("2025-01-06") + pd.to_timedelta(
            rng.integers(0, 60, len(scores)), "D"),
        "score": scores, "segment": rng.choice(["A", "B"], len(scores))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        a = nps_table(frame, by="segment")
        b = nps_table(frame.sample(frac=1, random_state=seed), by="segment")
    pd.testing.assert_frame_equal(a, b)
    assert (a["n"].sum()) == len(scores)
    assert ((a["ci_low"] >= -100) & (a["ci_low"] <= a["ci_high"]) & (a["ci_high"] <= 100)).all()


# --- control chart ----------------------------------------------------------------------------


def noisy_weeks(n_weeks: int, *, seed: int, size: int = 300, shifted: int | None = None):
    """Weekly responses from a stable 50/30/20 mix; ``shifted`` week drawn from 25/30/45."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(size // 2, size * 2, n_weeks)
    frames = []
    for week, n in enumerate(sizes):
        mix = [0.25, 0.30, 0.45] if week == shifted else [0.50, 0.30, 0.20]
        scores = rng.choice([10, 8, 2], size=n, p=mix)
        frames.append(pd.DataFrame({
            "responded_at": pd.Timestamp("2025-01-06") + pd.Timedelta(days=7 * week)
            + pd.to_timedelta(rng.integers(0, 7, n), "D"),
            "score": scores}))
    return pd.concat(frames, ignore_index=True)


def test_control_chart_flags_only_the_planted_shift():
    chart = nps_control_chart(noisy_weeks(40, seed=7, shifted=25))
    assert len(chart) == 40
    assert chart.loc[chart["flagged"], "period"].tolist() == [pd.Timestamp("2025-01-06")
                                                             + pd.Timedelta(weeks=25)]
    assert chart["centre"].iloc[:13].isna().all() and chart["centre"].iloc[13:].notna().all()
    # the centre sits near the true NPS 30 and the shifted week (true NPS -20) is far below it
    assert chart["centre"].iloc[13:].between(24, 36).all()
    assert chart.loc[25, "nps"] < chart.loc[25, "lower_limit"]


def test_control_chart_limits_by_hand():
    # four weeks of 50/30/20 out of 100, then a week of 25 responses
    frame = responses([("2025-01-06", 50, 30, 20), ("2025-01-13", 50, 30, 20),
                       ("2025-01-20", 50, 30, 20), ("2025-01-27", 50, 30, 20),
                       ("2025-02-03", 10, 10, 5), ("2025-02-10", 50, 30, 20)])
    chart = nps_control_chart(frame, baseline_periods=4)
    week5, week6 = chart.iloc[4], chart.iloc[5]
    # baseline: 200 P, 80 D of 400 -> centre 30, Var 0.61; week 5 has n = 25:
    # SE = sqrt(0.61 / 25) = 0.156205 -> 15.62 points; limits 30 -+ 3 * 15.62 = [-16.86, 76.86]
    assert week5["centre"] == pytest.approx(30.0)
    assert week5["std_error"] == pytest.approx(15.6205, abs=1e-3)
    assert (week5["lower_limit"], week5["upper_limit"]) == pytest.approx((-16.862, 76.862), abs=1e-3)
    assert week5["nps"] == 20.0 and not week5["flagged"]
    # week 6's baseline (weeks 2-5): P 160, D 65, n 325 -> centre 100 * 95 / 325 = 29.23;
    # n 100 -> narrower limits than week 5
    assert week6["centre"] == pytest.approx(100 * 95 / 325)
    assert week6["baseline_n"] == 325
    assert (week6["upper_limit"] - week6["lower_limit"]) < (week5["upper_limit"] - week5["lower_limit"])


def test_control_chart_gaps_sigma_and_errors():
    # a gap week counts as a calendar period with no responses in the baseline
    frame = responses([("2025-01-06", 50, 30, 20), ("2025-01-20", 10, 0, 90)])
    chart = nps_control_chart(frame, baseline_periods=2)
    assert chart["period"].tolist() == list(pd.to_datetime(["2025-01-06", "2025-01-20"]))
    assert chart["baseline_n"].tolist()[1] == 100 and bool(chart["flagged"].iloc[1])
    wide = nps_control_chart(frame, baseline_periods=2, sigma=30)
    assert not wide["flagged"].any()
    assert nps_control_chart(responses([])).empty
    with pytest.raises(ParameterError, match="sigma"):
        nps_control_chart(frame, sigma=0)
    with pytest.raises(ParameterError, match="baseline_periods"):
        nps_control_chart(frame, baseline_periods=0)


def test_canonical_dtypes(tiny):
    # conftest's tiny company: week of 2024-06-03 has scores 6, 3, 10 -> (1 - 2) / 3 = -33.3
    with pytest.warns(SmallSampleWarning):
        t = nps_table(tiny.responses.merge(tiny.accounts[["account_id", "segment"]]), by="segment")
        overall = nps_table(tiny.responses, freq="M")
    assert overall["nps"].tolist() == pytest.approx([-100 / 3])
    assert overall["period"].tolist() == [pd.Timestamp("2024-06-01")]
    assert t["segment"].tolist() == ["Enterprise", "Mid-Market", "SMB"]
    assert t["nps"].tolist() == [-100.0, 100.0, -100.0]


def test_control_chart_sustained_shift_and_baseline_exclusion():
    # weeks 0-3 at 50/30/20 (NPS 30), weeks 4-8 at 20/30/50 (NPS -30); n 100 each; baseline 2.
    # week 4: baseline weeks 2-3 -> centre 30, SE sqrt(0.61/100) = 7.81, limits 30 -+ 23.4: flagged
    # week 5: baseline weeks 3-4 minus flagged 4 -> week 3 only (n 100), centre 30: flagged
    # week 6: weeks 4-5 both flagged -> empty baseline, no limits; week 7: week 6 only, centre -30
    weeks = [(str((pd.Timestamp("2025-01-06") + pd.Timedelta(weeks=i)).date()),
              *((50, 30, 20) if i < 4 else (20, 30, 50))) for i in range(9)]
    chart = nps_control_chart(responses(weeks), baseline_periods=2)
    assert chart["flagged"].tolist() == [False] * 4 + [True, True] + [False] * 3
    assert chart["baseline_n"].tolist()[2:] == [200, 200, 200, 100, 0, 100, 200]
    assert chart["centre"].tolist()[2:6] == pytest.approx([30.0] * 4)
    assert np.isnan(chart["centre"].iloc[6])
    assert chart["centre"].tolist()[7:] == pytest.approx([-30.0, -30.0])
    assert chart.loc[4, "lower_limit"] == pytest.approx(30 - 3 * 100 * np.sqrt(0.61 / 100))


def test_a_few_responses_years_apart_without_groups():
    """Sparse periods and no grouping column: the cell numbering once multiplied a missing group
    (TypeError); each response is its own week, weighted or not."""
    r = pd.DataFrame({"responded_at": pd.to_datetime(["2000-01-03", "2026-01-05"]), "score": [10, 0],
                      "w": [1.0, 2.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        table = nps_table(r, freq="W", min_n=1)
        weighted = nps_table(r, freq="W", weight="w", min_n=1)
    assert table["period"].dt.strftime("%Y-%m-%d").tolist() == ["2000-01-03", "2026-01-05"]
    assert table["nps"].tolist() == [100.0, -100.0]
    assert weighted["n"].tolist() == [1.0, 2.0] and weighted["n_effective"].tolist() == [1.0, 1.0]
