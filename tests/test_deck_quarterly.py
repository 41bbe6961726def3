"""Quarterly deck slides: native chart data equal to the sections' metrics, titles with numbers."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from pptx import Presentation

import feedback_lib as fl
from feedback_lib.errors import ReportError
from feedback_lib.reporting import SlideDeck, read_deck, write_pdf, write_pptx
from feedback_lib.reporting.deck_quarterly import nps_segment_slide, quarterly_slides, untitled_takeaways


def section(metrics, takeaway="Method: as documented.", **extra):
    return SimpleNamespace(metrics=lambda: metrics, takeaway=takeaway, **extra)


def rate(v, n=400, lo=None, hi=None):
    return {"value": v, "n": n, "ci_low": v - 0.02 if lo is None else lo, "ci_high": v + 0.02 if hi is None else hi}


BRIDGE = {"opening_arr": 4_000_000.0, "new": 300_000.0, "expansion": 150_000.0, "reactivation": 20_000.0,
          "contraction": -60_000.0, "churn": -210_000.0, "closing_arr": 4_200_000.0}
SECTIONS = {
    "bridge": section({"bridge_quarter": BRIDGE, "quick_ratio": 1.7}),
    "retention": section({"nrr": rate(1.042), "grr": rate(0.905), "logo_retention": rate(0.889),
                          "nrr_year_earlier": rate(1.01), "grr_year_earlier": rate(0.9),
                          "logo_retention_year_earlier": rate(0.87)}),
    "callbacks": section({"available": True, "churn_followed_up": {"value": 0.10, "n": 40},
                          "churn_not_followed_up": {"value": 0.18, "n": 120},
                          "difference": {"value": -0.08, "n": 160, "ci_low": -0.19, "ci_high": 0.03}}),
    "capacity": section({"available": True, "csms_now": 6.0, "csms_needed": 8, "gap": 2.0,
                         "accounts_per_csm": {"SMB": 200, "Enterprise": 15},
                         "by_segment": [{"segment": "SMB", "csms_now": 4.0, "csms_needed": 5},
                                        {"segment": "Enterprise", "csms_now": 2.0, "csms_needed": 3}]}),
    "retention_value": fl.retention_scenario(4_200_000.0, churn=0.10, churn_change=-0.01, years=5),
}


@pytest.fixture(scope="module")
def slides():
    return quarterly_slides(SECTIONS, currency="EUR")


def test_bridge_waterfall_carries_the_bridge_in_order(slides):
    bridge = slides[0]
    assert bridge.chart["kind"] == "waterfall"
    assert bridge.chart["series"][0]["values"] == list(BRIDGE.values())
    assert bridge.title == "ARR grew 5.0% to EUR 4.2M; churn and contraction took EUR 270k"


def test_retention_bar_and_caption_carry_n_and_intervals(slides):
    ret = slides[1]
    assert ret.chart["series"][0]["values"] == [1.042, 0.905, 0.889]
    assert ret.chart["series"][1]["values"] == [1.01, 0.9, 0.87]
    assert "NRR 104.2% (102.2% to 106.2%, n = 400)" in ret.caption
    assert ret.title.startswith("NRR 104.2%, GRR 90.5%")


def test_every_title_has_its_number_and_money_its_currency(slides):
    assert untitled_takeaways(slides) == []
    assert [s.section for s in slides] == ["ARR bridge", "Retention", "Callbacks and churn", "CSM capacity",
                                           "Retention value"]
    assert slides[2].title == "Followed-up detractors churned 8 points less than the rest (-19 to +3 points); a comparison, not causal"
    assert slides[3].title == "8 CSMs needed against 6 today: 2 short"
    value = slides[4]
    assert value.title.startswith("1 point less churn adds EUR ")
    gains = SECTIONS["retention_value"].table.query("year > 0")["gain"]
    assert value.chart["series"][0]["values"] == pytest.approx(list(gains))
    assert value.chart["categories"][-1] == "Year 5"


def test_slides_render_natively_with_pages_numbered(slides, tmp_path):
    deck = SlideDeck("Quarterly strategy review", "2026-Q3", output_dir=tmp_path, currency="EUR")
    deck.add_slides(slides)
    spec = read_deck(deck.save())
    write_pptx(spec, tmp_path / "deck.pptx")
    write_pdf(spec, tmp_path / "deck.pdf")
    prs = Presentation(str(tmp_path / "deck.pptx"))
    charts = [sh.chart for s in list(prs.slides)[1:] for sh in s.shapes if sh.has_chart]
    assert len(charts) == len(slides)  # every one native, no picture
    assert list(charts[1].plots[0].series[0].values) == [1.042, 0.905, 0.889]


def test_unknown_section_key_is_refused():
    with pytest.raises(ReportError, match="unknown section keys \\['bridges'\\]"):
        quarterly_slides({"bridges": SECTIONS["bridge"]})


def test_nps_by_segment_has_a_company_line_and_segment_lines():
    periods = pd.to_datetime(["2026-04-01", "2026-07-01"])
    company = pd.DataFrame({"period": periods, "nps": [30.0, 34.0], "ci_low": [24.0, 28.0], "ci_high": [36.0, 40.0],
                            "n": [300, 320]})
    by = pd.DataFrame({"period": list(periods) * 2, "segment": ["SMB", "SMB", "Enterprise", "Enterprise"],
                       "nps": [25.0, 29.0, 50.0, float("nan")]})
    slide = nps_segment_slide(by, company)
    names = [s["name"] for s in slide.chart["series"]]
    assert names == ["Company", "Enterprise", "SMB"]
    assert slide.chart["series"][1]["values"] == [50.0, None]  # no answers: a gap, not NaN
    assert slide.chart["categories"] == ["2026Q2", "2026Q3"]
    assert slide.title == "NPS +34 this quarter (+28 to +40, n = 320)"


def test_kpis_carry_interval_and_n():
    from feedback_lib.reporting.deck_quarterly import quarterly_kpis

    kpis = quarterly_kpis(SECTIONS, currency="EUR", nps=fl.nps([10] * 6 + [8] * 2 + [3] * 2))
    by = {k.label: k for k in kpis}
    assert by["ARR"].value == "EUR 4.2M" and by["ARR"].detail == "+5.0% in the quarter"
    assert by["NRR"].value == "104.2%" and by["NRR"].detail == "102.2% to 106.2%, n = 400"
    assert by["NPS"].value == "+40" and by["NPS"].detail.endswith("n = 10")  # (6 - 2) / 10
