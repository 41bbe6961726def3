"""Input checks shared by the NPS modules: scores, weights, methods, required columns.

Messages follow the library's rule: what is wrong, where (1-based positions or rows), example
values, and how to fix it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from feedback_lib.errors import (
    ParameterError,
    SchemaError,
    SmallSampleWarning,
)

METHODS = ("wald", "adjusted-wald", "bootstrap")
_MAX_LISTED = 10  # positions named in an error message


def _positions(mask: np.ndarray) -> str:
    pos = np.flatnonzero(mask) + 1
    listed = ", ".join(str(p) for p in pos[:_MAX_LISTED])
    return listed + (", ..." if len(pos) > _MAX_LISTED else "")


def _examples(values: pd.Series, mask: np.ndarray) -> str:
    bad = values.iloc[np.flatnonzero(mask)[:50]].astype("object")
    text = [f"{v:g}" if isinstance(v, (float, np.floating)) else str(v) for v in bad]
    return ", ".join(list(dict.fromkeys(text))[:3])


def score_codes(scores, *, where: str = "scores", rows: str = "positions") -> np.ndarray:
    """Validate 0-10 integer scores and return category codes (0 detractor, 1 passive, 2 promoter).

    ``where`` names the input in error messages (``"responses: column 'score'"``) and ``rows``
    names the 1-based row numbers (``"positions"`` for a sequence, ``"rows"`` for a table).
    Raises :class:`SchemaError` listing every broken rule with positions and example values.
    """
    if isinstance(scores, pd.DataFrame) or np.ndim(scores) != 1:
        raise SchemaError(f"{where}: scores must be a 1-D sequence, got {type(scores).__name__} "
                          f"with {np.ndim(scores)} dimensions; pass one column of scores")
    series = scores if isinstance(scores, pd.Series) else pd.Series(np.asarray(scores))
    if pd.api.types.is_bool_dtype(series.dtype):
        raise SchemaError(f"{where}: scores are booleans; NPS needs integer scores 0-10")
    if pd.api.types.is_integer_dtype(series.dtype) and not series.hasnans:  # the canonical case
        values = series.to_numpy(dtype=np.int64)
        outside = (values < 0) | (values > 10)
        if not outside.any():
            return _categories(values)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        not_number = np.zeros(len(values), dtype=bool)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        not_number = np.isnan(values) & series.notna().to_numpy()
    missing = np.isnan(values) & ~not_number
    finite = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        not_integer = finite & np.isfinite(values) & (values != np.floor(values))
        outside = finite & ~not_integer & ((values < 0) | (values > 10))
    problems = []
    frames = []
    for mask, rule in ((missing, "missing"), (not_number, "not a number"),
                       (not_integer, "not an integer"), (outside, "outside 0-10")):
        if mask.any():
            problems.append(f"{int(mask.sum())} {'value' if mask.sum() == 1 else 'values'} {rule} "
                            f"({rows if mask.sum() > 1 else rows[:-1]} {_positions(mask)}; "
                            f"e.g. {_examples(series, mask)})")
            frames.append(pd.DataFrame({"table": where, "row": np.flatnonzero(mask) + 1,
                                        "column": "score", "rule": rule,
                                        "value": series.iloc[np.flatnonzero(mask)].to_numpy(object)}))
    if problems:
        raise SchemaError(
            f"{where}: " + "; ".join(problems) + f" ({rows} are 1-based). NPS needs integer scores "
            "0-10: fix or drop these responses.",
            failures=pd.concat(frames, ignore_index=True),
        )
    return _categories(values)


def _categories(values: np.ndarray) -> np.ndarray:
    """int8 category codes of valid 0-10 scores: 0 detractor (0-6), 1 passive (7-8), 2 promoter (9-10)."""
    return (values >= 7).astype(np.int8) + (values >= 9)


def check_method(method: str) -> None:
    """Raise :class:`ParameterError` unless ``method`` is one of :data:`METHODS`."""
    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(map(repr, METHODS))}; got {method!r}")


def check_weights(weights, m: int, *, where: str = "weights") -> np.ndarray:
    """Validate weights (finite, >= 0, positive sum, one per response) and return floats."""
    w = np.asarray(weights, dtype="float64") if not isinstance(weights, pd.Series) else (
        weights.to_numpy(dtype="float64", na_value=np.nan))
    if w.shape != (m,):
        raise ParameterError(f"{where}: need one weight per score ({m}), got shape {w.shape}")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ParameterError(
            f"{where}: {int(bad.sum())} weights are missing, infinite or negative (positions "
            f"{_positions(bad)}, 1-based; e.g. {_examples(pd.Series(w), bad)}); use 0 to leave a "
            "response out")
    return w


def warn_small(n_effective: float, min_n: int, what: str) -> None:
    """Issue :class:`SmallSampleWarning` when ``n_effective < min_n``."""
    if n_effective < min_n:
        warnings.warn(f"{what} rests on {n_effective:.4g} responses (fewer than min_n={min_n}); "
                      "its interval is wide and the normal approximation is rough",
                      SmallSampleWarning, stacklevel=3)


