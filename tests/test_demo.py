"""Tests of the deterministic demo company (feedback_lib.demo)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import feedback_lib as fl
from feedback_lib._util.stats import wilson_interval
from feedback_lib.demo import vocabulary as demo_text
from feedback_lib.io.schema import SCHEMAS, canonical_dtype

START, END = "2023-10-01", "2026-09-30"




@pytest.fixture(scope="module")
def panel(demo) -> pd.DataFrame:
    """Monthly at-risk panel built by hand from the exports: account, month, segment, D, event.

    At risk in month j = paid (a subscription active) on the last day of month j - 1; event = not
    paid on the last day of month j. D = latest response before the month's first day is <= 6.
    """
    subs = demo.subscriptions
    months = pd.date_range(START, END, freq="MS")
    accounts = demo.accounts["account_id"].to_numpy(str)
    acc = np.searchsorted(accounts, subs["account_id"].to_numpy(str))
    start = subs["start_date"].to_numpy()
    end = subs["end_date"].fillna(pd.Timestamp.max).to_numpy()
    paid = np.zeros((len(accounts), len(months)), bool)
    for j, last_day in enumerate((months + pd.offsets.MonthEnd(0)).to_numpy()):
        paid[acc[(start <= last_day) & (end > last_day)], j] = True
    resp = demo.responses.sort_values("responded_at")
    parts = []
    for j in range(1, len(months)):
        ids = accounts[paid[:, j - 1]]
        latest = resp[resp["responded_at"] < months[j]].groupby("account_id")["score"].last()
        parts.append(pd.DataFrame({
            "account_id": ids,
            "month": months[j],
            "D": (latest.reindex(ids) <= 6).fillna(False).to_numpy(bool),
            "event": ~paid[paid[:, j - 1], j],
        }))
    out = pd.concat(parts, ignore_index=True)
    segment = demo.accounts.set_index("account_id")["segment"]
    return out.assign(segment=segment.reindex(out["account_id"]).to_numpy())


def _mrr_on(subs: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    active = (subs["start_date"] <= day) & ~(subs["end_date"] <= day)
    return subs[active].groupby("account_id")["mrr"].sum()


# --------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_frames_and_other_seed_differs():
    a = fl.generate_demo(seed=7, n_accounts=300, start="2024-01-01", end="2025-06-30")
    b = fl.generate_demo(seed=7, n_accounts=300, start="2024-01-01", end="2025-06-30")
    c = fl.generate_demo(seed=8, n_accounts=300, start="2024-01-01", end="2025-06-30")
    for name in fl.TABLES:
        pdt.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.truth == b.truth
    assert a.source == "demo(seed=7, n_accounts=300)"
    assert not a.subscriptions["mrr"].equals(c.subscriptions["mrr"])
    assert not a.accounts["signup_date"].equals(c.accounts["signup_date"])


def test_usage_history_weeks_only_trims_usage():
    args = dict(seed=3, n_accounts=300, start="2024-01-01", end="2025-06-30")
    full = fl.generate_demo(**args)
    short = fl.generate_demo(**args, usage_history_weeks=4)
    for name in ("accounts", "subscriptions", "responses", "conversations", "tickets"):
        pdt.assert_frame_equal(getattr(full, name), getattr(short, name))
    last_weeks = np.sort(full.usage["week"].unique())[-4:]
    assert list(np.sort(short.usage["week"].unique())) == list(last_weeks)
    expected = full.usage[full.usage["week"] >= last_weeks[0]].reset_index(drop=True)
    pdt.assert_frame_equal(short.usage, expected)


# --------------------------------------------------------------------------- contract
def test_tables_have_exactly_the_canonical_columns_and_dtypes(demo):
    for name, frame in demo.tables().items():
        spec = SCHEMAS[name]
        assert list(frame.columns) == spec.column_names, name
        for col in spec.columns:
            assert frame[col.name].dtype == canonical_dtype(col.kind), (name, col.name)
        assert len(frame) > 0, name


def test_ids_formats_and_unique_keys(demo):
    patterns = {"accounts": r"A\d{7}", "subscriptions": r"S\d{8}", "responses": r"R\d{8}",
                "conversations": r"V\d{7}", "tickets": r"T\d{8}"}
    for name, pattern in patterns.items():
        ids = getattr(demo, name)[SCHEMAS[name].key[0]]
        assert ids.str.fullmatch(pattern).all(), name
    for name, frame in demo.tables().items():
        assert not frame.duplicated(list(SCHEMAS[name].key)).any(), name
    assert demo.accounts["account_id"].iloc[0] == "A0000001"


def test_referential_integrity_and_names(demo):
    accounts = set(demo.accounts["account_id"])
    for name in ("subscriptions", "responses", "conversations", "tickets", "usage"):
        assert set(getattr(demo, name)["account_id"]) <= accounts, name
    executives = set(demo.truth["executives"])
    assert set(demo.accounts["owner"]) == executives
    assert set(demo.conversations["executive"]) == executives
    assert 10 <= demo.accounts["csm"].nunique() <= 14
    assert demo.accounts["contact_email"].str.fullmatch(r"[a-z]+\.[a-z]+\d+@example\.com").all()
    shares = demo.accounts["segment"].value_counts(normalize=True)
    for segment, share in demo.truth["segment_shares"].items():  # 3 SE at n = 2000 is <= 0.033
        assert abs(shares[segment] - share) < 0.035, segment


def test_value_rules(demo):
    lo, hi = pd.Timestamp(START), pd.Timestamp(END)
    r, s, t, u, c = demo.responses, demo.subscriptions, demo.tickets, demo.usage, demo.conversations
    assert r["score"].between(0, 10).all()
    assert set(r["channel"]) == {"email", "in-app"}
    ended = s["end_date"].notna()
    assert (s.loc[ended, "end_date"] > s.loc[ended, "start_date"]).all()
    assert (s["mrr"] > 0).all() and s["end_date"].isna().any()
    closed = t["closed_at"].notna()
    assert (t.loc[closed, "closed_at"] >= t.loc[closed, "opened_at"]).all()
    assert (~closed).any() and closed.mean() > 0.95
    assert set(t["severity"]) == {"low", "medium", "high", "critical"}
    assert t["csat"].dropna().between(1, 5).all() and t["csat"].isna().any()
    assert t.loc[~closed, "csat"].isna().all()
    assert (u["week"].dt.dayofweek == 0).all()
    assert ((u["active_users"] >= 0) & (u["active_users"] <= u["seats"]) & (u["seats"] >= 1)).all()
    for frame, col in ((r, "responded_at"), (s, "start_date"), (t, "opened_at"), (u, "week"), (c, "held_on")):
        assert frame[col].between(lo, hi).all(), col
        assert (frame[col] == frame[col].dt.normalize()).all(), col
    assert demo.accounts["signup_date"].between(lo, hi - pd.DateOffset(months=1)).all()
    opp = c["opportunity_mrr"]
    assert (opp.dropna() > 0).all() and opp.isna().any()
    assert all(isinstance(x, list) and set(x) <= set(demo.truth["competitors"]) and len(x) <= 2
               for x in c["competitors_mentioned"])


def test_first_subscription_starts_on_signup_and_no_activity_before(demo):
    first = demo.subscriptions.groupby("account_id")["start_date"].min()
    signup = demo.accounts.set_index("account_id")["signup_date"]
    pdt.assert_series_equal(first, signup.reindex(first.index), check_names=False)
    assert len(first) == len(signup)
    for name, col in (("responses", "responded_at"), ("tickets", "opened_at"), ("usage", "week")):
        frame = getattr(demo, name)
        assert (frame[col] >= signup.reindex(frame["account_id"]).to_numpy()).all(), name


def test_churned_accounts_end_everything_inside_the_month_after_the_first(demo):
    s = demo.subscriptions
    running = set(s.loc[s["end_date"].isna(), "account_id"])
    gone = s[~s["account_id"].isin(running)]
    last_end = gone.groupby("account_id")["end_date"].max()
    assert len(last_end) > 300
    assert (last_end.dt.day > 1).all()
    # no usage, response or ticket on or after the day the account left
    for name, col in (("responses", "responded_at"), ("tickets", "opened_at"), ("usage", "week")):
        frame = getattr(demo, name)
        left = last_end.reindex(frame["account_id"]).to_numpy()
        assert not (frame[col].to_numpy() >= left).any(), name


def test_subscription_changes_addons_and_reactivations(demo):
    s = demo.subscriptions
    ends = s.dropna(subset=["end_date"])[["account_id", "end_date"]].rename(columns={"end_date": "day"})
    starts = s[["account_id", "start_date"]].rename(columns={"start_date": "day"})
    assert len(ends.merge(starts)) > 50  # price changes: an end and a start the same day
    at_end = s[(s["start_date"] <= END) & s["end_date"].isna()]
    assert (at_end.groupby("account_id").size() >= 2).sum() > 20  # concurrent add-ons
    assert at_end["plan"].str.endswith("add-on").any()
    # reactivation: a subscription starts after a day on which the account had none running
    ordered = s.sort_values(["account_id", "start_date"])
    covered = ordered["end_date"].fillna(pd.Timestamp.max).groupby(ordered["account_id"]).cummax()
    gaps = ordered[ordered["start_date"] > covered.groupby(ordered["account_id"]).shift()]
    assert gaps["account_id"].nunique() >= 10


# --------------------------------------------------------------------------- text
def test_comments_in_three_languages_with_theme_keywords(demo):
    comments = demo.responses["comment"]
    assert (comments == "").mean() > 0.1
    chinese = comments[comments.str.contains("[\u4e00-\u9fff]", regex=True)]
    assert len(chinese) > 10 and not chinese.str.contains(" ").any()
    finnish_words = [demo.truth["theme_keywords"][t]["fi"] for t in demo.truth["themes"]]
    finnish = comments[comments.str.lower().str.contains("|".join(finnish_words))]
    assert len(finnish) > 30
    for compound in ("raportointityökalu", "asiakastuki", "hinnoittelu", "käyttöliittymä"):
        assert finnish.str.lower().str.contains(compound).any(), compound
    words = [w for kw in demo.truth["theme_keywords"].values() for w in kw.values()]
    nonempty = comments[comments != ""].str.lower()
    assert nonempty.str.contains("|".join(map(re.escape, words))).all()


def test_each_template_names_its_own_theme_keyword_only():
    for polarity, by_lang in demo_text.COMMENT_TEMPLATES.items():
        for lang, by_theme in by_lang.items():
            assert set(by_theme) == set(demo_text.THEMES)
            for theme, templates in by_theme.items():
                for text in templates:
                    hits = {t for t in demo_text.THEMES if demo_text.THEME_KEYWORDS[t][lang] in text.lower()}
                    assert hits == {theme}, (polarity, lang, text)


def test_promoters_write_positive_and_detractors_negative_comments(demo):
    positive = {t for lang in demo_text.LANGUAGES for th in demo_text.THEMES
                for t in demo_text.COMMENT_TEMPLATES["positive"][lang][th]}
    r = demo.responses[demo.responses["comment"] != ""]
    first = r["comment"].map(lambda c: next((p for p in positive if c.startswith(p)), None)).notna()
    assert first[r["score"] >= 9].all()
    assert not first[r["score"] <= 6].any()


# --------------------------------------------------------------------------- truth
def test_truth_is_json_and_complete(demo):
    truth = json.loads(json.dumps(demo.truth))
    required = {
        "top5_mrr_share", "competitor_mention_rate", "detractor_hazard_ratio", "ticket_burst_hazard_ratio",
        "low_usage_hazard_ratio", "base_monthly_hazard", "response_rate", "surveys_sent",
        "survey_share_per_week", "expansion_rate_monthly", "contraction_rate_monthly", "reactivation_rate",
        "opportunity_rate", "opportunity_conversion_rate", "opportunity_window_days", "themes",
        "executives", "competitors", "seed", "n_accounts", "start", "end", "definitions",
    }
    assert required <= set(truth)
    assert set(truth) - {"definitions"} <= set(truth["definitions"])
    assert {"D", "B", "U"} <= set(truth["definitions"])
    assert truth["base_monthly_hazard"] == {"SMB": 0.02, "Mid-Market": 0.01, "Enterprise": 0.005}
    ratios = ("detractor_hazard_ratio", "ticket_burst_hazard_ratio", "low_usage_hazard_ratio")
    assert [truth[k] for k in ratios] == [2.5, 1.8, 2.0]
    assert isinstance(truth["surveys_sent"], int) and truth["n_accounts"] == 2000
    assert set(truth["themes"]) == set(truth["theme_keywords"]) and len(truth["themes"]) == 8


def test_realised_response_rate_matches_truth(demo):
    sent, answered = demo.truth["surveys_sent"], len(demo.responses)
    p = demo.truth["response_rate"]
    assert abs(answered / sent - p) < 3 * math.sqrt(p * (1 - p) / sent)
    # about survey_share_per_week of the active accounts each week (usage rows = active account-weeks)
    assert abs(sent / len(demo.usage) - demo.truth["survey_share_per_week"]) < 0.005


def test_competitor_mention_share_matches_truth(demo):
    mentioned = int(demo.conversations["competitors_mentioned"].map(len).gt(0).sum())
    ci = wilson_interval(mentioned, len(demo.conversations), confidence=0.997)
    assert ci.ci_low <= demo.truth["competitor_mention_rate"] <= ci.ci_high
    per_exec_week = demo.conversations.groupby("executive").size() / 156
    assert per_exec_week.between(0.7, 1.0).all()


def test_top5_mrr_share_at_end_matches_truth(demo):
    mrr = np.sort(_mrr_on(demo.subscriptions, pd.Timestamp(END)).to_numpy())[::-1]
    top = math.ceil(0.05 * len(mrr))
    assert abs(mrr[:top].sum() / mrr.sum() - demo.truth["top5_mrr_share"]) < 0.08


def test_converted_opportunities_add_exactly_their_mrr(demo):
    c = demo.conversations.dropna(subset=["opportunity_mrr"])
    s = demo.subscriptions
    window = demo.truth["opportunity_window_days"]
    starts = s.merge(c[["account_id", "held_on", "opportunity_mrr", "conversation_id"]], on="account_id")
    starts = starts[(starts["start_date"] > starts["held_on"])
                    & (starts["start_date"] <= starts["held_on"] + pd.Timedelta(days=window))]
    ended = s.dropna(subset=["end_date"])[["account_id", "end_date", "mrr"]].rename(
        columns={"end_date": "start_date", "mrr": "previous_mrr"})
    starts = starts.merge(ended, on=["account_id", "start_date"], how="left")
    delta = starts["mrr"] - starts["previous_mrr"].fillna(0.0)
    found = starts.loc[delta == starts["opportunity_mrr"], "conversation_id"].nunique()
    # design 0.5, less the few lost to churn or to the end of the range; 3 SE at n ~ 130 is ~0.13
    assert 0.3 < found / len(c) < 0.63


# --------------------------------------------------------------------------- churn
def test_smb_churns_more_than_enterprise(panel):
    rate = panel.groupby("segment")["event"].mean()
    assert rate["SMB"] > 2 * rate["Enterprise"]
    assert 0.015 < rate["SMB"] < 0.045  # base 2% times the covariate mix


def test_detractors_churn_more_in_the_raw_panel(panel):
    rate = panel.groupby("D")["event"].mean()
    assert panel["D"].mean() > 0.03
    assert rate[True] / rate[False] > 1.5


# --------------------------------------------------------------------------- arguments
@pytest.mark.parametrize("kwargs, fragment", [
    (dict(n_accounts=0), "n_accounts"),
    (dict(seed=-1), "seed"),
    (dict(start="2024-01-01", end="2024-01-31"), "two months"),
    (dict(start="not a date"), "ISO dates"),
    (dict(usage_history_weeks=0), "usage_history_weeks"),
])
def test_bad_arguments_raise_parameter_error(kwargs, fragment):
    with pytest.raises(fl.ParameterError, match=fragment):
        fl.generate_demo(**kwargs)


def test_tiny_company_still_has_every_table_shape():
    tiny = fl.generate_demo(seed=1, n_accounts=1, start="2024-01-01", end="2024-03-31")
    assert len(tiny.accounts) == 1 and len(tiny.subscriptions) >= 1
    for name, frame in tiny.tables().items():
        assert list(frame.columns) == SCHEMAS[name].column_names
