"""Customer-success capacity: book of business per CSM, headcount for a coverage target, the
daily outreach list, and a one-page call brief per account.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from feedback_lib._util.checks import require_columns
from feedback_lib._util.dates import parse_as_of
from feedback_lib._util.privacy import mask_contacts
from feedback_lib._util.stats import assign_band, band_edges
from feedback_lib.errors import ParameterError
from feedback_lib.revenue.mrr import current_mrr, mrr_on

__all__ = ["call_brief", "CallBrief", "csm_headcount", "csm_load", "outreach_list"]

UNASSIGNED = "(unassigned)"


def _book(accounts: pd.DataFrame, subscriptions: pd.DataFrame, as_of, func: str) -> pd.DataFrame:
    require_columns(accounts, ["account_id", "segment", "csm"], table="accounts", where=func)
    mrr = current_mrr(subscriptions, as_of=as_of, func=func)
    info = accounts.set_index(accounts["account_id"].astype(object))[["segment", "csm"]].astype(object)
    book = mrr.reset_index().join(info, on="account_id")
    book["csm"] = book["csm"].fillna(UNASSIGNED)
    book["segment"] = book["segment"].fillna("(none)")
    return book


def csm_load(accounts: pd.DataFrame, subscriptions: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """Paying accounts and MRR per CSM and segment on ``as_of``.

    Returns
    -------
    DataFrame
        ``csm, segment, accounts, mrr, share_of_csm_accounts``; accounts without a CSM appear
        under ``"(unassigned)"``.

    Examples
    --------
    >>> accts = pd.DataFrame({"account_id": ["a", "b", "c"], "segment": ["SMB", "SMB", "Enterprise"],
    ...     "csm": ["Li", "Li", None]})
    >>> subs = pd.DataFrame({"account_id": ["a", "b", "c"], "mrr": [100.0, 200, 5000],
    ...     "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT})
    >>> csm_load(accts, subs, as_of="2026-03-31")
                csm     segment  accounts     mrr  share_of_csm_accounts
    0  (unassigned)  Enterprise         1  5000.0                    1.0
    1            Li         SMB         2   300.0                    1.0
    """
    book = _book(accounts, subscriptions, parse_as_of(as_of), "csm_load")
    out = book.groupby(["csm", "segment"], as_index=False).agg(accounts=("account_id", "size"), mrr=("mrr", "sum"))
    out["share_of_csm_accounts"] = out["accounts"] / out.groupby("csm")["accounts"].transform("sum")
    return out


def csm_headcount(
    accounts: pd.DataFrame,
    subscriptions: pd.DataFrame,
    *,
    as_of,
    accounts_per_csm: dict[str, float],
    coverage: float | dict[str, float] = 1.0,
) -> pd.DataFrame:
    """CSM headcount needed per segment for a coverage target, against today's staffing.

    Parameters
    ----------
    accounts, subscriptions
        ``account_id, segment, csm``; subscriptions for the paying accounts on ``as_of``.
    accounts_per_csm
        Segment -> accounts one CSM can cover (e.g. ``{"Enterprise": 15, "SMB": 400}``).
    coverage
        Share of the segment's accounts to cover by a named CSM (one value or per segment).

    Returns
    -------
    DataFrame
        ``segment, accounts, mrr, coverage, covered_accounts`` (ceil(accounts * coverage)),
        ``accounts_per_csm, csms_needed`` (covered / accounts_per_csm, rounded up), ``csms_now``
        (full-time equivalents: each CSM split by the share of their accounts in the segment),
        ``gap`` (needed - now); a final ``All`` row.

    Examples
    --------
    >>> accts = pd.DataFrame({"account_id": list("abcde"), "segment": ["SMB"] * 4 + ["Enterprise"],
    ...     "csm": ["Li", "Li", "Li", "Bo", "Bo"]})
    >>> subs = pd.DataFrame({"account_id": list("abcde"), "mrr": [100.0] * 4 + [5000],
    ...     "start_date": pd.Timestamp("2025-01-01"), "end_date": pd.NaT})
    >>> hc = csm_headcount(accts, subs, as_of="2026-03-31", accounts_per_csm={"SMB": 3, "Enterprise": 1})
    >>> hc[["segment", "accounts", "csms_needed", "csms_now", "gap"]]
          segment  accounts  csms_needed  csms_now  gap
    0  Enterprise         1            1       0.5  0.5
    1         SMB         4            2       1.5  0.5
    2         All         5            3       2.0  1.0
    """
    book = _book(accounts, subscriptions, parse_as_of(as_of), "csm_headcount")
    out = book.groupby("segment", as_index=False).agg(accounts=("account_id", "size"), mrr=("mrr", "sum"))
    missing = sorted(set(out["segment"]) - set(accounts_per_csm))
    if missing:
        raise ParameterError(f"csm_headcount: accounts_per_csm lacks segment(s) {missing}; give a capacity for each")
    cov = coverage if isinstance(coverage, dict) else {s: coverage for s in out["segment"]}
    out["coverage"] = out["segment"].map(cov).astype(float)
    out["covered_accounts"] = np.ceil(out["accounts"] * out["coverage"]).astype(int)
    out["accounts_per_csm"] = out["segment"].map(accounts_per_csm).astype(float)
    out["csms_needed"] = np.ceil(out["covered_accounts"] / out["accounts_per_csm"]).astype(int)
    named = book.loc[book["csm"] != UNASSIGNED]
    share = named.groupby(["csm", "segment"]).size() / named.groupby("csm").size()
    out["csms_now"] = out["segment"].map(share.groupby(level="segment").sum()).fillna(0.0)
    out["gap"] = out["csms_needed"] - out["csms_now"]
    total = {"segment": "All", "accounts": out["accounts"].sum(), "mrr": out["mrr"].sum(),
             "coverage": out["covered_accounts"].sum() / max(out["accounts"].sum(), 1),
             "covered_accounts": out["covered_accounts"].sum(), "accounts_per_csm": np.nan,
             "csms_needed": out["csms_needed"].sum(), "csms_now": out["csms_now"].sum(), "gap": out["gap"].sum()}
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)


TOUCH_BUCKETS = ("never or > 365 days", "181-365 days", "91-180 days", "31-90 days")
DEFAULT_STRATUM_WEIGHTS = {
    "health": {"red": 4.0, "yellow": 2.0, "green": 1.0},
    "touch": dict(zip(TOUCH_BUCKETS, (3.0, 2.0, 1.5, 1.0))),
}


def outreach_list(
    health: pd.DataFrame,
    *,
    accounts: pd.DataFrame,
    conversations: pd.DataFrame,
    as_of,
    seed: int,
    per_day: int = 5,
    days: int = 1,
    min_days_since_touch: int = 30,
    mrr_bands: int = 5,
    weights: dict[str, dict[str, float]] | None = None,
) -> pd.DataFrame:
    """Daily outreach list per CSM ("five a day"), sampled across MRR band, health band and days
    since the last touch.

    Parameters
    ----------
    health
        Output of ``fl.health_score`` on ``as_of`` (``account_id, mrr, health, band``).
    accounts
        ``account_id, name, csm``.
    conversations
        ``account_id, held_on``: the last conversation is the last touch.
    as_of
        The day the list is for.
    seed
        Seed of the draw.
    per_day, days
        Accounts per CSM per day, and number of working days to plan (no account twice).
    min_days_since_touch
        Accounts touched more recently are not listed.
    mrr_bands
        Number of equal-count MRR bands (band k has weight k: larger accounts more often).
    weights
        ``{"health": {band: w}, "touch": {bucket: w}}`` overriding
        :data:`DEFAULT_STRATUM_WEIGHTS`.

    Returns
    -------
    DataFrame
        ``csm, day, account_id, name, mrr, mrr_band, health, band, days_since_touch,
        touch_bucket, weight, reason``, by CSM and day.

    Notes
    -----
    Each account belongs to a stratum (MRR band x health band x touch bucket) with weight
    w = mrr_band * w_health * w_touch. Each CSM's ``per_day * days`` accounts are drawn without
    replacement with probability proportional to w by the Efraimidis & Spirakis (2006) method
    (key = U ** (1 / w), largest keys), so every stratum is reached and the riskiest, largest,
    longest-untouched accounts come up most often; a seeded ``numpy.random.default_rng``.

    Examples
    --------
    >>> h = pd.DataFrame({"account_id": list("abcdef"), "mrr": [100.0, 200, 300, 400, 500, 600],
    ...     "health": [30.0, 60, 90, 40, 80, 95], "band": ["red", "yellow", "green", "red", "green", "green"]})
    >>> accts = pd.DataFrame({"account_id": list("abcdef"), "name": list("ABCDEF"), "csm": ["Li"] * 6})
    >>> conv = pd.DataFrame({"account_id": ["f"], "held_on": pd.to_datetime(["2026-03-20"])})
    >>> out = outreach_list(h, accounts=accts, conversations=conv, as_of="2026-03-31", seed=7, per_day=2, days=2)
    >>> len(out), "f" in set(out["account_id"]), out["day"].tolist()
    (4, False, [1, 1, 2, 2])
    """
    require_columns(health, ["account_id", "mrr", "health", "band"], table="health", where="outreach_list")
    require_columns(accounts, ["account_id", "name", "csm"], table="accounts", where="outreach_list")
    as_of = parse_as_of(as_of)
    w = {k: dict(v) for k, v in DEFAULT_STRATUM_WEIGHTS.items()}
    for key, override in (weights or {}).items():
        w[key].update(override)
    pool = health[["account_id", "mrr", "health", "band"]].astype({"account_id": object, "band": object}).copy()
    info = accounts.set_index(accounts["account_id"].astype(object))[["name", "csm"]]
    pool = pool.join(info, on="account_id")
    pool["csm"] = pool["csm"].astype(object).fillna(UNASSIGNED)
    past = conversations.loc[conversations["held_on"] <= as_of]
    last = past.groupby(past["account_id"].astype(object))["held_on"].max()
    pool["days_since_touch"] = (as_of - pool["account_id"].map(last).astype("datetime64[ns]")).dt.days.astype(float)
    pool = pool.loc[~(pool["days_since_touch"] < min_days_since_touch)].reset_index(drop=True)
    pool["mrr_band"] = assign_band(pool["mrr"], band_edges(pool["mrr"], bands=mrr_bands))
    d = pool["days_since_touch"]
    pool["touch_bucket"] = np.select([d.isna() | (d > 365), d > 180, d > 90], TOUCH_BUCKETS[:3],
                                     default=TOUCH_BUCKETS[3])
    pool["weight"] = (pool["mrr_band"].clip(lower=1) * pool["band"].map(w["health"]).fillna(1.0)
                      * pool["touch_bucket"].map(w["touch"]).fillna(1.0))
    rng = np.random.default_rng(seed)
    pool["key"] = np.log(rng.random(len(pool))) / pool["weight"].to_numpy()
    pool = pool.sort_values(["csm", "key"], ascending=[True, False], ignore_index=True)
    pick = pool.groupby("csm").cumcount()
    out = pool.loc[pick < per_day * days].copy()
    out["day"] = pick[pick < per_day * days] // per_day + 1
    touched = np.where(out["days_since_touch"].isna(), "never spoken to",
                       "last spoken to " + out["days_since_touch"].fillna(0).astype(int).astype(str) + " days ago")
    out["reason"] = (out["band"].astype(str) + " health, MRR band " + out["mrr_band"].astype(str)
                     + f" of {mrr_bands}, " + touched)
    out = out.sort_values(["csm", "day", "weight", "account_id"], ascending=[True, True, False, True],
                          ignore_index=True)
    return out[["csm", "day", "account_id", "name", "mrr", "mrr_band", "health", "band", "days_since_touch",
                "touch_bucket", "weight", "reason"]]


@dataclass(frozen=True)
class CallBrief:
    """One-page brief for a call with an account (see :func:`call_brief`)."""

    account_id: str
    name: str
    segment: str
    csm: str
    owner: str
    contact: str
    as_of: pd.Timestamp
    tenure_months: int
    mrr: float
    mrr_3m_ago: float
    mrr_12m_ago: float
    mrr_trend: str
    last_score: float
    last_responded_at: pd.Timestamp
    last_comment: str
    open_tickets: int
    open_ticket_lines: tuple[str, ...]
    last_conversation_on: pd.Timestamp
    last_conversation_by: str
    last_conversation_note: str
    competitors_mentioned: tuple[str, ...]
    health: float
    band: str

    def to_dict(self) -> dict:
        """The fields as a plain dict."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the fields."""
        return pd.DataFrame([self.to_dict()])

    def to_markdown(self) -> str:
        """The brief as a short markdown page."""
        def date(ts) -> str:
            return "never" if pd.isna(ts) else str(pd.Timestamp(ts).date())

        score = ("no response" if pd.isna(self.last_score)
                 else f"{self.last_score:.0f}/10 on {date(self.last_responded_at)}")
        health = "not scored" if pd.isna(self.health) else f"{self.health:.0f}/100 ({self.band})"
        lines = [
            f"# {self.name} ({self.account_id})", "",
            f"*Brief as of {date(self.as_of)}. Segment {self.segment}; CSM {self.csm}; owner {self.owner}; "
            f"contact {self.contact}.*", "",
            f"- **Tenure:** {self.tenure_months} months",
            f"- **MRR:** {self.mrr:,.0f} ({self.mrr_trend}; 3 months ago {self.mrr_3m_ago:,.0f}, "
            f"12 months ago {self.mrr_12m_ago:,.0f})",
            f"- **Health:** {health}",
            f"- **Last NPS:** {score}" + (f' - "{self.last_comment}"' if self.last_comment else ""),
            f"- **Open tickets:** {self.open_tickets}",
            *[f"  - {line}" for line in self.open_ticket_lines],
            f"- **Last conversation:** {date(self.last_conversation_on)}"
            + (f" with {self.last_conversation_by}: {self.last_conversation_note}"
               if self.last_conversation_by else ""),
        ]
        if self.competitors_mentioned:
            lines.append(f"- **Competitors mentioned:** {', '.join(self.competitors_mentioned)}")
        return "\n".join(lines) + "\n"


def _trend(now: float, before: float) -> str:
    if before <= 0:
        return "new in the last 3 months" if now > 0 else "not paying"
    change = now / before - 1
    return "flat over 3 months" if abs(change) < 0.005 else f"{change:+.0%} over 3 months"


def call_brief(
    dataset, *, account_id: str, as_of, health: pd.DataFrame | None = None, open_ticket_lines: int = 3
) -> CallBrief:
    """One-page call brief: tenure, MRR trend, last NPS and verbatim, open tickets, last
    conversation (and health, when a ``fl.health_score`` frame is given).

    Parameters
    ----------
    dataset
        A :class:`feedback_lib.Dataset`; only records dated on or before ``as_of`` are read.
    account_id
        The account.
    as_of
        Date of the brief.
    health
        Optional output of ``fl.health_score``.
    open_ticket_lines
        Open tickets listed (most severe first).

    Returns
    -------
    CallBrief
        ``to_markdown()`` gives the page, ``to_dict()`` the fields. The contact e-mail is masked.

    Examples
    --------
    >>> import feedback_lib as fl
    >>> ds = fl.generate_demo(seed=1, n_accounts=50, start="2024-01-01", end="2024-12-31")
    >>> brief = call_brief(ds, account_id="A0000001", as_of="2024-12-31")
    >>> brief.to_markdown().splitlines()[0].endswith("(A0000001)")
    True
    """
    as_of = parse_as_of(as_of)
    acc = dataset.accounts.loc[dataset.accounts["account_id"].astype(str) == str(account_id)]
    if len(acc) == 0:
        raise ParameterError(f"call_brief: account {account_id!r} is not in the accounts table")
    a = acc.iloc[0]
    subs = dataset.subscriptions.loc[dataset.subscriptions["account_id"].astype(str) == str(account_id)]
    points = [as_of, as_of - pd.DateOffset(months=3), as_of - pd.DateOffset(months=12)]
    mrr_now, mrr_3m, mrr_12m = mrr_on(subs, [str(account_id)] * 3, points) if len(subs) else (0.0, 0.0, 0.0)
    started = subs.loc[subs["start_date"] <= as_of, "start_date"].min()
    first = a["signup_date"] if pd.isna(started) and "signup_date" in acc.columns else started
    tenure = 0 if pd.isna(first) else (as_of.year - first.year) * 12 + as_of.month - first.month + 1

    def rows(table: str, date_col: str) -> pd.DataFrame:
        t = getattr(dataset, table)
        return t.loc[(t["account_id"].astype(str) == str(account_id)) & (t[date_col] <= as_of)].sort_values(date_col)

    resp = rows("responses", "responded_at")
    last_r = resp.iloc[-1] if len(resp) else None
    tick = rows("tickets", "opened_at")
    open_now = tick.loc[tick["closed_at"].isna() | (tick["closed_at"] > as_of)]
    order = open_now["severity"].astype(object).map({"critical": 0, "high": 1, "medium": 2, "low": 3}).fillna(4)
    shown = open_now.assign(_o=order.to_numpy()).sort_values(["_o", "opened_at"]).head(open_ticket_lines)
    lines = tuple(  # at most open_ticket_lines rows
        f"{t.ticket_id}: {t.severity} {t.category}, open {(as_of - t.opened_at).days} days"
        for t in shown.itertuples()
    )
    conv = rows("conversations", "held_on")
    last_c = conv.iloc[-1] if len(conv) else None
    mentioned = () if last_c is None or not isinstance(last_c["competitors_mentioned"], (list, tuple)) \
        else tuple(last_c["competitors_mentioned"])
    h = None
    if health is not None:
        match = health.loc[health["account_id"].astype(str) == str(account_id)]
        h = match.iloc[0] if len(match) else None
    email = pd.Series([a.get("contact_email", pd.NA)])

    def text(value) -> str:
        return "" if value is None or pd.isna(value) else str(value)

    return CallBrief(
        account_id=str(account_id), name=text(a.get("name")), segment=text(a.get("segment")),
        csm=text(a.get("csm")), owner=text(a.get("owner")), contact=text(mask_contacts(email).iloc[0]) or "none on file",
        as_of=as_of, tenure_months=int(tenure), mrr=float(mrr_now), mrr_3m_ago=float(mrr_3m),
        mrr_12m_ago=float(mrr_12m), mrr_trend=_trend(mrr_now, mrr_3m),
        last_score=math.nan if last_r is None else float(last_r["score"]),
        last_responded_at=pd.NaT if last_r is None else last_r["responded_at"],
        last_comment="" if last_r is None else text(last_r["comment"]),
        open_tickets=int(len(open_now)),
        open_ticket_lines=lines,
        last_conversation_on=pd.NaT if last_c is None else last_c["held_on"],
        last_conversation_by="" if last_c is None else text(last_c["executive"]),
        last_conversation_note="" if last_c is None else text(last_c.get("q4_our_performance")),
        competitors_mentioned=mentioned,
        health=math.nan if h is None else float(h["health"]), band="" if h is None else text(h["band"]),
    )
