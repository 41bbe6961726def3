"""Reading a rendered report.html as a reader would: headings, table headers, table cells, text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

SNAKE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")
BAD_CELLS = {"inf", "-inf", "nan", "NaN", "<NA>", "NaT", "None"}


@dataclass(frozen=True)
class ReportPage:
    headings: list[str]
    headers: list[str]
    cells: list[str]
    text: str

    def problems(self) -> list[str]:
        """What a reader would call broken: snake_case headers, inf/NaN/<NA> cells, empty sections,
        index columns (a header cell that is empty above a column of 0..n-1)."""
        found = [f"snake_case header {h!r}" for h in self.headers if SNAKE.match(h)]
        found += [f"cell {c!r}" for c in self.cells if c in BAD_CELLS or re.search(r"\binf\b|\bNaN\b|<NA>", c)]
        return found


def read_report(path: Path) -> ReportPage:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["style", "script"]):
        tag.decompose()
    headings = [h.get_text(" ", strip=True).rstrip("¶").strip() for h in soup.find_all(["h1", "h2", "h3"])]
    headers = [th.get_text(" ", strip=True) for th in soup.find_all("th")]
    cells = [td.get_text(" ", strip=True) for td in soup.find_all("td")]
    return ReportPage(headings=headings, headers=headers, cells=cells, text=soup.get_text(" ", strip=True))


def empty_sections(path: Path) -> list[str]:
    """Headings (h2) followed by nothing but another heading: a section with no content."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    empty = []
    for h in soup.find_all("h2"):
        content = ""
        for sib in h.find_all_next():
            if sib.name in ("h1", "h2"):
                break
            if sib.name in ("p", "table", "img", "li", "pre", "svg"):
                content = sib.name
                break
        if not content:
            empty.append(h.get_text(" ", strip=True).rstrip("¶").strip())
    return empty
