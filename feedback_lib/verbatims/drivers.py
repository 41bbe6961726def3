"""Key driver analysis: which verbatim themes and account attributes move the NPS score most.

An OLS regression of the 0-10 score on theme indicators and attributes (HC3 robust intervals)
says how much each driver moves the score; an exact Shapley (LMG) decomposition of R^2 says how
much of the explained variation each driver accounts for, which is the ranking that survives
correlated drivers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib.errors import (
    InsufficientDataError,
    ParameterError,
    SmallSampleWarning,
)
from feedback_lib.verbatims.themes import normalize_text

__all__ = ["key_drivers", "KeyDrivers", "shapley_r2"]


def shapley_r2(x: np.ndarray, y: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """Exact Shapley decomposition of the OLS R^2 over groups of columns of ``x`` (LMG).

    Each group's value is the average, over all orders of adding the groups, of the R^2 it adds
    (Lindeman, Merenda & Gold 1980; Gromping 2007, *Estimators of relative importance in linear
    regression based on variance decomposition*, The American Statistician 61). The values sum to
    the R^2 of the full model. Cost: 2^groups small solves on the cross-product matrix.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 2))
    >>> y = 2 * x[:, 0] + x[:, 1] + rng.normal(size=500)
    >>> phi = shapley_r2(x, y, [[0], [1]])
    >>> [round(float(v), 2) for v in phi]  # population values 4/6 and 1/6 (independent x)
    [0.68, 0.15]
    """
    p = len(groups)
    if p > 14:
        raise ParameterError(f"shapley_r2: {p} drivers need 2^{p} fits; keep at most 14 (merge or drop drivers)")
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    sxx, sxy, syy = xc.T @ xc, xc.T @ yc, float(yc @ yc)
    masks = np.arange(2**p)
    r2 = np.zeros(2**p)
    for mask in masks[1:]:  # 2^p subsets of a handful of drivers, each a tiny solve
        cols = [c for g in range(p) if mask >> g & 1 for c in groups[g]]
        beta = np.linalg.lstsq(sxx[np.ix_(cols, cols)], sxy[cols], rcond=None)[0]
        r2[mask] = float(sxy[cols] @ beta) / syy
    size = np.array([bin(m).count("1") for m in masks])
    weight = np.array([math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) if s < p else 0.0
                       for s in range(p + 1)])
    phi = np.zeros(p)
    for g in range(p):
        without = masks[(masks >> g & 1) == 0]
        phi[g] = np.sum(weight[size[without]] * (r2[without | (1 << g)] - r2[without]))
    return phi


@dataclass(frozen=True)
class KeyDrivers:
    """Key driver analysis results (see :func:`key_drivers`).

    Attributes
    ----------
    coefficients
        One row per regression term: ``term, driver, coef`` (score points), ``std_error, ci_low,
        ci_high, p_value`` (HC3), ``prevalence`` (share of responses with the term = 1).
    importance
        One row per driver: ``driver, kind`` (theme / attribute), ``shapley_r2, importance``
        (share of the explained R^2), ``prevalence`` (themes), ``coef, ci_low, ci_high`` (themes),
        ``p_value``, ``verdict`` (``"be great"`` / ``"good enough"``); most important first.
    r_squared, n
        R^2 of the full model and responses used.
    summary
        Plain-words reading: where to be great and where good enough is enough.
    """

    coefficients: pd.DataFrame
    importance: pd.DataFrame
    r_squared: float
    n: int
    summary: str

    def to_frame(self) -> pd.DataFrame:
        """The ``importance`` table."""
        return self.importance


def _design(responses, tagged, accounts, attributes, min_mentions):
    rows = responses.reset_index(drop=True)
    ids = rows["response_id"].astype("string")
    hits = tagged.loc[tagged["response_id"].astype("string").isin(ids)]
    counts = hits.drop_duplicates(["response_id", "theme"])["theme"].value_counts()
    themes = sorted(counts.index[counts >= min_mentions])
    columns, groups, kinds, names = {}, [], [], []
    for theme in themes:  # a handful of themes
        mentioned = hits.loc[hits["theme"] == theme, "response_id"].astype("string")
        columns[theme] = ids.isin(mentioned).astype(float).to_numpy()
        groups.append([theme])
        kinds.append("theme")
        names.append(theme)
    if accounts is not None:
        extra = [a for a in attributes if a not in rows.columns and a in accounts.columns]
        info = accounts.set_index(accounts["account_id"].astype(object))
        for col in extra:
            rows[col] = rows["account_id"].astype(object).map(info[col]).to_numpy()
    for attr in attributes:
        if attr not in rows.columns:
            raise ParameterError(
                f"key_drivers: attribute {attr!r} is neither a responses nor an accounts column; "
                f"pass accounts= or drop it from attributes"
            )
        values = rows[attr]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            columns[attr] = values.astype(float).to_numpy()
            groups.append([attr])
        else:
            levels = values.astype("string").fillna("(missing)")
            reference = levels.value_counts().index[0]  # the most common level
            dummies = pd.get_dummies(levels, prefix=attr, prefix_sep="=", dtype=float)
            dummies = dummies.drop(columns=f"{attr}={reference}")
            columns.update({c: dummies[c].to_numpy() for c in dummies.columns})
            groups.append(list(dummies.columns))
        kinds.append("attribute")
        names.append(attr)
    return pd.DataFrame(columns), groups, kinds, names


def key_drivers(
    responses: pd.DataFrame,
    *,
    tagged: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    attributes: tuple[str, ...] = ("segment",),
    commented_only: bool = True,
    min_mentions: int = 10,
    confidence: float = 0.95,
) -> KeyDrivers:
    """Which themes and attributes move the score most.

    Parameters
    ----------
    responses
        ``response_id, account_id, score, comment`` (and any attribute columns).
    tagged
        Output of ``fl.tag_themes``.
    accounts
        Source of account attributes (``account_id`` plus the ``attributes`` columns).
    attributes
        Columns of ``responses`` or ``accounts``: text columns enter as dummies (reference = the
        most common level), numeric ones as they are. Each attribute is one driver.
    commented_only
        Use only responses with a comment (default), so that "no theme" means "commented on
        something else" rather than "said nothing". With ``False`` every response is used and a
        ``comment_left`` indicator is added as a driver for the same reason.
    min_mentions
        Themes mentioned in fewer responses are left out (their estimates would be noise).

    Returns
    -------
    KeyDrivers

    Notes
    -----
    score = b0 + sum_t b_t [theme t mentioned] + attribute terms + e, by OLS with HC3
    heteroscedasticity-robust standard errors (MacKinnon & White 1985). Importance is the exact
    Shapley/LMG share of R^2 (:func:`shapley_r2`). Verdict: "be great" for the most important
    drivers that together account for 80% of the explained R^2 *and* whose effect is significant
    at 1 - confidence (theme: its robust t-test; attribute: robust Wald test of all its terms);
    "good enough" for the rest: improving them is unlikely to move the score much. Themes
    are topics, not sentiment; a theme praised by promoters and criticised by detractors can show
    a small coefficient yet a real importance. Associations, not causes.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 400
    >>> slow = rng.random(n) < 0.3
    >>> resp = pd.DataFrame({"response_id": [f"r{i}" for i in range(n)], "account_id": "a",
    ...     "comment": "x", "score": np.clip(np.round(8 - 3 * slow + rng.normal(0, 1, n)), 0, 10)})
    >>> tagged = pd.DataFrame({"response_id": resp["response_id"][slow], "theme": "performance"})
    >>> kd = key_drivers(resp, tagged=tagged, attributes=())
    >>> row = kd.coefficients.iloc[0]
    >>> row["term"], round(float(row["coef"]), 1), bool(row["ci_low"] < -3 < row["ci_high"])
    ('performance', -2.8, True)
    """
    import statsmodels.api as sm
    require_columns(responses, ["response_id", "account_id", "score", "comment"], table="responses", where="key_drivers")
    require_columns(tagged, ["response_id", "theme"], table="tagged", where="key_drivers")
    rows = responses.loc[responses["score"].notna()]
    commented = normalize_text(rows["comment"]) != ""
    if commented_only:
        rows = rows.loc[commented]
    else:  # themes then compare with "commented on something else", not with "said nothing"
        rows = rows.assign(comment_left=commented.astype(float))
        attributes = ("comment_left", *attributes)
    x, groups, kinds, names = _design(rows, tagged, accounts, list(attributes), min_mentions)
    if x.shape[1] == 0:
        raise InsufficientDataError(
            f"key_drivers: no theme has {min_mentions} mentions and no attribute was given; "
            "lower min_mentions or add attributes"
        )
    y = rows["score"].astype(float).to_numpy()
    if len(y) < 10 * (x.shape[1] + 1):
        warnings.warn(f"key_drivers: {len(y)} responses for {x.shape[1]} terms (fewer than 10 per term); "
                      "intervals are wide and importance unstable", SmallSampleWarning, stacklevel=2)
    fit = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(cov_type="HC3")
    ci = fit.conf_int(alpha=1 - confidence)
    driver_of = {c: names[g] for g, cols in enumerate(groups) for c in cols}
    terms = list(x.columns)
    coefficients = pd.DataFrame({
        "term": terms, "driver": [driver_of[t] for t in terms],
        "coef": fit.params[terms].to_numpy(), "std_error": fit.bse[terms].to_numpy(),
        "ci_low": ci.loc[terms, 0].to_numpy(), "ci_high": ci.loc[terms, 1].to_numpy(),
        "p_value": fit.pvalues[terms].to_numpy(), "prevalence": x.mean().to_numpy(),
    })
    index = {c: i for i, c in enumerate(terms)}
    phi = shapley_r2(x.to_numpy(), y, [[index[c] for c in cols] for cols in groups])
    importance = pd.DataFrame({"driver": names, "kind": kinds, "shapley_r2": phi})
    importance["importance"] = phi / phi.sum() if phi.sum() > 0 else np.nan
    theme_rows = coefficients.set_index("term")
    for col in ("prevalence", "coef", "ci_low", "ci_high"):
        importance[col] = [theme_rows.at[d, col] if k == "theme" else np.nan for d, k in zip(names, kinds)]
    importance["p_value"] = [_group_p_value(fit, cols, terms) for cols in groups]
    importance = importance.sort_values("shapley_r2", ascending=False, ignore_index=True)
    before = importance["importance"].cumsum().shift(fill_value=0.0)
    great = (before < 0.8) & (importance["p_value"] < 1 - confidence)
    importance["verdict"] = np.where(great, "be great", "good enough")
    return KeyDrivers(coefficients=coefficients, importance=importance, r_squared=float(fit.rsquared),
                      n=int(len(y)), summary=_summary(importance, fit.rsquared, len(y), confidence))


def _group_p_value(fit, cols: list[str], terms: list[str]) -> float:
    """Robust Wald test that all of a driver's terms are zero (one term: its t-test)."""
    if len(cols) == 1:
        return float(fit.pvalues[cols[0]])
    restriction = np.zeros((len(cols), len(terms) + 1))
    for row, col in enumerate(cols):
        restriction[row, 1 + terms.index(col)] = 1.0
    return float(fit.wald_test(restriction, scalar=True).pvalue)


def _summary(importance: pd.DataFrame, r2: float, n: int, confidence: float) -> str:
    lines = [f"Drivers explain {r2:.0%} of the variation in {n} scores."]
    if not (importance["verdict"] == "be great").any():
        lines.append("No driver has a clear effect: good enough is enough everywhere measured.")
    for verdict, label in (("be great", "Be great at"), ("good enough", "Good enough is enough for")):
        part = importance.loc[importance["verdict"] == verdict]
        if len(part) == 0:
            continue
        items = []
        for _, d in part.iterrows():  # a handful of drivers
            text = f"{d['driver']} ({d['importance']:.0%} of the explained variation"
            if d["kind"] == "theme":
                text += (f"; comments on it score {d['coef']:+.1f} points, {100 * confidence:.0f}% CI "
                         f"{d['ci_low']:+.1f} to {d['ci_high']:+.1f}, in {d['prevalence']:.0%} of the responses")
            items.append(text + ")")
        lines.append(f"{label}: " + "; ".join(items) + ".")
    lines.append("These are associations in survey data, not causes.")
    return " ".join(lines)
