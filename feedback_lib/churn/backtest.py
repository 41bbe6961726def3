"""Out-of-time backtest of the churn model against a naive baseline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_lib._util.dates import (
    last_complete_month,
    month_end,
    month_index,
    parse_as_of,
)
from feedback_lib.churn.features import account_covariates
from feedback_lib.churn.lifetimes import _outcomes
from feedback_lib.churn.model import ChurnModel
from feedback_lib.errors import InsufficientDataError, ParameterError

__all__ = ["backtest", "BacktestResult"]


@dataclass(frozen=True)
class BacktestResult:
    """Scores at a cutoff compared with the churn that followed.

    Attributes
    ----------
    cutoff : Timestamp
        Last day of the history the model saw (the scoring snapshot).
    horizon_months : int
        Outcome window: churn in the ``horizon_months`` calendar months after the cutoff's month.
    n, events : int
        Accounts scored and accounts that churned in the window.
    metrics : DataFrame
        One row per scorer (``model``, ``baseline``): ``auc``, ``concordance`` (Harrell's C on
        the months to churn within the window), ``top_decile_lift`` (churn rate among the 10%
        highest scores / overall rate), ``top_decile_churn``, ``brier`` (mean squared error of
        the probabilities), ``predicted_rate`` (mean probability) and ``observed_rate``.
    calibration : DataFrame
        ``decile, n, predicted, observed, events``: the model's mean predicted probability
        against the observed churn share in each decile of its score (10 = highest).
    scores : DataFrame
        ``account_id, segment, mrr, churn_probability, baseline_probability, churned,
        duration_months``.
    baseline : str
        What the baseline is.
    """

    cutoff: pd.Timestamp
    horizon_months: int
    n: int
    events: int
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    scores: pd.DataFrame
    baseline: str

    def to_frame(self) -> pd.DataFrame:
        """The metrics table."""
        return self.metrics.copy()

    def metric(self, name: str, scorer: str = "model") -> float:
        """One metric of one scorer, e.g. ``result.metric("auc", "baseline")``."""
        return float(self.metrics.set_index("scorer").loc[scorer, name])


def backtest(
    dataset,
    *,
    cutoff,
    horizon_months: int = 3,
    window_months: int = 12,
    model: ChurnModel | None = None,
) -> BacktestResult:
    """Fit on history before ``cutoff``, score accounts paying at it, compare with what happened next.

    Parameters
    ----------
    dataset
        A :class:`feedback_lib.Dataset` whose records run at least ``horizon_months`` past the
        cutoff.
    cutoff
        Last day of the history the model may use; its month should be complete (a month end).
    horizon_months
        Outcome window in calendar months after the cutoff's last complete month.
    window_months
        Follow-up of the training landmark (see :class:`ChurnModel`).
    model
        An unfitted :class:`ChurnModel` with custom settings; default ``ChurnModel(window_months=...)``.

    Returns
    -------
    BacktestResult

    Notes
    -----
    Baseline: the segment base rate, ``1 - KM_segment(h)`` estimated on the same training
    landmark, i.e. what a team predicting churn from the segment alone would say. AUC is the
    Mann-Whitney probability that a churner outranks a stayer (ties count one half; Hanley &
    McNeil 1982); concordance is Harrell's C (Harrell et al. 1982) via lifelines; in the top
    decile, accounts tied at the cut count in proportion, so a coarse score is not flattered by
    the order of the rows.

    With a few hundred accounts (a few dozen churn events) the model's many covariates are noisy
    and it may not beat the baseline; the backtest says so rather than hides it.

    Examples
    --------
    >>> import feedback_lib as fl
    >>> ds = fl.generate_demo(seed=42, n_accounts=2000)
    >>> bt = backtest(ds, cutoff="2026-06-30", horizon_months=3)
    >>> bt.metrics["scorer"].tolist(), bt.n == len(bt.scores)
    (['model', 'baseline'], True)
    """
    cutoff = parse_as_of(cutoff, where="backtest")
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise ParameterError(f"backtest: horizon_months must be a whole number >= 1, got {horizon_months!r}")
    end_m = last_complete_month(cutoff)
    outcome_end = month_end(end_m + horizon_months)
    last_seen = _data_end(dataset)
    if last_seen is None or month_index(last_seen) < end_m + horizon_months:
        raise ParameterError(
            f"backtest: the outcome window runs to {outcome_end.date()} but the data's latest record is "
            f"{None if last_seen is None else last_seen.date()}; pick a cutoff at least {horizon_months} "
            "months before the end of the data."
        )
    model = ChurnModel(window_months=window_months) if model is None else model
    model.fit(dataset, as_of=cutoff)
    snap = month_end(end_m)
    cov = account_covariates(dataset, as_of=snap)
    if len(cov) == 0:
        raise InsufficientDataError(f"backtest: no account is paying at {snap.date()}.")
    prob = model.predict_churn_probability(cov, horizon_months=horizon_months).to_numpy()
    base = _segment_rates(model, horizon_months)
    base_prob = cov["segment"].astype(str).map(base).fillna(base["__all__"]).to_numpy(dtype=float)
    # the baseline and the model see the same accounts; the baseline's ties are split evenly
    duration, event = _outcomes(dataset, cov["account_id"], start_m=end_m, end_m=end_m + horizon_months,
                                as_of=outcome_end)
    scores = pd.DataFrame(
        {
            "account_id": cov["account_id"].to_numpy(),
            "segment": cov["segment"].to_numpy(),
            "mrr": cov["mrr"].to_numpy(),
            "churn_probability": prob,
            "baseline_probability": base_prob,
            "churned": event.astype(bool),
            "duration_months": duration.astype(int),
        }
    )
    if event.sum() == 0 or event.sum() == len(event):
        raise InsufficientDataError(
            f"backtest: {int(event.sum())} of {len(event)} accounts churned in the {horizon_months} months "
            f"after {snap.date()}; AUC and lift need both churners and stayers. Use a longer horizon_months."
        )
    metrics = pd.DataFrame(
        [_metrics("model", prob, event, duration), _metrics("baseline", base_prob, event, duration)]
    )
    calibration = _calibration(prob, event)
    return BacktestResult(
        cutoff=snap,
        horizon_months=int(horizon_months),
        n=len(scores),
        events=int(event.sum()),
        metrics=metrics,
        calibration=calibration,
        scores=scores,
        baseline=f"segment base rate: share churning within {horizon_months} months by segment (Kaplan-Meier at the training landmark)",
    )


def _data_end(dataset) -> pd.Timestamp | None:
    """Latest dated record of the activity tables (when the data stops)."""
    dates = [
        dataset.responses["responded_at"], dataset.tickets["opened_at"], dataset.usage["week"],
        dataset.conversations["held_on"], dataset.subscriptions["start_date"],
    ]
    latest = [d.max() for d in dates if len(d) and pd.notna(d.max())]
    return max(latest) if latest else None


def _segment_rates(model: ChurnModel, horizon: int) -> dict[str, float]:
    """Share churning within ``horizon`` months by segment at the training landmark (Kaplan-Meier)."""
    from lifelines import KaplanMeierFitter

    seg = model.snapshot_["segment"].astype(str).to_numpy()
    dur, ev = model.training_["duration"].to_numpy(), model.training_["event"].to_numpy()
    rates = {"__all__": float(1 - KaplanMeierFitter().fit(dur, ev).predict(float(horizon)))}
    for s in np.unique(seg):  # a handful of segments
        mask = seg == s
        rates[s] = float(1 - KaplanMeierFitter().fit(dur[mask], ev[mask]).predict(float(horizon)))
    return rates


def _auc(score: np.ndarray, event: np.ndarray) -> float:
    from scipy.stats import rankdata

    r = rankdata(score)
    n1 = event.sum()
    n0 = len(event) - n1
    return float((r[event == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _top_decile_churn(score: np.ndarray, event: np.ndarray) -> float:
    """Churn share among the top 10% of scores; accounts tied at the cut count in proportion."""
    k = int(np.ceil(0.1 * len(score)))
    order = np.argsort(-score, kind="stable")
    s, e = score[order], event[order]
    t = s[k - 1]  # score at the cut
    above, at = s > t, s == t
    share = (k - above.sum()) / at.sum()
    return float((e[above].sum() + share * e[at].sum()) / k)


def _metrics(name: str, p: np.ndarray, event: np.ndarray, duration: np.ndarray) -> dict:
    from lifelines.utils import concordance_index

    rate = event.mean()
    top = _top_decile_churn(p, event)
    return dict(
        scorer=name,
        auc=_auc(p, event),
        concordance=float(concordance_index(duration, -p, event)),
        top_decile_lift=top / rate,
        top_decile_churn=top,
        brier=float(np.mean((p - event) ** 2)),
        predicted_rate=float(p.mean()),
        observed_rate=float(rate),
    )


def _calibration(p: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    from scipy.stats import rankdata

    rank = rankdata(p, method="ordinal")
    decile = (rank - 1) * 10 // len(p) + 1
    df = pd.DataFrame({"decile": decile, "p": p, "e": event})
    out = df.groupby("decile").agg(n=("e", "size"), predicted=("p", "mean"), observed=("e", "mean"), events=("e", "sum"))
    return out.reset_index()
