"""A deterministic synthetic B2B subscription company with planted, documented effects.

``generate_demo`` fills the six canonical tables (:mod:`feedback_lib.io.schema`) and states the
planted values in ``Dataset.truth``, so every metric and model of the library can be checked
against a known answer.

The demo company's planted churn mechanism
------------------------------------------
Monthly discrete-time simulation over calendar months m (vectorised over accounts, a loop over
months). An account is at risk in month m when it paid at the end of month m - 1: from the month
after its signup month (and after a reactivation month) until it churns. It churns in month m with
probability

    h = base_monthly_hazard[segment] * detractor_hazard_ratio**D
        * ticket_burst_hazard_ratio**B * low_usage_hazard_ratio**U     (capped at 0.95)

with covariates observable in the exported tables, measured at the first day of month m:

- D = 1 if the account's most recent NPS response with ``responded_at`` before the first day of m
  has ``score <= 6`` (no response yet: D = 0);
- B = 1 if the account opened >= 3 tickets in the three previous calendar months (m-3 .. m-1);
- U = 1 if seat utilisation, ``sum(active_users) / sum(seats)`` over the usage weeks whose Monday
  falls in month m - 1, is below 0.4 (no usage week in m - 1: U = 0).

Targets: detractor_hazard_ratio 2.5, ticket_burst_hazard_ratio 1.8, low_usage_hazard_ratio 2.0;
base monthly hazard SMB 2.0%, Mid-Market 1.0%, Enterprise 0.5%. A latent per-account friction
state (a three-state Markov chain: calm / strained / frustrated, redrawn monthly with persistence)
lowers NPS scores, raises ticket counts (bursts) and lowers usage, so D, B and U are correlated
("death by a thousand cuts"); the hazard depends only on D, B, U and segment, so a Cox model with
time-varying D, B, U (+ segment) on a monthly account panel recovers the planted hazard ratios.

A churning account's subscriptions all end (``end_date`` exclusive) on one day from the 2nd to the
last of month m, so by the month-end convention (an account-month counts if a subscription is
active on the month's last day) month m has MRR 0 and is booked as churn in month m. Activity
(usage weeks, surveys, tickets) stops before that day. A churned account reactivates with
probability ``reactivation_rate`` 2-12 months later (if inside the range) with a new main
subscription, and is at risk again from the following month.

Other planted processes (rates in ``truth``): monthly expansion (price increase of the main
subscription, or a concurrent add-on subscription) and contraction (price cut, or ending an
add-on); a price change ends the current subscription and starts its successor the same day.
Each week a ``survey_share_per_week`` slice of active accounts is surveyed (one contact each) and
a ``response_rate`` share answers within the week. About one 4Q conversation a week per executive,
accounts drawn with probability proportional to sqrt(MRR) among the executive's own accounts; a
converted opportunity adds exactly ``opportunity_mrr`` (price change or add-on) 1-60 days later,
unless the account churned before. No expansion, contraction or conversation happens in an
account's signup, reactivation or churn month.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from feedback_lib.demo import vocabulary as txt
from feedback_lib.demo.engine import Calendar, Design, Simulation
from feedback_lib.errors import ParameterError
from feedback_lib.io.dataset import Dataset
from feedback_lib.io.schema import SCHEMAS, canonical_dtype

__all__ = ["generate_demo"]

_DESIGN = Design()
# Expected share of MRR held by the top 5% of paying accounts at the end of the default range,
# calibrated once by simulating 200,000 accounts (0.54-0.55 over three seeds); realised values at
# 2,000 accounts have a standard deviation of about 0.025 across seeds.
_TOP5_MRR_SHARE = 0.55

_DEFINITIONS = {
    "top5_mrr_share": "design share of the MRR running on the end date held by the top 5% of paying "
    "accounts (calibrated for the default range)",
    "competitor_mention_rate": "probability that a 4Q conversation names at least one competitor",
    "detractor_hazard_ratio": "monthly churn hazard multiplier when D = 1",
    "ticket_burst_hazard_ratio": "monthly churn hazard multiplier when B = 1",
    "low_usage_hazard_ratio": "monthly churn hazard multiplier when U = 1",
    "base_monthly_hazard": "monthly churn probability by segment when D = B = U = 0",
    "hazard_cap": "upper cap of the monthly churn probability",
    "D": "1 if the latest NPS response dated before the month's first day has score <= 6, else 0",
    "B": "1 if the account opened >= 3 tickets in the three previous calendar months, else 0",
    "U": "1 if sum(active_users) / sum(seats) over the usage weeks whose Monday is in month m - 1 "
    "is < 0.4, else 0 (also 0 without such weeks)",
    "at_risk": "an account is at risk in month m if it paid at the end of month m - 1",
    "response_rate": "probability that a surveyed contact answers",
    "surveys_sent": "realised number of survey invitations sent",
    "survey_share_per_week": "share of active accounts surveyed each week (one contact each)",
    "expansion_rate_monthly": "monthly probability that an active account expands",
    "contraction_rate_monthly": "monthly probability that an active account contracts",
    "reactivation_rate": "probability that a churned account comes back 2-12 months later",
    "opportunity_rate": "probability that a 4Q conversation records an opportunity_mrr",
    "opportunity_conversion_rate": "probability that an opportunity becomes an expansion of exactly "
    "opportunity_mrr (lost if the account churns first)",
    "opportunity_window_days": "a converted opportunity is booked 1 to this many days after the conversation",
    "detractor_max_score": "highest NPS score that counts as a detractor in D",
    "ticket_burst_min_tickets": "tickets opened in the window that make B = 1",
    "ticket_burst_window_months": "calendar months before month m counted for B",
    "low_usage_threshold": "seat utilisation below which U = 1",
    "themes": "comment theme keys; every template of a theme contains its keyword",
    "theme_keywords": "keyword of each theme per language (en, fi, zh), case-insensitive",
    "executives": "executive sponsors: account owners and 4Q conversation holders",
    "competitors": "competitor names that conversations may mention",
    "segments": "customer segments",
    "segment_shares": "design share of accounts per segment",
    "seed": "random seed of the generator",
    "n_accounts": "number of accounts",
    "start": "first day of the simulated range",
    "end": "last day of the simulated range",
}


def generate_demo(
    *,
    seed: int = 42,
    n_accounts: int = 2000,
    start: str = "2023-10-01",
    end: str = "2026-09-30",
    usage_history_weeks: int | None = None,
) -> Dataset:
    """Generate the deterministic demo company.

    Parameters
    ----------
    seed
        Seed of the one ``numpy.random.default_rng`` stream; same arguments give identical frames.
    n_accounts
        Accounts to create; signup dates spread over ``[start, end - 1 month]`` with 40% yearly
        growth. Segments SMB / Mid-Market / Enterprise about 60 / 30 / 10%.
    start, end
        First and last day of the simulated range (ISO dates).
    usage_history_weeks
        ``None`` keeps one usage row per active account and week for the whole range; an int keeps
        only the last that many weeks (the rest is simulated, not returned), for large benchmarks.
        The other tables do not depend on it.

    Returns
    -------
    Dataset
        The six canonical tables (``feedback_lib.io.schema`` columns and dtypes), ``truth`` (a
        JSON-serialisable dict of the design values, see the module docstring and
        ``truth["definitions"]``) and ``source = "demo(seed=..., n_accounts=...)"``.

    Notes
    -----
    The churn hazard is a discrete-time proportional-hazards model (Cox 1972, *Regression models
    and life-tables*) with time-varying covariates D, B, U; the module docstring states it in full.

    Examples
    --------
    >>> demo = generate_demo(seed=1, n_accounts=300, start="2024-01-01", end="2024-12-31")
    >>> demo.row_counts()["accounts"], demo.truth["detractor_hazard_ratio"]
    (300, 2.5)
    >>> bool(demo.subscriptions["account_id"].isin(demo.accounts["account_id"]).all())
    True
    """
    t0, t1 = _check_arguments(seed, n_accounts, start, end, usage_history_weeks)
    cal = Calendar.from_dates(t0, t1)
    keep_from = cal.start if usage_history_weeks is None else int(cal.mondays[-usage_history_weeks])
    sim = Simulation(_DESIGN, cal, n_accounts, np.random.default_rng(seed), keep_from).run()
    account_ids = _ids("A", np.arange(1, n_accounts + 1), 7)
    frames = {
        "accounts": _accounts(sim, account_ids),
        "subscriptions": _subscriptions(sim, account_ids),
        "responses": _responses(sim, account_ids),
        "conversations": _conversations(sim, account_ids),
        "tickets": _tickets(sim, account_ids),
        "usage": _usage(sim, account_ids),
    }
    frames = {name: _canonical(name, frame) for name, frame in frames.items()}
    truth = _truth(seed, n_accounts, t0, t1, sim.surveys_sent)
    return Dataset(**frames, truth=truth, source=f"demo(seed={seed}, n_accounts={n_accounts})")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_arguments(seed, n_accounts, start, end, usage_history_weeks) -> tuple[pd.Timestamp, pd.Timestamp]:
    if not (_is_int(seed) and seed >= 0):
        raise ParameterError(f"generate_demo: seed must be a non-negative integer, got {seed!r}")
    if not (_is_int(n_accounts) and n_accounts >= 1):
        raise ParameterError(f"generate_demo: n_accounts must be a positive integer, got {n_accounts!r}")
    try:
        t0, t1 = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    except ValueError as exc:
        raise ParameterError(
            f"generate_demo: start and end must be ISO dates like '2023-10-01', got {start!r} and "
            f"{end!r}"
        ) from exc
    if t1 < t0 + pd.DateOffset(months=2):
        raise ParameterError(
            f"generate_demo: end ({t1.date()}) must be at least two months after start ({t0.date()}); "
            "pass a later end"
        )
    n_weeks = len(Calendar.from_dates(t0, t1).mondays)
    weeks = usage_history_weeks
    if weeks is not None and not (_is_int(weeks) and 1 <= weeks <= n_weeks):
        raise ParameterError(
            f"generate_demo: usage_history_weeks must be None or an integer from 1 to {n_weeks} "
            f"(weeks in the range), got {usage_history_weeks!r}"
        )
    return t0, t1


def _truth(seed: int, n_accounts: int, start: pd.Timestamp, end: pd.Timestamp, surveys_sent: int) -> dict:
    d = asdict(_DESIGN)
    by_segment = dict(zip(txt.SEGMENTS, d["base_monthly_hazard"]))
    truth = {
        "top5_mrr_share": _TOP5_MRR_SHARE,
        "competitor_mention_rate": d["competitor_mention_rate"],
        "detractor_hazard_ratio": d["detractor_hazard_ratio"],
        "ticket_burst_hazard_ratio": d["ticket_burst_hazard_ratio"],
        "low_usage_hazard_ratio": d["low_usage_hazard_ratio"],
        "base_monthly_hazard": by_segment,
        "hazard_cap": d["hazard_cap"],
        "detractor_max_score": d["detractor_max_score"],
        "ticket_burst_min_tickets": d["ticket_burst_min_tickets"],
        "ticket_burst_window_months": d["ticket_burst_window_months"],
        "low_usage_threshold": d["low_usage_threshold"],
        "response_rate": d["response_rate"],
        "surveys_sent": int(surveys_sent),
        "survey_share_per_week": d["survey_share_per_week"],
        "expansion_rate_monthly": d["expansion_rate_monthly"],
        "contraction_rate_monthly": d["contraction_rate_monthly"],
        "reactivation_rate": d["reactivation_rate"],
        "opportunity_rate": d["opportunity_rate"],
        "opportunity_conversion_rate": d["opportunity_conversion_rate"],
        "opportunity_window_days": d["opportunity_window_days"],
        "themes": list(txt.THEMES),
        "theme_keywords": {k: dict(v) for k, v in txt.THEME_KEYWORDS.items()},
        "executives": list(txt.EXECUTIVES),
        "competitors": list(txt.COMPETITORS),
        "segments": list(txt.SEGMENTS),
        "segment_shares": dict(zip(txt.SEGMENTS, d["segment_shares"])),
        "seed": int(seed),
        "n_accounts": int(n_accounts),
        "start": str(start.date()),
        "end": str(end.date()),
    }
    truth["definitions"] = {key: _DEFINITIONS[key] for key in [*truth, "D", "B", "U", "at_risk"]}
    return truth


# ---------------------------------------------------------------------------- frames
def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded ``numbers`` as a fixed-width unicode array."""
    if len(numbers) == 0:  # np.char.zfill cannot take an empty array
        return np.empty(0, f"U{len(prefix) + width}")
    return np.char.add(prefix, np.char.zfill(numbers.astype(f"U{width}"), width))


def _dates(days: np.ndarray) -> np.ndarray:
    """Day numbers to datetime64[ns]; negative day numbers become NaT."""
    out = np.asarray(days, np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    out[np.asarray(days) < 0] = np.datetime64("NaT")
    return out


def _canonical(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Cast to the canonical columns and dtypes of ``table`` (schema.canonical_dtype)."""
    spec = SCHEMAS[table]
    return pd.DataFrame({
        c.name: frame[c.name] if c.kind == "list" else pd.array(frame[c.name], dtype=canonical_dtype(c.kind))
        for c in spec.columns
    })


def _accounts(sim: Simulation, account_ids: np.ndarray) -> pd.DataFrame:
    rng = sim.rng
    return pd.DataFrame({
        "account_id": account_ids,
        "name": txt.company_names(rng, sim.region),
        "segment": txt.pick(txt.SEGMENTS, sim.segment),
        "region": txt.pick(txt.REGIONS, sim.region),
        "industry": txt.pick(txt.INDUSTRIES, sim.industry),
        "owner": txt.pick(txt.EXECUTIVES, sim.owner),
        "csm": txt.pick(txt.CSMS, sim.csm),
        "signup_date": _dates(sim.signup),
        "contact_email": txt.contact_emails(rng, np.arange(1, sim.n + 1)),
    })


def _subscriptions(sim: Simulation, account_ids: np.ndarray) -> pd.DataFrame:
    s, n = sim.subs, sim.subs.n
    return pd.DataFrame({
        "subscription_id": _ids("S", np.arange(1, n + 1), 8),
        "account_id": account_ids[s.account[:n]],
        "plan": txt.pick(txt.PLANS, s.plan[:n]),
        "start_date": _dates(s.start[:n]),
        "end_date": _dates(s.end[:n]),
        "mrr": s.mrr[:n],
    })


def _responses(sim: Simulation, account_ids: np.ndarray) -> pd.DataFrame:
    acc = sim.raw.get("responses", "account")
    score = sim.raw.get("responses", "score")
    contact = sim.raw.get("responses", "contact")
    n = len(acc)
    comment = txt.comments(sim.rng, score, sim.language[acc], theme_weights=np.asarray(sim.d.theme_weights))
    return pd.DataFrame({
        "response_id": _ids("R", np.arange(1, n + 1), 8),
        "account_id": account_ids[acc],
        "respondent": np.char.add(_ids("C", acc + 1, 7), np.char.add("-", contact.astype("U1"))),
        "responded_at": _dates(sim.raw.get("responses", "day")),
        "score": score,
        "comment": comment,
        "channel": txt.pick(txt.CHANNELS, sim.raw.get("responses", "channel")),
    })


def _conversations(sim: Simulation, account_ids: np.ndarray) -> pd.DataFrame:
    g = sim.raw.table("conversations", "account", "executive", "day", "mention", "two", "c1", "c2",
                      "opportunity_mrr", "friction", "q1", "q2", "q3", "q4")
    order = np.lexsort((g["executive"], g["day"]))  # chronological ids
    g = {k: v[order] for k, v in g.items()}
    n = len(order)

    def choose(options: tuple[str, ...], u: np.ndarray) -> np.ndarray:
        return txt.pick(options, (u * len(options)).astype(np.int64))

    opp = ~np.isnan(g["opportunity_mrr"])
    c1, c2 = txt.pick(txt.COMPETITORS, g["c1"]), txt.pick(txt.COMPETITORS, g["c2"])
    q3 = np.where(g["two"], c1 + " and " + c2 + txt.Q3_TWO,
                  np.where(g["mention"], c1 + choose(txt.Q3_ONE, g["q3"]), choose(txt.Q3_NONE, g["q3"])))
    q4_options = np.asarray(txt.Q4_BY_FRICTION, dtype=object)
    q4 = q4_options[g["friction"], (g["q4"] * q4_options.shape[1]).astype(np.int64)]
    q1 = np.where(opp, choose(txt.Q1_OPPORTUNITY, g["q1"]), choose(txt.Q1_PLAIN, g["q1"]))
    mentioned = [  # one fresh list per row; rows are bounded by executives x weeks, not accounts
        [a, b] if two else ([a] if one else [])
        for a, b, one, two in zip(c1.tolist(), c2.tolist(), g["mention"].tolist(), g["two"].tolist())
    ]
    return pd.DataFrame({
        "conversation_id": _ids("V", np.arange(1, n + 1), 7),
        "account_id": account_ids[g["account"]],
        "executive": txt.pick(txt.EXECUTIVES, g["executive"]),
        "held_on": _dates(g["day"]),
        "q1_their_business": q1,
        "q2_their_industry": choose(txt.Q2, g["q2"]),
        "q3_competitors": q3,
        "q4_our_performance": q4,
        "competitors_mentioned": pd.Series(mentioned, dtype=object),
        "opportunity_mrr": g["opportunity_mrr"],
    })


def _tickets(sim: Simulation, account_ids: np.ndarray) -> pd.DataFrame:
    g = sim.raw.table("tickets", "account", "opened", "closed", "severity", "category", "csat")
    order = np.lexsort((g["account"], g["opened"]))  # chronological ids
    g = {k: v[order] for k, v in g.items()}
    csat = pd.array(g["csat"], dtype="Int64")
    csat[g["csat"] == 0] = pd.NA
    return pd.DataFrame({
        "ticket_id": _ids("T", np.arange(1, len(order) + 1), 8),
        "account_id": account_ids[g["account"]],
        "opened_at": _dates(g["opened"]),
        "closed_at": _dates(g["closed"]),
        "severity": txt.pick(txt.SEVERITIES, g["severity"]),
        "category": txt.pick(txt.TICKET_CATEGORIES, g["category"]),
        "csat": csat,
    })


def _usage(sim: Simulation, account_ids: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": account_ids[sim.raw.get("usage", "account")],
        "week": _dates(sim.raw.get("usage", "week")),
        "active_users": sim.raw.get("usage", "active_users"),
        "seats": sim.raw.get("usage", "seats"),
    })
