"""Benchmark scales: how many demo accounts, how much usage history, how many repeats."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AS_OF", "END", "SCALES", "START", "Scale"]

START = "2023-10-01"  # first day of the generated demo company (three years)
END = "2026-09-30"  # last day of the generated demo company
AS_OF = "2026-09-30"  # every operation and report is run as of this day


@dataclass(frozen=True)
class Scale:
    """One benchmark size.

    Attributes
    ----------
    name
        ``tiny``, ``S``, ``M`` or ``L``.
    n_accounts
        Accounts passed to ``feedback_lib.generate_demo``.
    usage_history_weeks
        ``None`` keeps the full weekly usage history; an int keeps the last that many weeks (the
        other tables do not depend on it).
    repeats
        Default number of timed (library, baseline) pairs after the warm-up.
    """

    name: str
    n_accounts: int
    usage_history_weeks: int | None
    repeats: int

    @property
    def is_target_scale(self) -> bool:
        """Whether the issue's ratio target (library <= baseline) is judged at this scale."""
        return self.name == "L"


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 300, None, 1),
    "S": Scale("S", 10_000, None, 5),
    "M": Scale("M", 100_000, None, 5),
    "L": Scale("L", 1_000_000, 13, 5),
}
