"""Net Promoter Score with honest statistics: point estimate, interval, change test, sample size.

The score of one response is +1 (promoter, 9-10), 0 (passive, 7-8) or -1 (detractor, 0-6); NPS is
100 times their (weighted) mean. Everything here is vectorised over responses; the per-period and
per-group table lives in :mod:`feedback_lib.survey.periods`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.special import (  # the normal cdf and its inverse (scipy.stats.norm uses them)
    ndtr,
    ndtri,
)

from feedback_lib._util.stats import z_value
from feedback_lib.errors import InsufficientDataError, ParameterError
from feedback_lib.survey._inputs import (
    check_method,
    check_weights,
    score_codes,
    warn_small,
)

__all__ = ["MIN_N_COMPARE", "nps", "nps_category", "nps_change", "nps_sample_size", "NPSChange",
           "NPSResult"]

CATEGORIES = ("detractor", "passive", "promoter")
# Adjusted-Wald pseudo-observations (Rocks 2016): 3/4 promoter, 3/2 passive, 3/4 detractor.
_ADJ_TAIL = 0.75  # added to promoters and to detractors
_ADJ_N = 3.0
#: Fewest responses in *each* of two samples before :func:`nps_change` calls a change significant.
#: At 10 per sample the adjusted-Wald test keeps its exact false-alarm rate at most 5.5% for every
#: score mix enumerated in ``tests/test_nps.py`` (the Wald test reaches 7.6-8.4% there).
MIN_N_COMPARE = 10


@dataclass(frozen=True)
class NPSResult:
    """NPS of one sample with its interval.

    ``score``, ``ci_low``, ``ci_high`` and ``std_error`` are NPS points (-100..100). ``n``,
    ``promoters``, ``passives`` and ``detractors`` are counts, or weight sums when weights were
    given (``promoters + passives + detractors == n``). ``n_responses`` is the number of responses
    and ``n_effective`` the sample size behind the standard error (Kish's effective size when
    weighted, else ``n``).
    """

    score: float
    ci_low: float
    ci_high: float
    std_error: float
    n: float
    promoters: float
    passives: float
    detractors: float
    n_responses: int
    n_effective: float
    confidence: float
    method: str

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the fields."""
        return pd.DataFrame([asdict(self)])


@dataclass(frozen=True)
class NPSChange:
    """Difference between two independent NPS samples (``after - before``), in NPS points."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    std_error: float
    before: float
    after: float
    confidence: float
    n_before: float = math.nan
    n_after: float = math.nan
    method: str = "wald"
    min_n_compare: int = MIN_N_COMPARE

    @property
    def comparable(self) -> bool:
        """Whether both samples have at least ``min_n_compare`` responses (effective size)."""
        return bool(min(self.n_before, self.n_after) >= self.min_n_compare)

    @property
    def significant(self) -> bool:
        """``p_value < 1 - confidence`` and both samples :attr:`comparable`; never true below the
        minimum, however small the p-value."""
        return self.comparable and bool(self.p_value < 1 - self.confidence)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the fields."""
        return pd.DataFrame([asdict(self)])


def nps_category(scores) -> pd.Series:
    """Category of each score: ``"detractor"`` (0-6), ``"passive"`` (7-8), ``"promoter"`` (9-10).

    Parameters
    ----------
    scores
        1-D sequence of integer scores 0-10 (a pandas Series keeps its index).

    Returns
    -------
    Series
        Categorical with categories ``detractor, passive, promoter``.

    Examples
    --------
    >>> nps_category([0, 6, 7, 8, 9, 10]).tolist()
    ['detractor', 'detractor', 'passive', 'passive', 'promoter', 'promoter']
    """
    codes = score_codes(scores)
    index = scores.index if isinstance(scores, pd.Series) else None
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(CATEGORIES)), index=index,
                     name="category")


def wald_variance(p: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Per-response variance of the +1/0/-1 score: ``p + d - (p - d)^2`` (shares, not points)."""
    return p + d - (p - d) ** 2


def interval_arrays(promoters, detractors, n, n_effective, *, confidence: float, method: str):
    """Vectorised NPS, interval and standard error (points) for the Wald methods.

    ``promoters``, ``detractors`` and ``n`` are counts or weight sums; ``n_effective`` is the
    sample size of the standard error. Returns ``score, ci_low, ci_high, std_error`` arrays.
    """
    z = z_value(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.asarray(promoters, dtype=float) / n
        d = np.asarray(detractors, dtype=float) / n
        n_eff = np.asarray(n_effective, dtype=float)
        if method == "adjusted-wald":
            p = (p * n_eff + _ADJ_TAIL) / (n_eff + _ADJ_N)
            d = (d * n_eff + _ADJ_TAIL) / (n_eff + _ADJ_N)
            n_eff = n_eff + _ADJ_N
        se = np.sqrt(np.maximum(wald_variance(p, d), 0.0) / n_eff)
    score = 100 * (np.asarray(promoters, dtype=float) - np.asarray(detractors, dtype=float)) / n
    centre = p - d
    return (score, np.clip(100 * (centre - z * se), -100, 100),
            np.clip(100 * (centre + z * se), -100, 100), 100 * se)


def bootstrap_arrays(promoters, passives, detractors, *, confidence: float, n_boot: int,
                     seed: int):
    """Vectorised multinomial bootstrap of unweighted counts; returns ``ci_low, ci_high, se``.

    Resampling n responses with replacement is a multinomial draw of the three category counts
    with the observed shares, so each group costs O(n_boot) whatever its size.
    """
    _check_n_boot(n_boot)
    counts = np.stack([np.asarray(c, dtype=np.int64) for c in (promoters, passives, detractors)],
                      axis=-1)
    n = counts.sum(axis=-1)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n[..., None], size=(n_boot, *n.shape))
    scores = 100 * (draws[..., 0] - draws[..., 2]) / n
    return _percentile_interval(scores, confidence)


def _check_n_boot(n_boot: int) -> None:
    if n_boot < 2:
        raise ParameterError(f"n_boot must be at least 2 (1,000 or more is usual); got {n_boot!r}")


def _percentile_interval(scores: np.ndarray, confidence: float):
    alpha = 1 - confidence
    low, high = np.nanquantile(scores, [alpha / 2, 1 - alpha / 2], axis=0)
    return low, high, np.nanstd(scores, axis=0, ddof=1)


def _weighted_bootstrap(codes: np.ndarray, w: np.ndarray, *, confidence: float, n_boot: int,
                        seed: int):
    rng = np.random.default_rng(seed)
    value = w * (codes.astype(float) - 1)
    m = len(codes)
    chunk = max(1, 4_000_000 // m)
    out = []
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, m, size=(min(chunk, n_boot - start), m))
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(100 * value[idx].sum(axis=1) / w[idx].sum(axis=1))
    return _percentile_interval(np.concatenate(out), confidence)


def _summary(scores, weights, where: str):
    codes = score_codes(scores, where=where)
    if len(codes) == 0:
        raise InsufficientDataError(f"{where}: no scores; NPS needs at least one response")
    if weights is None:
        counts = np.bincount(codes, minlength=3).astype(float)
        return codes, None, counts, len(codes), float(len(codes))
    w = check_weights(weights, len(codes))
    total = w.sum()
    if total <= 0:
        raise InsufficientDataError("weights sum to 0; at least one response needs a positive weight")
    counts = np.bincount(codes, weights=w, minlength=3)
    return codes, w, counts, total, total**2 / np.sum(w**2)


def nps(scores: Sequence[int] | np.ndarray | pd.Series, *, weights=None,
        confidence: float = 0.95, method: str = "adjusted-wald", n_boot: int = 2000,
        seed: int = 0, min_n: int = 30) -> NPSResult:
    """Net Promoter Score of a sample of 0-10 scores, with a confidence interval.

    Parameters
    ----------
    scores
        1-D sequence of integer scores 0-10 (a list, array or the ``score`` column).
    weights
        Optional non-negative weight per response (e.g. the account's MRR for revenue-weighted
        NPS). Counts become weight sums; the standard error uses Kish's effective sample size.
    confidence
        Two-sided confidence level of the interval.
    method
        ``"adjusted-wald"`` (default), ``"wald"`` or ``"bootstrap"`` (percentile interval).
    n_boot, seed
        Bootstrap resamples and the seed of its own generator (results are reproducible).
    min_n
        Below this (effective) sample size a :class:`SmallSampleWarning` is issued.

    Returns
    -------
    NPSResult

    Raises
    ------
    SchemaError
        Scores that are missing, not numbers, not integers or outside 0-10 (positions named).
    FeedbackLibError
        No scores, or invalid weights.

    Notes
    -----
    With shares p (promoters) and d (detractors), NPS = 100 (p - d). Each response scores +1, 0 or
    -1, whose variance is ``Var = p + d - (p - d)^2``; ``SE = sqrt(Var / n)`` (brendan-r/NPS R
    package ``nps_var``/``nps_se``).

    * ``wald``: ``NPS +- z SE``. Degenerate when every response is in one category (SE 0, the
      interval collapses to the point, e.g. [100, 100] when all are promoters) and for n = 1.
    * ``adjusted-wald``: add 3/4 to promoters and to detractors (3/2 to passives) and 3 to n, then
      take the Wald interval around the adjusted estimate (Rocks 2016, the best performer in
      MeasuringU's 2021 comparison). ``score`` stays the plain NPS and ``std_error`` is the
      adjusted SE. Gives a proper interval for all-promoter samples and n = 1.
    * ``bootstrap``: the 2.5th/97.5th (for 95%) percentiles of ``n_boot`` resampled NPS values;
      ``std_error`` is their standard deviation. Unweighted resampling is a multinomial draw
      (O(n_boot)); weighted resampling draws responses (O(n_boot x n)). Degenerate like Wald when
      all responses share a category.

    Weighted: ``p = sum(w | promoter) / sum(w)`` and likewise d; ``n_eff = (sum w)^2 / sum w^2``
    (Kish 1965) replaces n in the SE and in the adjusted-Wald pseudo-counts. This assumes weights
    unrelated to scores; concentrated weights give a small n_eff and a wide interval, as they
    should. Intervals are clipped to [-100, 100].

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". *The American
    Statistician* 70(4), 365-372. Kish, L. (1965). *Survey Sampling*. Wiley.

    Examples
    --------
    >>> r = nps([10] * 200 + [7] * 120 + [3] * 80, method="wald")
    >>> r.score, round(r.std_error, 3), round(r.ci_low, 1), round(r.ci_high, 1)
    (30.0, 3.905, 22.3, 37.7)
    """
    check_method(method)
    codes, w, counts, n, n_eff = _summary(scores, weights, "scores")
    warn_small(n_eff, min_n, "NPS")
    detractors, passives, promoters = (float(c) for c in counts)
    score, low, high, se = interval_arrays(promoters, detractors, n, n_eff, confidence=confidence,
                                           method="wald" if method == "bootstrap" else method)
    if method == "bootstrap" and w is None:
        low, high, se = bootstrap_arrays(promoters, passives, detractors, confidence=confidence,
                                         n_boot=n_boot, seed=seed)
    elif method == "bootstrap":
        _check_n_boot(n_boot)
        low, high, se = _weighted_bootstrap(codes, w, confidence=confidence, n_boot=n_boot, seed=seed)
    return NPSResult(
        score=float(score), ci_low=float(low), ci_high=float(high), std_error=float(se),
        n=float(n) if w is not None else int(n), promoters=promoters, passives=passives,
        detractors=detractors, n_responses=len(codes), n_effective=float(n_eff),
        confidence=confidence, method=method,
    )


def _shares(sample, where: str):
    if isinstance(sample, NPSResult):
        return sample.promoters / sample.n, sample.detractors / sample.n, sample.n_effective
    _, _, counts, n, n_eff = _summary(sample, None, where)
    return counts[2] / n, counts[0] / n, n_eff


def change_test(p1, d1, n1, p2, d2, n2, *, confidence: float, method: str = "wald"):
    """Vectorised two-sample z test; returns ``difference, ci_low, ci_high, p_value, se`` (points).

    ``method="adjusted-wald"`` adds 3/4 promoter, 3/2 passive and 3/4 detractor to each sample
    before the variance, the interval and the test (``difference`` stays the plain one).
    """
    z = z_value(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        plain = (p2 - d2) - (p1 - d1)
        if method == "adjusted-wald":
            p1, d1, n1 = ((p1 * n1 + _ADJ_TAIL) / (n1 + _ADJ_N), (d1 * n1 + _ADJ_TAIL) / (n1 + _ADJ_N),
                          n1 + _ADJ_N)
            p2, d2, n2 = ((p2 * n2 + _ADJ_TAIL) / (n2 + _ADJ_N), (d2 * n2 + _ADJ_TAIL) / (n2 + _ADJ_N),
                          n2 + _ADJ_N)
        se = np.sqrt(wald_variance(p1, d1) / n1 + wald_variance(p2, d2) / n2)
        diff = (p2 - d2) - (p1 - d1)
        stat = np.where(se > 0, np.abs(diff) / se, np.where(np.isclose(diff, 0), 0.0, np.inf))
    p_value = np.where(np.isnan(se), np.nan, 2 * ndtr(-stat))
    return (100 * plain, np.clip(100 * (diff - z * se), -200, 200),
            np.clip(100 * (diff + z * se), -200, 200), p_value, 100 * se)


def nps_change(before, after, *, confidence: float = 0.95, min_n: int = 30,
               method: str = "wald", min_n_compare: int = MIN_N_COMPARE) -> NPSChange:
    """Difference ``after - before`` between two independent NPS samples, with a z test.

    Parameters
    ----------
    before, after
        Each a 1-D sequence of 0-10 scores or an :class:`NPSResult` (use ``nps(..., weights=)``
        for weighted samples: its shares and ``n_effective`` are used).
    confidence
        Two-sided confidence level of the interval of the difference.
    min_n
        A :class:`SmallSampleWarning` is issued when either sample is smaller.
    method
        ``"wald"`` (default, the brendan-r/NPS test) or ``"adjusted-wald"`` (valid at small n;
        what the weekly report uses).
    min_n_compare
        Fewest responses in each sample for :attr:`NPSChange.significant` to be true
        (:data:`MIN_N_COMPARE` = 10; at least 10 is enforced).

    Returns
    -------
    NPSChange
        ``difference``, ``ci_low``, ``ci_high`` and ``std_error`` in points (interval clipped to
        [-200, 200]); ``p_value`` two-sided; ``n_before``, ``n_after`` (effective sizes);
        ``significant`` is false whenever a sample has fewer than ``min_n_compare`` responses.

    Notes
    -----
    ``SE_diff = sqrt(Var1 / n1 + Var2 / n2)`` with the Wald variance ``Var = p + d - (p - d)^2``
    of each sample; ``z = difference / SE_diff``, ``p = 2 (1 - Phi(|z|))`` (brendan-r/NPS
    ``nps_test``). When both samples are degenerate (SE_diff = 0) the p-value is 1 for equal NPS
    and 0 otherwise.

    ``adjusted-wald`` applies the pseudo-counts of :func:`nps` (Rocks 2016) to each sample, in the
    way Agresti & Caffo (2000) adjust a difference of two proportions, and tests the adjusted
    difference against its SE, so the p-value and the interval agree. With a one-response week
    its variance is no longer zero, and with at least :data:`MIN_N_COMPARE` responses per week
    the exact false-alarm rate (all trinomial outcomes enumerated) stays at most 5.5% for the
    mixes tested, against 7.6-8.4% for the Wald test at n = 10. Below the minimum no change is
    called significant.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". *The American
    Statistician* 70(4), 365-372.
    Agresti, A. & Caffo, B. (2000). Simple and effective confidence intervals for proportions and
    differences of proportions result from adding two successes and two failures. *The American
    Statistician* 54(4), 280-288.

    Examples
    --------
    >>> before = [10] * 50 + [8] * 30 + [2] * 20   # NPS 30
    >>> after = [9] * 42 + [7] * 33 + [5] * 25     # NPS 17
    >>> c = nps_change(before, after)
    >>> round(c.difference, 1), round((c.ci_high - c.ci_low) / 2, 1), round(c.p_value, 3)
    (-13.0, 21.9, 0.245)
    """
    if method not in ("wald", "adjusted-wald"):
        raise ParameterError(f"nps_change: method must be 'wald' or 'adjusted-wald'; got {method!r}")
    if not min_n_compare >= MIN_N_COMPARE:
        raise ParameterError(f"nps_change: min_n_compare must be at least {MIN_N_COMPARE}; "
                             f"got {min_n_compare!r}")
    p1, d1, n1 = _shares(before, "before")
    p2, d2, n2 = _shares(after, "after")
    warn_small(min(n1, n2), min_n, "an NPS change")
    diff, low, high, p_value, se = change_test(p1, d1, n1, p2, d2, n2, confidence=confidence,
                                               method=method)
    return NPSChange(
        difference=float(diff), ci_low=float(low), ci_high=float(high), p_value=float(p_value),
        std_error=float(se), before=100 * float(p1 - d1), after=100 * float(p2 - d2),
        confidence=confidence, n_before=float(n1), n_after=float(n2), method=method,
        min_n_compare=int(min_n_compare),
    )


def nps_sample_size(*, change: float, power: float = 0.8, confidence: float = 0.95,
                    promoters: float = 0.5, detractors: float = 0.2) -> int:
    """Responses needed per period to detect an NPS change of ``change`` points.

    Parameters
    ----------
    change
        Smallest change worth detecting, in NPS points (e.g. 10).
    power
        Probability of detecting a true change of that size.
    confidence
        Two-sided confidence level of the test (1 - alpha).
    promoters, detractors
        Expected shares (0-1) in each period. The default 50% / 20% (NPS 30, Var 0.61) is the
        worked example of brendan-r/NPS and a typical B2B software mix.

    Returns
    -------
    int
        Responses needed in each of two independent periods (rounded up).

    Notes
    -----
    ``n = (z_{1-alpha/2} + z_{power})^2 (Var1 + Var2) / delta^2`` with ``delta = change / 100``
    and ``Var1 = Var2 = p + d - (p - d)^2`` (the planning mix in both periods), the two-sample
    z test of :func:`nps_change`.

    Examples
    --------
    >>> nps_sample_size(change=10)
    958
    """
    if not 0 < abs(change) <= 200:
        raise ParameterError(f"change must be a non-zero number of NPS points up to 200; got {change!r}")
    if not 0 < power < 1:
        raise ParameterError(f"power must be between 0 and 1 (exclusive); got {power!r}")
    if promoters < 0 or detractors < 0 or promoters + detractors > 1:
        raise ParameterError(
            f"promoters and detractors are shares 0-1 with sum <= 1; got {promoters!r} and "
            f"{detractors!r} (write 50% as 0.5)")
    variance = float(wald_variance(np.asarray(promoters), np.asarray(detractors)))
    if variance == 0:
        raise ParameterError("a mix with every response in one category has no variance; "
                             "give shares that leave some promoters and detractors or passives")
    z = z_value(confidence) + float(ndtri(power))
    return math.ceil(z**2 * 2 * variance / (change / 100) ** 2)
