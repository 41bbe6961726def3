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
