"""Small statistical building blocks shared by several modules."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd
from scipy.special import ndtri  # scipy.stats.norm.ppf is ndtri; scipy.stats loads ~0.5 s slower

from .errors import FeedbackLibError


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
        raise FeedbackLibError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
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
        raise FeedbackLibError("a proportion needs at least one observation (n = 0)")
    if not 0 <= successes <= n:
        raise FeedbackLibError(f"successes must be between 0 and n = {n}, got {successes!r}")
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
