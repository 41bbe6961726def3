"""Tests of feedback_lib.reporting.weekly: every section has a defined result for every week.

The section builders are called in-process for each of the demo's last 52 weeks and for a
30-account company (where empty weeks happen); real notebook runs are in
``tests/test_report_notebooks.py`` and, for a quiet week and the tiny company, at the end here
(marked slow).
"""

from __future__ import annotations

import json
import math
import warnings

import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.errors import ParameterError
from feedback_lib.reporting import weekly as wk
from feedback_lib.reporting.context import load_report_data, report_context
from feedback_lib.reporting.metrics_schema import validate_metrics

LAST_WEEK = pd.Timestamp("2026-09-27")  # a Sunday: the demo ends 2026-09-30
FAST = (wk.nps_section, wk.segments_section, wk.callback_section, wk.problems_section,
        wk.persistent_section, wk.loop_section, wk.conversations_section)
SLOW = (wk.calls_section, wk.at_risk_section)  # a health score and call briefs, a churn fit


def _sections(data, as_of, *, slow: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [f(data, as_of=as_of) for f in FAST + (SLOW if slow else ())]


def _checked(sections, as_of) -> dict:
    metrics = json.loads(json.dumps(wk.weekly_metrics(sections, period="2026-W01", as_of=as_of, segment=""),
                                    allow_nan=False, default=str))
    for s in sections:
        assert s.sentence and "nan" not in s.sentence.lower() and "±" not in s.sentence
    return metrics


def _sliced(data, as_of):
    """The dataset as load_report_data gives it on ``as_of`` (later rows dropped)."""
    import dataclasses

    from feedback_lib.reporting.context import _EVENT_DATES

    return dataclasses.replace(data, **{t: getattr(data, t)[getattr(data, t)[c] <= as_of].reset_index(drop=True)
                                        for t, c in _EVENT_DATES.items()})


@pytest.fixture(scope="module")
def demo_data():
    ctx = report_context("weekly", as_of="2026-09-30", output_dir="")
    return load_report_data(ctx)


@pytest.fixture(scope="module")
def tiny():
    data = fl.generate_demo(seed=3, n_accounts=30, start="2025-10-01", end="2026-09-30")
    segments = data.accounts.set_index("account_id")["segment"]
    return data.__class__(**{**{f: getattr(data, f) for f in data.__dataclass_fields__},
                             "responses": data.responses.assign(segment=data.responses["account_id"].map(segments)),
                             "conversations": data.conversations.assign(
                                 segment=data.conversations["account_id"].map(segments))})


def test_every_week_of_the_last_year_has_defined_sections(demo_data):
    significant = 0
    for k in range(52):
        as_of = LAST_WEEK - pd.Timedelta(weeks=k)
        data = _sliced(demo_data, as_of)
        metrics = _checked(_sections(data, as_of, slow=k % 13 == 0), as_of)
        change, week, last = (metrics["nps_change_vs_last_week"], metrics["nps_week"], metrics["nps_last_week"])
        if min(week["n"], last["n"]) < fl.survey.score.MIN_N_COMPARE:
            assert change["significant"] is False
        significant += change["significant"]
        if k % 13 == 0:
            metrics.update(report="weekly", period="2026-W01", as_of=f"{as_of:%Y-%m-%d}")
            validate_metrics("weekly", metrics)
    assert significant <= 8  # no planted weekly shifts: at most a few false alarms in 52 weeks


def test_a_tiny_company_gives_readable_empty_sections(tiny):
    seen = set()
    for k in range(52):
        as_of = LAST_WEEK - pd.Timedelta(weeks=k)
        sections = _sections(_sliced(tiny, as_of), as_of, slow=k in (0, 26))
        metrics = _checked(sections, as_of)
        assert metrics["nps_change_vs_last_week"]["significant"] is False  # never 10 responses a week
        seen |= {s.sentence.split(",")[0] for s in sections}
    assert "No responses this week" in " ".join(seen)
    assert any(s.startswith("No respondent scored below 9 this week") for s in seen)
    assert any(s.startswith("No comments this week") for s in seen)


def test_quiet_week_sentences_and_metrics():
    empty = fl.generate_demo(seed=1, n_accounts=30, start="2025-10-01", end="2026-09-30")
    responses = empty.responses[empty.responses["responded_at"] < "2026-09-01"]
    data = empty.__class__(**{**{f: getattr(empty, f) for f in empty.__dataclass_fields__}, "responses": responses})
    as_of = pd.Timestamp("2026-09-27")
    nps = wk.nps_section(data, as_of=as_of)
    assert nps.sentence == "No responses this week, so there is no NPS to report."
    assert nps.metrics()["nps_week"] == {"score": None, "ci_low": None, "ci_high": None, "n": 0}
    assert wk.callback_section(data, as_of=as_of).sentence.startswith("No respondent scored below 9 this week")
    assert wk.problems_section(data, as_of=as_of).sentence == "No comments this week, so there are no problems to report."
    assert "no followups table" in wk.loop_section(data, as_of=as_of).sentence


def test_too_few_responses_to_compare_is_said_and_not_significant(demo_data):
    enterprise = demo_data.accounts.loc[demo_data.accounts["segment"] == "Enterprise", "account_id"]
    data = demo_data.__class__(**{**{f: getattr(demo_data, f) for f in demo_data.__dataclass_fields__},
                                  "responses": demo_data.responses[demo_data.responses["account_id"].isin(enterprise)]})
    section = wk.nps_section(data, as_of=LAST_WEEK)
    m = section.metrics()
    assert min(m["nps_week"]["n"], m["nps_last_week"]["n"]) < 10
    assert "too few responses to compare" in section.sentence and m["nps_change_vs_last_week"]["significant"] is False
    assert " to " in section.sentence and "±" not in section.sentence


def test_interval_text_and_date_range(demo_data):
    assert wk.interval_text(7.2, 65.4) == "+7 to +65"
    assert wk.interval_text(math.nan, 1) == "not defined"
    first, last = wk.data_date_range(demo_data)
    assert first <= pd.Timestamp("2023-11-01") and last == pd.Timestamp("2026-09-30")
    with pytest.raises(ParameterError, match="outside the data's date range 20"):
        wk.check_as_of(demo_data, "2022-01-28")
    assert wk.check_as_of(demo_data, "2026-09-27") == LAST_WEEK


def test_schema_rejects_a_significant_flag_that_is_not_boolean():
    from feedback_lib.errors import ReportError

    with pytest.raises(ReportError, match="significant"):
        validate_metrics("weekly", {"report": "weekly", "period": "2026-W39", "as_of": "2026-09-27", "segment": "",
                                    "nps_week": {"score": 1, "ci_low": 0, "ci_high": 2, "n": 3},
                                    "nps_last_week": {"score": None, "n": 0},
                                    "nps_change_vs_last_week": {"difference": None, "p_value": None,
                                                                "significant": "no"},
                                    "callback_loop": {"available": False, "queue_responses": 0},
                                    "outreach_list": []})


@pytest.mark.slow
@pytest.mark.parametrize(("accounts", "as_of"), [(30, "2026-09-27"), (2000, "2024-01-28")])
def test_notebook_runs_for_a_tiny_company_and_a_quiet_week(tmp_path, accounts, as_of):
    from feedback_lib.reporting import run_report

    data = fl.generate_demo(seed=42, n_accounts=accounts, start="2023-10-01", end="2026-09-30")
    fl.save_dataset(data, tmp_path / "demo")
    folder = run_report("weekly", as_of=as_of, source=tmp_path / "demo", out=tmp_path / "out", progress=False)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    validate_metrics("weekly", metrics)
    assert "±" not in (folder / "report.html").read_text(encoding="utf-8")


def test_at_risk_section_fits_once_and_scores_both_weeks_with_that_model(demo_data, monkeypatch):
    from feedback_lib.churn.model import ChurnModel
    from feedback_lib.reporting.sections import entered_list

    fits = []
    real_fit = ChurnModel.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(kwargs.get("as_of"))
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(ChurnModel, "fit", counting_fit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        section = wk.at_risk_section(demo_data, as_of=LAST_WEEK, top=25)
        assert len(fits) == 1
        model = real_fit(ChurnModel(), demo_data, as_of=LAST_WEEK)
        now = model.predict_at_risk(demo_data, as_of=LAST_WEEK)
        before = model.predict_at_risk(demo_data, as_of=LAST_WEEK - pd.Timedelta(days=7))
    expected = entered_list(now, before, top=25)
    assert section.metrics()["at_risk_entered"] == [str(a) for a in expected["account_id"]]
    top_now = set(now.nlargest(25, "mrr_at_risk")["account_id"])
    top_before = set(before.nlargest(25, "mrr_at_risk")["account_id"])
    assert set(section.metrics()["at_risk_entered"]) == top_now - top_before
