"""Board deck rendering: the PPTX and the PDF carry the same pages and titles."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from pptx import Presentation  # noqa: E402

from feedback_lib.errors import ReportError  # noqa: E402
from feedback_lib.reporting import Kpi, SlideDeck, read_deck, write_pdf, write_pptx  # noqa: E402


def pdf_page_count(path) -> int:
    """Page objects in a PDF (``/Type /Page``, not ``/Pages``); matplotlib writes them plainly."""
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", path.read_bytes()))


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deck")
    deck = SlideDeck("Quarterly strategy review", "2026-Q3 · data to 30 Sep 2026",
                     output_dir=folder)
    deck.add_kpis([Kpi("ARR", "€4.1M", "+3.2% in the quarter"), Kpi("NRR", "104%"),
                   Kpi("GRR", "91%"), Kpi("NPS", "+31", "±6 points")])
    for i, (section, title) in enumerate([("ARR bridge", "ARR grew 3% as expansion beat churn"),
                                          ("Retention", "NRR held above 100% all year")]):
        fig, ax = plt.subplots(figsize=(8, 4 + i))
        ax.plot([1, 2, 3], [3, 1, 2])
        deck.add_chart(fig, section=section, title=title, notes=f"Narrative {i}.")
        plt.close(fig)
    spec = read_deck(deck.save())
    write_pptx(spec, folder / "deck.pptx")
    write_pdf(spec, folder / "deck.pdf")
    return folder


def test_pptx_has_title_kpi_and_chart_slides_with_notes(deck):
    prs = Presentation(str(deck / "deck.pptx"))
    titles = [s.shapes.title.text for s in prs.slides]
    assert titles == ["Quarterly strategy review", "Headline numbers",
                      "ARR grew 3% as expansion beat churn", "NRR held above 100% all year"]
    assert [s.notes_slide.notes_text_frame.text for s in list(prs.slides)[2:]] == [
        "Narrative 0.", "Narrative 1."]
    kpi_text = " ".join(sh.text_frame.text for sh in prs.slides[1].shapes if sh.has_text_frame)
    assert "€4.1M" in kpi_text and "+3.2% in the quarter" in kpi_text
    assert sum(sh.shape_type == 13 for sh in prs.slides[2].shapes) == 1  # one picture
    assert abs(prs.slide_width / prs.slide_height - 16 / 9) < 0.01


def test_pdf_has_one_page_per_slide(deck):
    prs = Presentation(str(deck / "deck.pptx"))
    assert pdf_page_count(deck / "deck.pdf") == len(prs.slides) == 4


def test_pictures_fit_inside_the_slide(deck):
    prs = Presentation(str(deck / "deck.pptx"))
    for slide in list(prs.slides)[2:]:
        pic = next(sh for sh in slide.shapes if sh.shape_type == 13)
        assert pic.left >= 0 and pic.left + pic.width <= prs.slide_width
        assert pic.top + pic.height <= prs.slide_height


def test_deck_spec_naming_a_missing_image_is_refused(deck, tmp_path):
    text = (deck / "deck.json").read_text().replace("figures/02-retention.png", "figures/x.png")
    (tmp_path / "deck.json").write_text(text)
    (tmp_path / "figures").mkdir()
    for png in (deck / "figures").iterdir():
        (tmp_path / "figures" / png.name).write_bytes(png.read_bytes())
    with pytest.raises(ReportError, match="names a missing image figures/x.png"):
        read_deck(tmp_path / "deck.json")


# ---------------------------------------------------------------- native charts, pages, currency

from feedback_lib.reporting.deck import Slide  # noqa: E402
from feedback_lib.reporting.deck_charts import ChartData, TableData, waterfall_layers  # noqa: E402

BRIDGE = [4_000_000.0, 300_000.0, 150_000.0, 20_000.0, -60_000.0, -210_000.0, 4_200_000.0]


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    folder = tmp_path_factory.mktemp("native")
    deck = SlideDeck("Quarterly strategy review", "2026-Q3", output_dir=folder, currency="EUR",
                     data_window="subscriptions to 30 Sep 2026")
    deck.add_kpis([Kpi("NRR", "104.2%", "101.0% to 107.1%, n = 1,212")])
    deck.add_slide(Slide.native(ChartData(
        kind="waterfall", categories=["Opening", "New", "Expansion", "Reactivation", "Contraction", "Churn", "Closing"],
        series=[{"name": "ARR", "values": BRIDGE}], number_format='#,##0,"k"', y_title="ARR (EUR)"),
        section="ARR bridge", title="ARR grew 5.0% to 4.2M", notes="Bridge method."))
    deck.add_slide(Slide.native(ChartData(
        kind="line", categories=["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"],
        series=[{"name": "Company", "values": [31.0, 28.0, None, 35.0]},
                {"name": "SMB", "values": [20.0, 22.0, 25.0, 27.0]}], number_format="0"),
        section="NPS", title="NPS 35 (29 to 41, n = 380)", caption="n = 380 responses"))
    deck.add_slide(Slide.native(ChartData(
        kind="scatter", categories=[], series=[{"name": "Accounts", "x": [1.0, 2.0, 3.0], "values": [0.1, 0.3, 0.2]}],
        number_format="0%"), section="At risk", title="12 accounts above 30% churn risk"))
    deck.add_slide(Slide.tabular(TableData(columns=["Account", "ARR"], rows=[["Acme", "EUR 1.2M"]]),
                                 section="Focus", title="Top 5% = 41% of ARR"))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0.8])
    deck.add_chart(fig, section="Survival", title="Median lifetime 41 months")
    plt.close(fig)
    spec = read_deck(deck.save())
    write_pptx(spec, folder / "deck.pptx")
    write_pdf(spec, folder / "deck.pdf")
    return folder


def _values(chart, name):
    return [next(s for s in chart.plots[0].series if s.name == name).values]


def test_waterfall_is_a_native_stacked_bar_on_an_invisible_base(native):
    slide = Presentation(str(native / "deck.pptx")).slides[2]
    chart = next(sh for sh in slide.shapes if sh.has_chart).chart
    names = [s.name for s in chart.plots[0].series]
    assert names == ["base", "Total", "Increase", "Decrease"]
    base, up, down, total = (list(next(s for s in chart.plots[0].series if s.name == n).values)
                             for n in ("base", "Increase", "Decrease", "Total"))
    # opening 4.0M; +300k floats on 4.0M; churn -210k ends at 4.2M: 4.41M - 0.21M
    assert total == [4_000_000.0, 0, 0, 0, 0, 0, 4_200_000.0]
    assert up[1] == 300_000.0 and base[1] == 4_000_000.0
    assert down[5] == 210_000.0 and base[5] == pytest.approx(4_200_000.0)
    assert base[0] + total[0] + up[0] + down[0] == BRIDGE[0]
    assert chart.plots[0].series[0].format.fill.type == 5  # MSO_FILL.BACKGROUND: invisible
    assert not any(sh.shape_type == 13 for sh in slide.shapes)  # no picture


def test_line_and_scatter_are_native_with_their_values(native):
    slides = Presentation(str(native / "deck.pptx")).slides
    line = next(sh for sh in slides[3].shapes if sh.has_chart).chart
    assert [s.name for s in line.plots[0].series] == ["Company", "SMB"]
    assert list(line.plots[0].series[1].values) == [20.0, 22.0, 25.0, 27.0]
    assert list(line.plots[0].categories) == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    scatter = next(sh for sh in slides[4].shapes if sh.has_chart).chart
    assert list(scatter.plots[0].series[0].values) == [0.1, 0.3, 0.2]
    table = next(sh for sh in slides[5].shapes if sh.has_table).table
    assert table.cell(1, 1).text == "EUR 1.2M"
    assert sum(sh.shape_type == 13 for sh in slides[6].shapes) == 1  # the KM-style plot stays a picture


def test_page_numbers_run_1_to_n_on_every_page_with_the_currency(native):
    prs = Presentation(str(native / "deck.pptx"))
    n = len(prs.slides)
    footers = [next(sh.text_frame.text for sh in s.shapes if sh.name == "Page footer") for s in prs.slides]
    assert [f.rsplit("    ", 1)[1] for f in footers] == [f"{i} / {n}" for i in range(1, n + 1)]
    assert all("Amounts in EUR" in f for f in footers)
    assert pdf_page_count(native / "deck.pdf") == n == 7


def test_speaker_notes_carry_the_method_and_data_window(native):
    notes = [s.notes_slide.notes_text_frame.text for s in Presentation(str(native / "deck.pptx")).slides]
    assert all("Data window: subscriptions to 30 Sep 2026." in t for t in notes)
    assert notes[2].startswith("Bridge method.")


def test_waterfall_layers_by_hand():
    base, up, down, total = waterfall_layers([10.0, 5.0, -3.0, 12.0])
    assert (base, up, down, total) == ([0.0, 10.0, 12.0, 0.0], [0.0, 5.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0],
                                       [10.0, 0.0, 0.0, 12.0])


def test_chart_data_refuses_inf_and_ragged_series():
    with pytest.raises(ReportError, match="non-finite"):
        ChartData(kind="bar", categories=["a"], series=[{"name": "x", "values": [float("inf")]}])
    with pytest.raises(ReportError, match="2 values for 1 categories"):
        ChartData(kind="bar", categories=["a"], series=[{"name": "x", "values": [1.0, 2.0]}])
