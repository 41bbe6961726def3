"""The expansion that followed the opportunities found in executive conversations, against
matched accounts nobody spoke to.

Attribution is stated plainly: an expansion that came after a conversation *followed* it; nothing
here shows that the conversation *caused* it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import parse_as_of
from feedback_lib._util.stats import (
    Proportion,
    assign_band,
    band_edges,
    newcombe_difference,
    proportion_columns,
    proportion_or_nan,
)
from feedback_lib.errors import (
    InsufficientDataError,
    SmallSampleWarning,
)
from feedback_lib.revenue.mrr import mrr_on

__all__ = ["opportunity_outcomes", "OpportunityOutcomes"]


@dataclass(frozen=True)
class OpportunityOutcomes:
    """Opportunities found in conversations and the expansion that followed them.

    Attributes
    ----------
    opportunities
        One row per opportunity compared (complete window; still paying at its end when
        ``survivors_only``): ``conversation_id, account_id, executive,
        held_on, segment, opportunity_mrr, mrr_at_conversation, mrr_after_window, expansion_mrr,
        converted, controls, controls_converted, controls_match`` (``segment and MRR band``,
        ``segment only`` when no control shared the band, or ``none``).
    by_executive
        ``executive, opportunities, converted, share, ci_low, ci_high, opportunity_mrr,
        expansion_mrr_followed, controls, baseline_share, difference``.
    conversion, baseline
        Share of opportunities (with at least one control) followed by an expansion of at least
        their ``opportunity_mrr``; the same share among their matched controls.
    difference, ci_low, ci_high
        ``conversion - baseline`` with Newcombe's hybrid score interval.
    window_days, pending
        Window length; opportunities whose window had not ended by ``as_of`` (left out).
    churned
        Opportunities whose account no longer paid at the end of the window (left out of the
        comparison when ``survivors_only``).
    statement
        The result in plain words, including what it does not show.
    """

    opportunities: pd.DataFrame
    by_executive: pd.DataFrame
    conversion: Proportion
    baseline: Proportion
    difference: float
    ci_low: float
    ci_high: float
    window_days: int
    pending: int
    churned: int
    statement: str

    def to_frame(self) -> pd.DataFrame:
        """``by_executive`` with a final ``All`` row for the whole programme."""
        total = pd.DataFrame([{
            "executive": "All", "opportunities": len(self.opportunities),
            "converted": int(self.opportunities["converted"].sum()),
            "share": self.conversion.share, "ci_low": self.conversion.ci_low, "ci_high": self.conversion.ci_high,
            "opportunity_mrr": self.opportunities["opportunity_mrr"].sum(),
            "expansion_mrr_followed": self.opportunities["expansion_mrr"].sum(),
            "controls": self.baseline.n, "baseline_share": self.baseline.share, "difference": self.difference,
        }])
        return pd.concat([self.by_executive, total], ignore_index=True)


def _spoken_near(conversations: pd.DataFrame, account_id, date, window: pd.Timedelta) -> np.ndarray:
    """True where the account had a conversation within ``window`` of ``date`` (either side)."""
    probe = pd.DataFrame({"account_id": np.asarray(account_id, dtype=object), "date": pd.to_datetime(date),
                          "_row": np.arange(len(date))}).sort_values("date")
    held = pd.DataFrame({"account_id": conversations["account_id"].astype(object),
                         "held_on": conversations["held_on"]}).dropna().sort_values("held_on")
    near = pd.merge_asof(probe, held, left_on="date", right_on="held_on", by="account_id", direction="nearest")
    out = np.zeros(len(probe), dtype=bool)
    out[near["_row"].to_numpy()] = ((near["held_on"] - near["date"]).abs() <= window).to_numpy()
    return out


def _peak_rise(subscriptions: pd.DataFrame, account_id, start, window: pd.Timedelta, mrr0: np.ndarray) -> np.ndarray:
    """Largest rise of the account's MRR above ``mrr0`` on any day in (start, start + window].

    MRR only rises on a subscription's start date, so those dates are the only ones checked.
    """
    points = pd.DataFrame({"account_id": np.asarray(account_id, dtype=object),
                           "start": pd.to_datetime(np.asarray(start)), "_row": np.arange(len(mrr0))})
    starts = pd.DataFrame({"account_id": subscriptions["account_id"].astype(object),
                           "day": subscriptions["start_date"]}).drop_duplicates()
    joined = points.merge(starts, on="account_id")
    joined = joined.loc[(joined["day"] > joined["start"]) & (joined["day"] <= joined["start"] + window)]
    peak = np.asarray(mrr0, dtype=float).copy()
    if len(joined):
        level = pd.Series(mrr_on(subscriptions, joined["account_id"], joined["day"])).groupby(
            joined["_row"].to_numpy()).max()
        peak[level.index.to_numpy()] = np.maximum(peak[level.index.to_numpy()], level.to_numpy())
    return peak - np.asarray(mrr0, dtype=float)


def _matched_controls(opps, accounts, subscriptions, conversations, *, window, k, bands, survivors_only, rng):
    """Up to ``k`` controls per opportunity: same segment, paying on the conversation date (and
    at the window's end if ``survivors_only``), no conversation within the window either side,
    and the same MRR band; only when no such account is found, any MRR band (``band_match``
    False). Outcome over the same window."""
    edges = band_edges(opps["mrr_at_conversation"], bands=bands)
    opp_band = assign_band(opps["mrr_at_conversation"], edges)
    # candidates: accounts of the segment whose first subscription started by the opportunity's date
    first = subscriptions.groupby(subscriptions["account_id"].astype(object))["start_date"].min()
    pool = accounts[["account_id", "segment"]].astype({"account_id": object, "segment": object})
    pool["first"] = pool["account_id"].map(first).astype("datetime64[ns]")
    pool = pool.dropna(subset=["first"]).sort_values(["segment", "first", "account_id"], ignore_index=True)
    start = np.zeros(len(opps), dtype=int)
    size = np.zeros(len(opps), dtype=int)
    for segment, idx in pool.groupby("segment").indices.items():  # a few segments
        mine = (opps["segment"] == segment).to_numpy()
        start[mine] = idx[0]
        size[mine] = np.searchsorted(pool["first"].to_numpy()[idx], opps["held_on"].to_numpy()[mine], side="right")
    draws = 20 * k  # candidates drawn per opportunity; about one in `bands` shares the band
    opp_row = np.repeat(np.flatnonzero(size > 0), draws)
    pick = start[opp_row] + np.floor(rng.random(len(opp_row)) * size[opp_row]).astype(int)
    cand = pd.DataFrame({"opp": opp_row, "account_id": pool["account_id"].to_numpy()[pick]})
    cand = cand.drop_duplicates(ignore_index=True)
    day = opps["held_on"].to_numpy()[cand["opp"].to_numpy()]
    cand["mrr0"] = mrr_on(subscriptions, cand["account_id"], day)
    paying = (cand["mrr0"] > 0).to_numpy()
    cand, day = cand.loc[paying].reset_index(drop=True), day[paying]
    cand = cand.loc[~_spoken_near(conversations, cand["account_id"], day, window)].reset_index(drop=True)
    day = opps["held_on"].to_numpy()[cand["opp"].to_numpy()]
    if survivors_only:
        alive = mrr_on(subscriptions, cand["account_id"], day + window) > 0
        cand, day = cand.loc[alive].reset_index(drop=True), day[alive]
    cand["band_match"] = assign_band(cand["mrr0"], edges) == opp_band[cand["opp"].to_numpy()]
    exact = cand.groupby("opp")["band_match"].transform("any")
    cand = cand.loc[cand["band_match"] | ~exact].reset_index(drop=True)
    cand = cand.loc[cand.groupby("opp").cumcount() < k].reset_index(drop=True)
    day = opps["held_on"].to_numpy()[cand["opp"].to_numpy()]
    expansion = _peak_rise(subscriptions, cand["account_id"], day, window, cand["mrr0"].to_numpy())
    cand["converted"] = expansion >= opps["opportunity_mrr"].to_numpy()[cand["opp"].to_numpy()] - 1e-9
    return cand


def opportunity_outcomes(
    conversations: pd.DataFrame,
    subscriptions: pd.DataFrame,
    *,
    accounts: pd.DataFrame,
    as_of,
    window_days: int = 90,
    controls_per_opportunity: int = 5,
    bands: int = 5,
    survivors_only: bool = True,
    seed: int = 0,
    confidence: float = 0.95,
) -> OpportunityOutcomes:
    """Opportunities found in conversations, the expansion MRR that followed within a window, and
    the same outcome for similar accounts nobody spoke to.

    Parameters
    ----------
    conversations
        ``conversation_id, account_id, executive, held_on, opportunity_mrr`` (NaN or 0 = none).
    subscriptions
        The subscriptions table (MRR on any date = sum over subscriptions running that day).
    accounts
        ``account_id, segment``.
    as_of
        Last day of data; opportunities whose window ends after it are left out (``pending``).
    window_days
        Window after the conversation in which an expansion counts.
    controls_per_opportunity
        Matched controls drawn per opportunity (fewer if the cell is small).
    bands
        Number of MRR bands (equal-count bands of the opportunities' MRR at conversation).
    survivors_only
        Compare only accounts still paying at the end of the window (opportunities and
        controls alike), so that churn, a separate outcome, does not dilute the expansion
        comparison; the opportunities lost to churn are counted in ``churned``.
    seed
        Seed of the control draw.

    Returns
    -------
    OpportunityOutcomes

    Notes
    -----
    For an opportunity found on day t at an account with MRR m(t): expansion = max over days d in
    (t, t + window_days] of m(d) - m(t), floored at 0 (the largest rise within the window, so an
    add-on that came and went, or a price cut in the same window, does not hide it); it
    *converted* when expansion >= opportunity_mrr. Controls are
    accounts of the same segment, paying on t in the same MRR band (when none of the accounts
    drawn shares the band: any band of the segment, flagged in ``controls_match``), with no
    conversation in [t - window_days, t + window_days]; their outcome is the same rule over the
    same dates with the
    opportunity's ``opportunity_mrr`` as threshold. With ``survivors_only`` both groups are
    restricted to accounts still paying on t + window_days. conversion - baseline estimates the extra
    conversion that *followed* opportunities; because executives choose whom to call and growing
    accounts may invite the call, it is not a causal effect. Difference interval: Newcombe (1998)
    method 10, treating the samples as independent.

    Examples
    --------
    >>> accts = pd.DataFrame({"account_id": ["a", "b", "c"], "segment": "SMB"})
    >>> subs = pd.DataFrame({"account_id": ["a", "a", "b", "c"], "mrr": [100.0, 50, 100, 100],
    ...     "start_date": pd.to_datetime(["2025-01-01", "2025-02-10", "2025-01-01", "2025-01-01"]),
    ...     "end_date": pd.NaT})
    >>> conv = pd.DataFrame({"conversation_id": ["v1"], "account_id": ["a"], "executive": ["CEO"],
    ...     "held_on": pd.to_datetime(["2025-02-01"]), "opportunity_mrr": [50.0]})
    >>> out = opportunity_outcomes(conv, subs, accounts=accts, as_of="2025-12-31", window_days=30)
    >>> out.conversion.share, out.baseline.share, out.baseline.n
    (1.0, 0.0, 2)
    """
    require_columns(
        conversations, ["conversation_id", "account_id", "executive", "held_on", "opportunity_mrr"],
        table="conversations", where="opportunity_outcomes",
    )
    require_columns(accounts, ["account_id", "segment"], table="accounts", where="opportunity_outcomes")
    as_of = parse_as_of(as_of)
    window = pd.Timedelta(days=window_days)
    found = conversations.loc[(conversations["opportunity_mrr"] > 0) & (conversations["held_on"] <= as_of)]
    complete = found["held_on"] + window <= as_of
    opps = found.loc[complete, ["conversation_id", "account_id", "executive", "held_on", "opportunity_mrr"]]
    if len(opps) == 0:
        raise InsufficientDataError(
            f"opportunity_outcomes: no conversation with opportunity_mrr > 0 has a complete "
            f"{window_days}-day window by {as_of.date()}; use an earlier window or a later as_of"
        )
    opps = opps.astype({"account_id": object}).reset_index(drop=True)
    segment = accounts.set_index(accounts["account_id"].astype(object))["segment"].astype(object)
    opps["segment"] = opps["account_id"].map(segment)
    opps["mrr_at_conversation"] = mrr_on(subscriptions, opps["account_id"], opps["held_on"])
    opps["mrr_after_window"] = mrr_on(subscriptions, opps["account_id"], opps["held_on"] + window)
    opps["expansion_mrr"] = _peak_rise(subscriptions, opps["account_id"], opps["held_on"], window,
                                       opps["mrr_at_conversation"].to_numpy())
    opps["converted"] = opps["expansion_mrr"] >= opps["opportunity_mrr"] - 1e-9
    churned = int((opps["mrr_after_window"] <= 0).sum())
    if survivors_only:
        opps = opps.loc[opps["mrr_after_window"] > 0].reset_index(drop=True)
    controls = _matched_controls(
        opps, accounts, subscriptions, conversations, window=window, k=controls_per_opportunity,
        bands=bands, survivors_only=survivors_only, rng=np.random.default_rng(seed),
    )
    per_opp = controls.groupby("opp").agg(size=("converted", "size"), sum=("converted", "sum"),
                                          band=("band_match", "all"))
    opps["controls"] = per_opp["size"].reindex(opps.index, fill_value=0).to_numpy()
    opps["controls_converted"] = per_opp["sum"].reindex(opps.index, fill_value=0).to_numpy()
    opps["controls_match"] = np.select(
        [opps["controls"] == 0, per_opp["band"].reindex(opps.index, fill_value=False).to_numpy()],
        ["none", "segment and MRR band"], default="segment only")
    matched = opps["controls"] > 0
    if (~matched).any():
        warnings.warn(
            f"opportunity_outcomes: {int((~matched).sum())} of {len(opps)} opportunities found no "
            f"control (an account of the same segment, paying, not spoken to) and are left out of "
            f"the comparison", SmallSampleWarning, stacklevel=2,
        )
    conversion = proportion_or_nan(opps.loc[matched, "converted"].sum(), int(matched.sum()), confidence=confidence)
    baseline = proportion_or_nan(opps["controls_converted"].sum(), int(opps["controls"].sum()), confidence=confidence)
    difference, low, high = newcombe_difference(conversion, baseline)
    by_exec = opps.groupby("executive", sort=True).agg(
        opportunities=("converted", "size"), converted=("converted", "sum"),
        opportunity_mrr=("opportunity_mrr", "sum"), expansion_mrr_followed=("expansion_mrr", "sum"),
        controls=("controls", "sum"), controls_converted=("controls_converted", "sum"),
    ).reset_index()
    by_exec = pd.concat(
        [by_exec, proportion_columns(by_exec["converted"], by_exec["opportunities"], confidence=confidence)], axis=1
    )
    by_exec["baseline_share"] = by_exec["controls_converted"] / by_exec["controls"].replace(0, np.nan)
    by_exec["difference"] = by_exec["share"] - by_exec["baseline_share"]
    by_exec = by_exec[["executive", "opportunities", "converted", "share", "ci_low", "ci_high", "opportunity_mrr",
                       "expansion_mrr_followed", "controls", "baseline_share", "difference"]]
    survivors = f", {churned} lost to churn within the window and left out" if survivors_only else ""
    statement = (
        f"{conversion.n} opportunities found in conversations are compared ({len(found) - int(complete.sum())} "
        f"still pending{survivors}). {conversion.share:.0%} were followed by an expansion of at "
        f"least the opportunity's MRR within {window_days} days, against {baseline.share:.0%} of {baseline.n} "
        f"similar accounts nobody spoke to (same segment and, where possible, MRR band; same start "
        f"date): a difference of "
        f"{100 * difference:+.1f} points ({100 * low:+.1f} to {100 * high:+.1f}, {confidence:.0%}). This is "
        f"expansion that followed the conversations, not expansion they caused: executives choose whom to "
        f"call, and accounts that are already growing may be the ones that invite the conversation."
    )
    return OpportunityOutcomes(
        opportunities=opps, by_executive=by_exec, conversion=conversion, baseline=baseline,
        difference=difference, ci_low=low, ci_high=high, window_days=window_days,
        pending=int(len(found) - int(complete.sum())), churned=churned, statement=statement,
    )
