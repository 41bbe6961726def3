"""The monthly simulation behind :func:`feedback_lib.demo.generate_demo`.

Private helper: the planted mechanism is documented in :mod:`feedback_lib.demo`. Days are int64
day numbers (days since 1970-01-01); every loop runs over months or weeks, never over accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from feedback_lib.demo import vocabulary as txt

__all__: list[str] = []


@dataclass(frozen=True)
class Design:
    """Design parameters of the demo company (monthly rates unless stated)."""

    segment_shares: tuple[float, ...] = (0.6, 0.3, 0.1)
    region_shares: tuple[float, ...] = (0.35, 0.25, 0.25, 0.15)
    base_monthly_hazard: tuple[float, ...] = (0.02, 0.01, 0.005)
    detractor_hazard_ratio: float = 2.5
    ticket_burst_hazard_ratio: float = 1.8
    low_usage_hazard_ratio: float = 2.0
    detractor_max_score: int = 6
    ticket_burst_min_tickets: int = 3
    ticket_burst_window_months: int = 3
    low_usage_threshold: float = 0.4
    hazard_cap: float = 0.95
    signup_growth_per_year: float = 0.4
    mrr_median: tuple[float, ...] = (250.0, 1200.0, 10000.0)
    mrr_sigma: tuple[float, ...] = (0.8, 0.8, 0.9)
    seat_price: tuple[float, ...] = (25.0, 20.0, 15.0)
    expansion_rate_monthly: float = 0.02
    contraction_rate_monthly: float = 0.01
    addon_share_of_expansions: float = 0.4
    reactivation_rate: float = 0.1
    reactivation_gap_months: tuple[int, int] = (2, 12)
    friction_transition: tuple[tuple[float, ...], ...] = (
        (0.90, 0.08, 0.02),
        (0.25, 0.60, 0.15),
        (0.10, 0.25, 0.65),
    )
    friction_score_mean: tuple[float, ...] = (8.6, 6.8, 4.2)
    segment_score_shift: tuple[float, ...] = (0.2, 0.0, -0.3)
    score_sd: float = 1.5
    friction_utilisation: tuple[float, ...] = (0.72, 0.5, 0.28)
    ticket_rate_monthly: tuple[float, ...] = (0.15, 0.3, 0.5)
    friction_ticket_multiplier: tuple[float, ...] = (1.0, 2.5, 5.0)
    severity_by_friction: tuple[tuple[float, ...], ...] = (  # low, medium, high, critical
        (0.5, 0.35, 0.12, 0.03),
        (0.35, 0.4, 0.2, 0.05),
        (0.2, 0.4, 0.3, 0.1),
    )
    days_to_close_by_severity: tuple[float, ...] = (5.0, 3.0, 2.0, 1.0)  # exponential mean
    survey_share_per_week: float = 0.04
    response_rate: float = 0.35
    in_app_share: float = 0.4
    theme_weights: tuple[float, ...] = (3, 3, 2, 2, 1, 1, 1, 2)
    conversation_week_rate: float = 0.85
    competitor_mention_rate: float = 0.3
    two_competitor_share: float = 0.35
    opportunity_rate: float = 0.2
    opportunity_conversion_rate: float = 0.5
    opportunity_window_days: int = 60

    def friction_stationary(self) -> np.ndarray:
        """Stationary distribution of the friction Markov chain."""
        p = np.asarray(self.friction_transition)
        a = np.vstack([p.T - np.eye(len(p)), np.ones(len(p))])
        b = np.r_[np.zeros(len(p)), 1.0]
        pi = np.clip(np.linalg.lstsq(a, b, rcond=None)[0], 0.0, None)
        return pi / pi.sum()


def categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of ``probs`` (rows of category probabilities): the category index."""
    cum = np.cumsum(probs, axis=1)
    return (rng.random(len(probs))[:, None] >= cum[:, :-1]).sum(axis=1).astype(np.int8)


@dataclass(frozen=True)
class Calendar:
    """Months and Mondays of the simulated range, as day numbers."""

    start: int
    end: int  # last day included
    last_signup: int  # end minus one month
    month_start: np.ndarray  # clipped to [start, end]
    month_end: np.ndarray  # last day of the month, clipped
    mondays: np.ndarray
    monday_month: np.ndarray  # month index of each Monday

    @classmethod
    def from_dates(cls, start: pd.Timestamp, end: pd.Timestamp) -> Calendar:
        s, e = (int(np.datetime64(t.date(), "D").astype(np.int64)) for t in (start, end))
        last_signup = int(np.datetime64((end - pd.DateOffset(months=1)).date(), "D").astype(np.int64))
        months = np.arange(np.datetime64(start.date(), "M"), np.datetime64(end.date(), "M") + 1)
        m_start = np.maximum(months.astype("datetime64[D]").astype(np.int64), s)
        m_end = np.minimum((months + 1).astype("datetime64[D]").astype(np.int64) - 1, e)
        first_monday = s + (4 - s) % 7  # day 4 (1970-01-05) is a Monday
        mondays = np.arange(first_monday, e + 1, 7, dtype=np.int64)
        monday_month = np.searchsorted(m_start, mondays, side="right") - 1
        return cls(s, e, max(last_signup, s), m_start, m_end, mondays, monday_month)


@dataclass
class Ledger:
    """Growing arrays of subscriptions (end -1 = running)."""

    account: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    plan: np.ndarray = field(default_factory=lambda: np.empty(0, np.int16))
    start: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    end: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    mrr: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    addon: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    n: int = 0

    def add(self, account, plan, start, mrr, addon) -> np.ndarray:
        k = len(account)
        if self.n + k > len(self.account):
            cap = max(2 * len(self.account), self.n + k, 1024)
            for name in ("account", "plan", "start", "end", "mrr", "addon"):
                old = getattr(self, name)
                new = np.full(cap, -1, old.dtype) if name == "end" else np.zeros(cap, old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        idx = np.arange(self.n, self.n + k)
        self.account[idx], self.plan[idx], self.start[idx] = account, plan, start
        self.mrr[idx], self.addon[idx] = mrr, addon
        self.n += k
        return idx


@dataclass
class Raw:
    """Event arrays collected during the simulation, one list of chunks per field."""

    chunks: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, table: str, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.chunks.setdefault(f"{table}.{name}", []).append(np.asarray(values))

    def get(self, table: str, name: str) -> np.ndarray:
        """One field of ``table``, all chunks concatenated (empty int64 if never recorded)."""
        parts = self.chunks.get(f"{table}.{name}", [])
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    def table(self, table: str, *names: str) -> dict[str, np.ndarray]:
        return {name: self.get(table, name) for name in names}


class Simulation:
    """State of every account, advanced one calendar month at a time (see ``run``)."""

    def __init__(self, design: Design, cal: Calendar, n: int, rng: np.random.Generator, keep_usage_from: int):
        self.d, self.cal, self.n, self.rng = design, cal, n, rng
        self.keep_usage_from = keep_usage_from
        self.raw = Raw()
        self.subs = Ledger()
        self.surveys_sent = 0
        self._draw_accounts()
        self.status = np.zeros(n, np.int8)  # 0 not yet signed up, 1 active, 2 churned
        self.at_risk_from = np.full(n, np.iinfo(np.int64).max, np.int64)  # month index
        self.react_month = np.full(n, -1, np.int64)
        self.life = np.zeros(n, np.int64)  # churn count, invalidates older pending opportunities
        self.friction = np.zeros(n, np.int8)
        self.main = np.full(n, -1, np.int64)  # ledger index of the main subscription
        self.mrr = np.zeros(n)  # current MRR, sum over running subscriptions
        self.last_score = np.full(n, -1, np.int8)  # latest NPS score so far, -1 = none
        self.tickets_hist = np.zeros((design.ticket_burst_window_months, n), np.int32)
        self.used = np.zeros(n)  # active users summed over last month's usage weeks
        self.seated = np.zeros(n)  # seats summed over the same weeks
        self.stationary = design.friction_stationary()
        self.since = np.zeros(n, np.int64)  # first active day of the current month
        self.until = np.zeros(n, np.int64)  # first inactive day of the current month
        # converted opportunities waiting for their day: account, day, MRR, account life then
        self.pending = {k: np.empty(0, t) for k, t in (("acc", np.int64), ("day", np.int64),
                                                       ("mrr", np.float64), ("life", np.int64))}

    # ---------------------------------------------------------------- accounts
    def _draw_accounts(self) -> None:
        d, cal, rng, n = self.d, self.cal, self.rng, self.n
        span = cal.last_signup - cal.start + 1
        g = d.signup_growth_per_year / 365.25
        t = np.log1p(rng.random(n) * np.expm1(g * span)) / g
        self.signup = np.sort(cal.start + np.minimum(t.astype(np.int64), span - 1))
        self.signup_month = np.searchsorted(cal.month_start, self.signup, side="right") - 1
        self.segment = rng.choice(len(d.segment_shares), size=n, p=d.segment_shares).astype(np.int8)
        self.region = rng.choice(len(d.region_shares), size=n, p=d.region_shares).astype(np.int8)
        self.industry = rng.integers(len(txt.INDUSTRIES), size=n).astype(np.int8)
        self.owner = rng.integers(len(txt.EXECUTIVES), size=n).astype(np.int8)
        self.csm = rng.integers(len(txt.CSMS), size=n).astype(np.int8)
        self.language = categorical(rng, txt.LANGUAGE_BY_REGION[self.region])
        self.util_offset = rng.normal(0.0, 0.08, size=n)

    def _initial_mrr(self, acc: np.ndarray) -> np.ndarray:
        seg = self.segment[acc]
        median, sigma = np.asarray(self.d.mrr_median)[seg], np.asarray(self.d.mrr_sigma)[seg]
        draw = self.rng.lognormal(np.log(median), sigma)
        return np.maximum(np.round(draw), 20.0)

    def _open(self, acc, plan, day, mrr, addon) -> np.ndarray:
        idx = self.subs.add(acc, plan, day, mrr, addon)
        np.add.at(self.mrr, acc, mrr)
        return idx

    def _close(self, idx, day) -> None:
        self.subs.end[idx] = day
        np.subtract.at(self.mrr, self.subs.account[idx], self.subs.mrr[idx])

    def _reprice(self, acc, day, new_mrr) -> None:
        """End each account's main subscription on ``day`` and start its successor that day."""
        self._close(self.main[acc], day)
        self.main[acc] = self._open(acc, self.subs.plan[self.main[acc]], day, new_mrr, False)

    def _activate(self, acc: np.ndarray) -> None:
        """Start (or restart) accounts, friction drawn from the chain's stationary distribution."""
        self.status[acc] = 1
        self.friction[acc] = categorical(self.rng, np.tile(self.stationary, (len(acc), 1)))

    # ---------------------------------------------------------------- one month
    def run(self) -> Simulation:
        for k in range(len(self.cal.month_start)):
            self._month(k)
        return self

    def _month(self, k: int) -> None:
        rng, cal = self.rng, self.cal
        ms, me = int(cal.month_start[k]), int(cal.month_end[k])
        self.since[:], self.until[:] = ms, me + 1

        new = np.flatnonzero(self.signup_month == k)
        if len(new):
            self._activate(new)
            mrr = self._initial_mrr(new)
            self.main[new] = self._open(new, self.segment[new], self.signup[new], mrr, False)
            self.at_risk_from[new], self.since[new] = k + 1, self.signup[new]
        back = np.flatnonzero(self.react_month == k)
        if len(back):
            day = ms + rng.integers(0, me - ms + 1, size=len(back))
            self._activate(back)
            mrr = self.subs.mrr[self.main[back]] * rng.uniform(0.7, 1.0, len(back))
            mrr = np.maximum(np.round(mrr), 20.0)
            self.main[back] = self._open(back, self.subs.plan[self.main[back]], day, mrr, False)
            self.at_risk_from[back], self.since[back], self.react_month[back] = k + 1, day, -1

        at_risk = (self.status == 1) & (self.at_risk_from <= k)
        churn = self._churn(k, at_risk, ms, me)
        self._transition_friction(np.flatnonzero(at_risk))
        stay = at_risk & ~churn
        repriced = self._organic_changes(stay, ms, me)
        self._conversations(k, stay, me)
        self._conversions(stay, repriced, me)
        self.used[:], self.seated[:] = 0.0, 0.0
        for w in np.flatnonzero(cal.monday_month == k):
            self._week(int(cal.mondays[w]), me)
        self._tickets(k, ms, me)
        self.status[churn] = 2
        self.mrr[churn] = 0.0

    def _churn(self, k: int, at_risk: np.ndarray, ms: int, me: int) -> np.ndarray:
        """Planted hazard: base[segment] * HR_D**D * HR_B**B * HR_U**U, covariates as of day ``ms``."""
        d, rng = self.d, self.rng
        if me <= ms:  # a one-day month has no day after the 1st to end on
            return np.zeros(self.n, bool)
        detractor = (self.last_score >= 0) & (self.last_score <= d.detractor_max_score)
        burst = self.tickets_hist.sum(axis=0) >= d.ticket_burst_min_tickets
        low_usage = (self.seated > 0) & (self.used < d.low_usage_threshold * self.seated)
        h = (np.asarray(d.base_monthly_hazard)[self.segment]
             * np.where(detractor, d.detractor_hazard_ratio, 1.0)
             * np.where(burst, d.ticket_burst_hazard_ratio, 1.0)
             * np.where(low_usage, d.low_usage_hazard_ratio, 1.0))
        churn = at_risk & (rng.random(self.n) < np.minimum(h, d.hazard_cap))
        acc = np.flatnonzero(churn)
        day = ms + rng.integers(1, me - ms + 1, size=len(acc))  # day 2..last of the month
        self.until[acc] = day
        s = self.subs
        running = np.flatnonzero((s.end[: s.n] == -1) & churn[s.account[: s.n]])
        # self.mrr keeps the account's MRR until month end: its last usage weeks keep their seats
        self.subs.end[running] = self.until[self.subs.account[running]]
        self.life[acc] += 1
        lo, hi = d.reactivation_gap_months
        back = acc[rng.random(len(acc)) < d.reactivation_rate]
        self.react_month[back] = k + rng.integers(lo, hi + 1, size=len(back))
        return churn

    def _transition_friction(self, acc: np.ndarray) -> None:
        self.friction[acc] = categorical(self.rng, np.asarray(self.d.friction_transition)[self.friction[acc]])

    def _organic_changes(self, stay: np.ndarray, ms: int, me: int) -> np.ndarray:
        """Expansions and contractions of accounts active all month; returns the repriced mask."""
        d, rng = self.d, self.rng
        u = rng.random(self.n)
        expand = np.flatnonzero(stay & (u < d.expansion_rate_monthly))
        shrink = np.flatnonzero(stay & (u >= d.expansion_rate_monthly)
                                & (u < d.expansion_rate_monthly + d.contraction_rate_monthly))
        day_e = ms + rng.integers(0, me - ms + 1, size=len(expand))
        day_s = ms + rng.integers(0, me - ms + 1, size=len(shrink))
        mrr_e, mrr_s = self.subs.mrr[self.main[expand]], self.subs.mrr[self.main[shrink]]
        as_addon = rng.random(len(expand)) < d.addon_share_of_expansions
        addon_mrr = np.maximum(np.round(mrr_e * rng.uniform(0.1, 0.4, len(expand))), 10.0)
        up_mrr = np.round(mrr_e * rng.uniform(1.1, 1.5, len(expand)))
        a = expand[as_addon]
        self._open(a, self._addon_plans(len(a)), day_e[as_addon], addon_mrr[as_addon], True)
        # contraction: end one add-on that started before this month, else a price cut
        s = self.subs
        cand = np.flatnonzero(s.addon[: s.n] & (s.end[: s.n] == -1) & (s.start[: s.n] < ms))
        cand = cand[np.isin(s.account[cand], shrink)]
        accs, first = np.unique(s.account[cand], return_index=True)
        drop = np.isin(shrink, accs) & (rng.random(len(shrink)) < 0.5)
        pos = np.searchsorted(accs, shrink[drop])
        self._close(cand[first[pos]], day_s[drop])
        down_mrr = np.maximum(np.round(mrr_s * rng.uniform(0.65, 0.9, len(shrink))), 10.0)
        up, cut = ~as_addon, ~drop
        acc = np.r_[expand[up], shrink[cut]]
        self._reprice(acc, np.r_[day_e[up], day_s[cut]], np.r_[up_mrr[up], down_mrr[cut]])
        repriced = np.zeros(self.n, bool)
        repriced[acc] = True
        return repriced

    def _addon_plans(self, k: int) -> np.ndarray:
        return len(txt.MAIN_PLANS) + self.rng.integers(len(txt.ADDON_PLANS), size=k)

    def _conversations(self, k: int, stay: np.ndarray, me: int) -> None:
        """About one 4Q conversation a week per executive, accounts drawn with weight sqrt(MRR)."""
        d, rng, cal = self.d, self.rng, self.cal
        weeks = cal.mondays[cal.monday_month == k]
        for e in range(len(txt.EXECUTIVES)):
            pool = np.flatnonzero(stay & (self.owner == e))
            held = weeks[rng.random(len(weeks)) < d.conversation_week_rate]
            if len(pool) == 0 or len(held) == 0:
                continue
            cum = np.cumsum(np.sqrt(self.mrr[pool]))
            pick = np.searchsorted(cum, rng.random(len(held)) * cum[-1], side="right")
            acc = pool[np.minimum(pick, len(pool) - 1)]
            day = np.minimum(held + rng.integers(0, 5, size=len(held)), me)
            m = len(acc)
            mention = rng.random(m) < d.competitor_mention_rate
            two = mention & (rng.random(m) < d.two_competitor_share)
            c1 = rng.integers(len(txt.COMPETITORS), size=m)
            c2 = (c1 + 1 + rng.integers(len(txt.COMPETITORS) - 1, size=m)) % len(txt.COMPETITORS)
            opp = rng.random(m) < d.opportunity_rate
            size = np.asarray(d.mrr_median)[self.segment[acc]] * rng.uniform(0.1, 0.6, m)
            opp_mrr = np.where(opp, np.maximum(np.round(size, -1), 10.0), np.nan)
            converts = opp & (rng.random(m) < d.opportunity_conversion_rate)
            conv_day = day + rng.integers(1, d.opportunity_window_days + 1, size=m)
            self.raw.add("conversations", account=acc, executive=np.full(m, e), day=day, mention=mention,
                         two=two, c1=c1, c2=c2, opportunity_mrr=opp_mrr, friction=self.friction[acc],
                         q1=rng.random(m), q2=rng.random(m), q3=rng.random(m), q4=rng.random(m))
            for key, val in (("acc", acc[converts]), ("day", conv_day[converts]),
                             ("mrr", opp_mrr[converts]), ("life", self.life[acc[converts]])):
                self.pending[key] = np.r_[self.pending[key], val]

    def _conversions(self, stay: np.ndarray, repriced: np.ndarray, me: int) -> None:
        """Converted opportunities due this month become an expansion of exactly their MRR."""
        p = self.pending
        due = p["day"] <= me
        acc, day, mrr, life = (p[k][due] for k in ("acc", "day", "mrr", "life"))
        self.pending = {k: v[~due] for k, v in p.items()}
        ok = stay[acc] & (life == self.life[acc]) & (day <= self.cal.end)
        acc, day, mrr = acc[ok], day[ok], mrr[ok]
        _, first = np.unique(acc, return_index=True)
        reprice = np.zeros(len(acc), bool)
        reprice[first] = ~repriced[acc[first]] & (self.rng.random(len(first)) < 0.5)
        new_mrr = self.subs.mrr[self.main[acc[reprice]]] + mrr[reprice]
        self._reprice(acc[reprice], day[reprice], new_mrr)
        add = ~reprice
        self._open(acc[add], self._addon_plans(int(add.sum())), day[add], mrr[add], True)

    def _week(self, monday: int, me: int) -> None:
        d, rng = self.d, self.rng
        acc = np.flatnonzero((self.status == 1) & (self.since <= monday) & (monday < self.until))
        seg = self.segment[acc]
        seats = np.maximum(np.round(self.mrr[acc] / np.asarray(d.seat_price)[seg]), 1).astype(np.int64)
        util = np.clip(np.asarray(d.friction_utilisation)[self.friction[acc]] + self.util_offset[acc]
                       + rng.normal(0.0, 0.08, len(acc)), 0.02, 0.98)
        users = (seats * util + rng.random(len(acc))).astype(np.int64)  # stochastic rounding
        self.used[acc] += users
        self.seated[acc] += seats
        if monday >= self.keep_usage_from:
            week = np.full(len(acc), monday)
            self.raw.add("usage", account=acc, week=week, active_users=users, seats=seats)
        sent = acc[rng.random(len(acc)) < d.survey_share_per_week]
        self.surveys_sent += len(sent)
        r = sent[rng.random(len(sent)) < d.response_rate]
        day = np.minimum(monday + rng.integers(0, 5, size=len(r)), np.minimum(me, self.until[r] - 1))
        mean = (np.asarray(d.friction_score_mean)[self.friction[r]]
                + np.asarray(d.segment_score_shift)[self.segment[r]])
        score = np.clip(np.round(rng.normal(mean, d.score_sd)), 0, 10).astype(np.int8)
        channel = (rng.random(len(r)) < d.in_app_share).astype(np.int8)
        contact = rng.integers(1, 4, size=len(r))
        self.raw.add("responses", account=r, day=day, score=score, channel=channel, contact=contact)
        self.last_score[r] = score  # one response per account and week, weeks in date order

    def _tickets(self, k: int, ms: int, me: int) -> None:
        d, rng = self.d, self.rng
        span = np.where(self.status == 1, np.maximum(self.until - self.since, 0), 0)
        lam = (np.asarray(d.ticket_rate_monthly)[self.segment]
               * np.asarray(d.friction_ticket_multiplier)[self.friction] * span / (me - ms + 1))
        count = rng.poisson(lam)
        self.tickets_hist[k % d.ticket_burst_window_months] = count
        acc = np.repeat(np.arange(self.n), count)
        m = len(acc)
        opened = self.since[acc] + (rng.random(m) * span[acc]).astype(np.int64)
        fr = self.friction[acc]
        severity = categorical(rng, np.asarray(d.severity_by_friction)[fr])
        mean_days = np.asarray(d.days_to_close_by_severity)[severity] * (1 + 0.5 * fr)
        days_open = np.floor(rng.exponential(mean_days)).astype(np.int64)
        closed = np.where(opened + days_open <= self.cal.end, opened + days_open, -1)
        csat = np.clip(np.round(rng.normal(4.3 - 0.6 * fr - 0.1 * np.minimum(days_open, 10), 0.8)), 1, 5)
        answered = (closed >= 0) & (rng.random(m) < 0.6)
        csat = np.where(answered, csat, 0).astype(np.int8)  # 0 = not answered
        self.raw.add("tickets", account=acc, opened=opened, closed=closed, severity=severity,
                     category=rng.integers(len(txt.TICKET_CATEGORIES), size=m), csat=csat)
