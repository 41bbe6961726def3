"""Board decks: a slide spec written by a report notebook, rendered to PPTX and PDF.

The quarterly notebook builds a :class:`SlideDeck` as it goes and saves ``deck.json``. A slide
carries either chart DATA (:class:`~feedback_lib.reporting.deck_charts.ChartData`: categories,
series, number format), drawn as a native PowerPoint chart a finance team can restyle and check,
a native table, or, for plots PowerPoint cannot draw (Kaplan-Meier bands, forest plots,
heatmaps), a PNG saved into ``output_dir/figures/``. The report runner renders the same spec
twice: :func:`write_pptx` with python-pptx (title slide, headline-KPI slide, one slide per chart
with a takeaway title, the narrative, method and data window as speaker notes, page numbers 1..N
and the currency on every page) and :func:`write_pdf` with matplotlib's ``PdfPages`` (same pages,
same titles, the same chart data drawn by matplotlib), so no office suite is needed.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path

from feedback_lib.errors import ReportError
from feedback_lib.reporting.deck_charts import (
    ChartData,
    TableData,
    add_native_chart,
    add_native_table,
    draw_chart,
    draw_table,
)

__all__ = ["Kpi", "Slide", "SlideDeck", "read_deck", "write_pdf", "write_pptx"]

DECK_FILE = "deck.json"
FIGURES_DIR = "figures"
_WIDTH_IN, _HEIGHT_IN = 13.333, 7.5  # 16:9
_INK = (0x1F, 0x2A, 0x37)
_MUTED = (0x5F, 0x6B, 0x7A)
_ACCENT = (0x1F, 0x5F, 0xA8)
_PANEL = (0xF2, 0xF4, 0xF7)


@dataclass(frozen=True)
class Kpi:
    """One headline number: ``label`` (e.g. "ARR"), ``value`` as shown, optional ``detail``."""

    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Slide:
    """One content slide.

    ``section`` is the small kicker above the title ("ARR bridge"), ``title`` the takeaway
    headline generated from the numbers (with its number), ``notes`` the narrative and method
    for the presenter. The body is one of: ``chart`` (a :class:`ChartData` as a dict, drawn
    natively), ``table`` (a :class:`TableData` as a dict) or ``image`` (a PNG path relative to
    the deck folder, for plots PowerPoint cannot draw). ``caption`` is a line under the body
    (e.g. the n and interval of the rates shown).
    """

    section: str
    title: str
    image: str = ""
    notes: str = ""
    chart: dict | None = None
    table: dict | None = None
    caption: str = ""

    @classmethod
    def native(cls, chart: ChartData, *, section: str, title: str, notes: str = "", caption: str = "") -> Slide:
        """A slide with a native chart."""
        return cls(section=section, title=title, notes=notes, chart=asdict(chart), caption=caption)

    @classmethod
    def tabular(cls, table: TableData, *, section: str, title: str, notes: str = "", caption: str = "") -> Slide:
        """A slide with a native table."""
        return cls(section=section, title=title, notes=notes, table=asdict(table), caption=caption)


@dataclass
class SlideDeck:
    """A deck under construction in a report notebook.

    Parameters
    ----------
    title, subtitle
        Title slide text (e.g. "Quarterly strategy review", "2026-Q3 · data to 30 Sep 2026").
    output_dir
        The notebook's ``output_dir``; figures go to ``output_dir/figures/``.
    currency
        Currency of every money amount, shown on every page ("Amounts in USD").
    data_window
        The data behind the deck ("accounts and subscriptions to 30 Sep 2026"), added to every
        slide's speaker notes.

    Examples
    --------
    >>> import tempfile, matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> deck = SlideDeck("Review", "2026-Q3", output_dir=tempfile.mkdtemp())
    >>> deck.add_kpis([Kpi("ARR", "€1.2M", "+4% vs Q2")])
    >>> fig, ax = plt.subplots()
    >>> deck.add_chart(fig, section="ARR", title="ARR grew 4%", notes="Expansion led.")
    >>> plt.close(fig)
    >>> [s.title for s in read_deck(deck.save()).slides]
    ['ARR grew 4%']
    """

    title: str
    subtitle: str = ""
    output_dir: str | Path = "."
    kpis: list[Kpi] = field(default_factory=list)
    slides: list[Slide] = field(default_factory=list)
    kpi_title: str = "Headline numbers"
    currency: str = "USD"
    data_window: str = ""

    def add_kpis(self, kpis: list[Kpi], *, title: str | None = None) -> None:
        """Add headline numbers to the KPI slide (at most 8 are shown)."""
        self.kpis.extend(kpis)
        if title:
            self.kpi_title = title

    def add_chart(self, figure, *, section: str, title: str, notes: str = "") -> None:
        """Save ``figure`` (a matplotlib Figure or Axes) as a PNG and add a chart slide.

        Returns nothing, so that a notebook cell ending with this call displays nothing extra.
        """
        fig = figure.get_figure() if hasattr(figure, "get_figure") and not hasattr(
            figure, "savefig") else figure
        slug = re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-") or "chart"
        rel = f"{FIGURES_DIR}/{len(self.slides) + 1:02d}-{slug}.png"
        path = Path(self.output_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150, bbox_inches="tight", facecolor="white")
        self.slides.append(Slide(section=section, title=title, image=rel, notes=notes))

    def add_slide(self, slide: Slide) -> None:
        """Add a ready slide (e.g. one of :func:`~feedback_lib.reporting.deck_quarterly.quarterly_slides`)."""
        self.slides.append(slide)

    def add_slides(self, slides: list[Slide]) -> None:
        """Add ready slides in order."""
        self.slides.extend(slides)

    def save(self) -> Path:
        """Write ``deck.json`` into ``output_dir`` and return its path."""
        path = Path(self.output_dir) / DECK_FILE
        spec = {
            "title": self.title,
            "subtitle": self.subtitle,
            "kpi_title": self.kpi_title,
            "currency": self.currency,
            "data_window": self.data_window,
            "kpis": [asdict(k) for k in self.kpis],
            "slides": [asdict(s) for s in self.slides],
        }
        path.write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def read_deck(path: str | Path) -> SlideDeck:
    """Read ``deck.json``; ``ReportError`` if it is missing, malformed or names missing images."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"the notebook wrote no {path.name} (expected {path})")
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        deck = SlideDeck(
            title=spec["title"],
            subtitle=spec.get("subtitle", ""),
            output_dir=path.parent,
            kpis=[Kpi(**k) for k in spec.get("kpis", [])],
            slides=[Slide(**s) for s in spec.get("slides", [])],
            kpi_title=spec.get("kpi_title", "Headline numbers"),
            currency=spec.get("currency", "USD"),
            data_window=spec.get("data_window", ""),
        )
        for slide in deck.slides:
            if slide.chart is not None:
                ChartData(**slide.chart)
            if slide.table is not None:
                TableData(**slide.table)
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"{path.name} is not a valid deck spec: {exc!r}") from exc
    for slide in deck.slides:
        if slide.chart is None and slide.table is None and not slide.image:
            raise ReportError(f"{path.name}: slide {slide.title!r} has no chart, table or image")
        if slide.image and not (path.parent / slide.image).is_file():
            raise ReportError(f"{path.name}: slide {slide.title!r} names a missing image "
                              f"{slide.image}")
    return deck


def page_titles(deck: SlideDeck) -> list[str]:
    """Titles of all pages in order: title slide, KPI slide (if any), chart slides."""
    return [deck.title] + ([deck.kpi_title] if deck.kpis else []) + [s.title for s in deck.slides]


# ---------------------------------------------------------------- PowerPoint


def write_pptx(deck: SlideDeck, path: str | Path) -> Path:
    """Render ``deck`` as a 16:9 PowerPoint file with speaker notes."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(_WIDTH_IN), Inches(_HEIGHT_IN)
    blank = prs.slide_layouts[5]  # "Title Only": a real title placeholder, nothing else

    pages = len(page_titles(deck))
    footer = _footer_text(deck)
    window = f"Data window: {deck.data_window}." if deck.data_window else ""
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    _place(slide.shapes.title, 0.9, 2.4, _WIDTH_IN - 1.8, 1.4)
    _text(slide.shapes.title.text_frame, deck.title, 40, bold=True, color=_INK)
    sub = slide.placeholders[1]
    _place(sub, 0.9, 3.9, _WIDTH_IN - 1.8, 1.0)
    _text(sub.text_frame, deck.subtitle, 20, color=_MUTED)
    _footer(slide, footer, 1, pages)
    slide.notes_slide.notes_text_frame.text = window

    page = 1
    if deck.kpis:
        page += 1
        slide = prs.slides.add_slide(blank)
        _title(slide, deck.kpi_title, kicker="Summary")
        _kpi_grid(slide, deck.kpis[:8])
        _footer(slide, footer, page, pages)
        slide.notes_slide.notes_text_frame.text = window

    base = Path(deck.output_dir)
    for spec in deck.slides:
        page += 1
        slide = prs.slides.add_slide(blank)
        _title(slide, spec.title, kicker=spec.section)
        bottom = 0.55 + (0.35 if spec.caption else 0.0)
        box = (0.6, 1.75, _WIDTH_IN - 1.2, _HEIGHT_IN - 1.75 - bottom)
        if spec.chart is not None:
            add_native_chart(slide, ChartData(**spec.chart), left=box[0], top=box[1], width=box[2], height=box[3])
        elif spec.table is not None:
            add_native_table(slide, TableData(**spec.table), left=box[0], top=box[1], width=box[2], height=box[3])
        else:
            _picture(slide, base / spec.image, max_h=box[3])
        if spec.caption:
            cap = slide.shapes.add_textbox(Inches(0.6), Inches(_HEIGHT_IN - bottom), Inches(_WIDTH_IN - 1.2),
                                           Inches(0.3))
            _text(cap.text_frame, spec.caption, 11, color=_MUTED)
        _footer(slide, footer, page, pages)
        slide.notes_slide.notes_text_frame.text = "\n\n".join(t for t in (spec.notes, window) if t)
    path = Path(path)
    prs.save(str(path))
    return path


def _place(shape, left: float, top: float, width: float, height: float) -> None:
    from pptx.util import Inches

    shape.left, shape.top = Inches(left), Inches(top)
    shape.width, shape.height = Inches(width), Inches(height)


def _text(frame, text: str, size: int, *, bold: bool = False, color=_INK, align=None) -> None:
    from pptx.dml.color import RGBColor
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Pt

    frame.text = text
    frame.word_wrap = True
    for para in frame.paragraphs:
        para.alignment = align if align is not None else PP_ALIGN.LEFT
        for run in para.runs:
            run.font.size = Pt(size)
            run.font.bold = bold
            run.font.color.rgb = RGBColor(*color)


def _title(slide, title: str, *, kicker: str) -> None:
    from pptx.enum.text import MSO_ANCHOR
    from pptx.util import Inches

    box = slide.shapes.add_textbox(Inches(0.6), Inches(0.3), Inches(_WIDTH_IN - 1.2), Inches(0.4))
    _text(box.text_frame, kicker.upper(), 12, bold=True, color=_ACCENT)
    _place(slide.shapes.title, 0.6, 0.65, _WIDTH_IN - 1.2, 1.0)
    slide.shapes.title.text_frame.vertical_anchor = MSO_ANCHOR.TOP
    _text(slide.shapes.title.text_frame, title, 26 if len(title) <= 70 else 22, bold=True, color=_INK)


def _footer_text(deck: SlideDeck) -> str:
    return " · ".join(t for t in (deck.title, deck.subtitle, f"Amounts in {deck.currency}") if t)


def _footer(slide, text: str, number: int, pages: int) -> None:
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches

    box = slide.shapes.add_textbox(Inches(0.6), Inches(_HEIGHT_IN - 0.45),
                                   Inches(_WIDTH_IN - 1.2), Inches(0.3))
    box.name = "Page footer"
    _text(box.text_frame, f"{text}    {number} / {pages}", 10, color=_MUTED, align=PP_ALIGN.RIGHT)


def _picture(slide, image: Path, *, max_h: float = _HEIGHT_IN - 1.75 - 0.55) -> None:
    from PIL import Image
    from pptx.util import Inches

    with Image.open(image) as im:
        w_px, h_px = im.size
    left, top, max_w = 0.6, 1.75, _WIDTH_IN - 1.2
    scale = min(max_w / w_px, max_h / h_px)
    w, h = w_px * scale, h_px * scale
    slide.shapes.add_picture(str(image), Inches(left + (max_w - w) / 2), Inches(top),
                             Inches(w), Inches(h))


def _kpi_grid(slide, kpis: list[Kpi]) -> None:
    from pptx.dml.color import RGBColor
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches, Pt

    cols = min(4, len(kpis))
    rows = (len(kpis) + cols - 1) // cols
    gap, left0, top0 = 0.3, 0.6, 1.9
    w = (_WIDTH_IN - 1.2 - gap * (cols - 1)) / cols
    h = min(2.3, (_HEIGHT_IN - top0 - 0.6 - gap * (rows - 1)) / rows)
    for i, kpi in enumerate(kpis):
        r, c = divmod(i, cols)
        shape = slide.shapes.add_shape(
            MSO_SHAPE.ROUNDED_RECTANGLE, Inches(left0 + c * (w + gap)),
            Inches(top0 + r * (h + gap)), Inches(w), Inches(h))
        shape.fill.solid()
        shape.fill.fore_color.rgb = RGBColor(*_PANEL)
        shape.line.fill.background()
        frame = shape.text_frame
        frame.word_wrap = True
        lines = [(kpi.label, 14, False, _MUTED), (kpi.value, 32, True, _INK)]
        if kpi.detail:
            lines.append((kpi.detail, 12, False, _MUTED))
        for j, (text, size, bold, color) in enumerate(lines):
            para = frame.paragraphs[0] if j == 0 else frame.add_paragraph()
            para.alignment = PP_ALIGN.CENTER
            run = para.add_run()
            run.text = text
            run.font.size, run.font.bold = Pt(size), bold
            run.font.color.rgb = RGBColor(*color)


# ---------------------------------------------------------------- PDF


def write_pdf(deck: SlideDeck, path: str | Path) -> Path:
    """Render ``deck`` as a PDF with one 16:9 page per slide of :func:`write_pptx`."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.patches import FancyBboxPatch

    ink, muted, accent, panel = (_rgb(c) for c in (_INK, _MUTED, _ACCENT, _PANEL))
    path = Path(path)
    meta = {"Title": deck.title, "Subject": deck.subtitle, "Creator": "feedback_lib",
            "CreationDate": None}
    pages, footer = len(page_titles(deck)), _footer_text(deck)

    def page_number(fig, number: int) -> None:
        fig.text(1 - 0.6 / _WIDTH_IN, 0.25 / _HEIGHT_IN, f"{footer}    {number} / {pages}", ha="right",
                 fontsize=9, color=muted)

    with plt.rc_context({"font.family": "DejaVu Sans"}), PdfPages(path, metadata=meta) as pdf:
        fig = _page()
        fig.text(0.068, 0.56, deck.title, fontsize=36, weight="bold", color=ink)
        fig.text(0.068, 0.47, deck.subtitle, fontsize=18, color=muted)
        page_number(fig, 1)
        pdf.savefig(fig)
        plt.close(fig)

        if deck.kpis:
            fig = _page()
            _pdf_title(fig, "Summary", deck.kpi_title, ink, accent)
            kpis = deck.kpis[:8]
            cols = min(4, len(kpis))
            rows = (len(kpis) + cols - 1) // cols
            gap, left0, top0 = 0.3, 0.6, 1.9
            w = (_WIDTH_IN - 1.2 - gap * (cols - 1)) / cols
            h = min(2.3, (_HEIGHT_IN - top0 - 0.6 - gap * (rows - 1)) / rows)
            for i, kpi in enumerate(kpis):
                r, c = divmod(i, cols)
                x, y = left0 + c * (w + gap), _HEIGHT_IN - (top0 + r * (h + gap)) - h
                box = FancyBboxPatch((x / _WIDTH_IN, y / _HEIGHT_IN), w / _WIDTH_IN,
                                     h / _HEIGHT_IN, boxstyle="round,pad=0,rounding_size=0.015",
                                     transform=fig.transFigure, facecolor=panel, edgecolor="none")
                fig.patches.append(box)
                cx, cy = (x + w / 2) / _WIDTH_IN, (y + h / 2) / _HEIGHT_IN
                fig.text(cx, cy + 0.09, kpi.label, ha="center", va="center", fontsize=13,
                         color=muted)
                fig.text(cx, cy + 0.01, kpi.value, ha="center", va="center", fontsize=28,
                         weight="bold", color=ink)
                if kpi.detail:
                    fig.text(cx, cy - 0.075, "\n".join(textwrap.wrap(kpi.detail, 34)),
                             ha="center", va="center", fontsize=11, color=muted)
            page_number(fig, 2)
            pdf.savefig(fig)
            plt.close(fig)

        base = Path(deck.output_dir)
        for i, spec in enumerate(deck.slides, start=2 + bool(deck.kpis)):
            fig = _page()
            _pdf_title(fig, spec.section, spec.title, ink, accent)
            notes_h = 0.55 if spec.notes else 0.0
            top, bottom = 1.75, 0.55 + notes_h + (0.3 if spec.caption else 0.0)
            if spec.chart is not None:
                ax = fig.add_axes([0.9 / _WIDTH_IN, (bottom + 0.45) / _HEIGHT_IN, 1 - 1.5 / _WIDTH_IN,
                                   (_HEIGHT_IN - top - bottom - 0.45) / _HEIGHT_IN])
                draw_chart(ChartData(**spec.chart), ax=ax)
            else:
                ax = fig.add_axes([0.6 / _WIDTH_IN, bottom / _HEIGHT_IN, 1 - 1.2 / _WIDTH_IN,
                                   (_HEIGHT_IN - top - bottom) / _HEIGHT_IN])
                if spec.table is not None:
                    draw_table(TableData(**spec.table), ax=ax)
                else:
                    ax.imshow(mpimg.imread(base / spec.image), interpolation="lanczos")
                    ax.set_anchor("N")
                    ax.axis("off")
            if spec.caption:
                fig.text(0.6 / _WIDTH_IN, (0.55 + notes_h + 0.2) / _HEIGHT_IN, spec.caption, fontsize=10,
                         color=muted, va="top")
            if spec.notes:
                fig.text(0.6 / _WIDTH_IN, (0.5 + notes_h) / _HEIGHT_IN,
                         "\n".join(textwrap.wrap(spec.notes, 190)[:3]), fontsize=8,
                         color=muted, va="top")
            page_number(fig, i)
            pdf.savefig(fig)
            plt.close(fig)
    return path


def _page():
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(_WIDTH_IN, _HEIGHT_IN), facecolor="white")


def _pdf_title(fig, kicker: str, title: str, ink, accent) -> None:
    fig.text(0.6 / _WIDTH_IN, 1 - 0.45 / _HEIGHT_IN, kicker.upper(), fontsize=11,
             weight="bold", color=accent, va="center")
    fig.text(0.6 / _WIDTH_IN, 1 - 0.75 / _HEIGHT_IN, "\n".join(textwrap.wrap(title, 80)),
             fontsize=22, weight="bold", color=ink, va="top")


def _rgb(c: tuple[int, int, int]) -> tuple[float, float, float]:
    return (c[0] / 255, c[1] / 255, c[2] / 255)
