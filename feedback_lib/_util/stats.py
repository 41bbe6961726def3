"""Small statistical building blocks shared by several modules."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.special import (
    ndtri,  # scipy.stats.norm.ppf is ndtri; scipy.stats loads ~0.5 s slower
)

from feedback_lib.errors import InsufficientDataError, ParameterError


@dataclass(frozen=True)
class Proportion:
    """A share with its Wilson score interval and sample size."""

    share: float
    ci_low: float
    ci_high: float
    n: int
    successes: float
    confidence: float = 0.95

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the fields."""
        return pd.DataFrame([asdict(self)])


def z_value(confidence: float) -> float:
    """Two-sided normal critical value for ``confidence`` (0.95 -> 1.95996...).

    Examples
    --------
    >>> round(z_value(0.95), 4)
    1.96
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    return float(ndtri(0.5 + confidence / 2))


def wilson_interval(successes: float, n: int, *, confidence: float = 0.95) -> Proportion:
    """Share ``successes / n`` with the Wilson score interval.

    Notes
    -----
    Wilson (1927), *Probable inference, the law of succession, and statistical inference*, JASA 22:
    centre = (p + z^2 / 2n) / (1 + z^2 / n), half-width = z / (1 + z^2 / n) *
    sqrt(p (1 - p) / n + z^2 / 4n^2). Defined for p = 0 and p = 1 (unlike the Wald interval).

    Examples
    --------
    >>> p = wilson_interval(8, 10)
    >>> round(p.share, 2), round(p.ci_low, 4), round(p.ci_high, 4)
    (0.8, 0.4902, 0.9433)
    """
    if n <= 0:
        raise InsufficientDataError("a proportion needs at least one observation (n = 0)")
    if not 0 <= successes <= n:
        raise ParameterError(f"successes must be between 0 and n = {n}, got {successes!r}")
    z = z_value(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Proportion(
        share=p,
        ci_low=max(0.0, centre - half),
        ci_high=min(1.0, centre + half),
        n=int(n),
        successes=successes,
        confidence=confidence,
    )


def band_edges(mrr, *, bands: int) -> np.ndarray:
    """Inner edges of ``bands`` equal-count MRR bands over the positive values of ``mrr``.

    Examples
    --------
    >>> band_edges([0, 10, 20, 30, 40], bands=2)
    array([25.])
    """
    values = np.asarray(mrr, dtype=float)
    values = values[values > 0]
    if bands < 1:
        raise ParameterError(f"bands must be a positive whole number, got {bands!r}")
    if len(values) == 0:
        return np.array([])
    return np.unique(np.quantile(values, np.arange(1, bands) / bands))


def assign_band(mrr, edges: np.ndarray) -> np.ndarray:
    """Band number of each MRR: 0 = not paying, 1 = lowest ... len(edges) + 1 = highest.

    Examples
    --------
    >>> assign_band([0, 5, 25, 90], np.array([25.0]))
    array([0, 1, 1, 2])
    """
    values = np.asarray(mrr, dtype=float)
    return np.where(values > 0, np.searchsorted(edges, values, side="left") + 1, 0)


def proportion_or_nan(successes: float, n: int, *, confidence: float) -> Proportion:
    """Wilson proportion, or a NaN proportion with ``n = 0`` when there is nothing to count."""
    if n == 0:
        return Proportion(math.nan, math.nan, math.nan, 0, 0, confidence)
    return wilson_interval(float(successes), int(n), confidence=confidence)


def proportion_columns(successes, n, *, confidence: float) -> pd.DataFrame:
    """``share, ci_low, ci_high`` for a few groups (one Wilson interval per group)."""
    rows = [
        proportion_or_nan(float(k), int(m), confidence=confidence)
        for k, m in zip(np.asarray(successes), np.asarray(n))
    ]
    return pd.DataFrame(
        {
            "share": [p.share for p in rows],
            "ci_low": [p.ci_low for p in rows],
            "ci_high": [p.ci_high for p in rows],
        }
    )


def newcombe_difference(a: Proportion, b: Proportion) -> tuple[float, float, float]:
    """Difference ``a - b`` of two independent shares with Newcombe's hybrid score interval.

    Newcombe (1998), *Interval estimation for the difference between independent proportions*,
    Statistics in Medicine 17, method 10: built from the two Wilson intervals.

    Examples
    --------
    >>> d = newcombe_difference(wilson_interval(56, 70), wilson_interval(48, 80))
    >>> [round(x, 4) for x in d]
    [0.2, 0.0524, 0.3339]
    """
    d = a.share - b.share
    low = d - math.sqrt((a.share - a.ci_low) ** 2 + (b.ci_high - b.share) ** 2)
    high = d + math.sqrt((a.ci_high - a.share) ** 2 + (b.share - b.ci_low) ** 2)
    return d, low, high
