"""Shared fixtures and helpers: the default demo company, a tiny hand-built company valid under the
data contract, and small builders of canonical frames used by several test modules."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import feedback_lib as fl
from feedback_lib.io.dataset import Dataset, save_dataset
from feedback_lib.io.schema import SCHEMAS, canonical_dtype


def make_table(name: str, rows: list[dict]) -> pd.DataFrame:
    """A canonical frame of table ``name`` from dict rows (missing optional cells empty)."""
    spec = SCHEMAS[name]
    frame = pd.DataFrame(rows, columns=spec.column_names)
    for col in spec.columns:
        if col.kind == "date":
            frame[col.name] = pd.to_datetime(frame[col.name])
        elif col.kind == "list":
            frame[col.name] = frame[col.name].map(lambda v: v if isinstance(v, list) else [])
        else:
            frame[col.name] = frame[col.name].astype(canonical_dtype(col.kind))
    return frame


def tiny_company() -> Dataset:
    """Three accounts with Finnish and Chinese verbatims; every table filled."""
    return Dataset(
        accounts=make_table("accounts", [
            dict(account_id="A1", name="Acme Oy", segment="Enterprise", region="EMEA", industry="Manufacturing",
                 owner="Maria", csm="Li", signup_date="2024-01-15", contact_email="cfo@acme.example"),
            dict(account_id="A2", name="北京科技", segment="SMB", region="APAC", industry="Software",
                 owner="Pekka", csm="Li", signup_date="2024-03-01", contact_email="wang@bj.example"),
            dict(account_id="A3", name="Globex", segment="Mid-Market", region="NA", industry="Retail",
                 owner="Maria", csm="Ann", signup_date="2024-02-10", contact_email=None),
        ]),
        subscriptions=make_table("subscriptions", [
            dict(subscription_id="S1", account_id="A1", plan="Pro", start_date="2024-01-15", end_date=None, mrr=1200.0),
            dict(subscription_id="S2", account_id="A2", plan="Basic", start_date="2024-03-01",
                 end_date="2024-09-17", mrr=99.5),
            dict(subscription_id="S3", account_id="A3", plan="Pro", start_date="2024-02-10", end_date=None, mrr=450.0),
            dict(subscription_id="S4", account_id="A1", plan="Add-on", start_date="2024-05-01", end_date=None, mrr=300.0),
        ]),
        responses=make_table("responses", [
            dict(response_id="R1", account_id="A1", respondent="c1", responded_at="2024-06-03", score=6,
                 comment="Raportointityökalu on hidas ja asiakastuki ei vastaa", channel="email"),
            dict(response_id="R2", account_id="A2", respondent="c2", responded_at="2024-06-04", score=3,
                 comment="客服响应太慢，价格太贵", channel="in-app"),
            dict(response_id="R3", account_id="A3", respondent="c3", responded_at="2024-06-05", score=10,
                 comment="Great reporting, \"quoted\", and commas", channel="email"),
        ]),
        conversations=make_table("conversations", [
            dict(conversation_id="V1", account_id="A1", executive="CEO", held_on="2024-06-10",
                 q1_their_business="Kasvu jatkuu", q2_their_industry="Consolidation", q3_competitors="Globex pitched",
                 q4_our_performance="Support slow", competitors_mentioned=["Globex", "Initech"], opportunity_mrr=500.0),
            dict(conversation_id="V2", account_id="A3", executive="CFO", held_on="2024-06-11",
                 q1_their_business="Fine", q2_their_industry="Quiet", q3_competitors=None, q4_our_performance="Good",
                 competitors_mentioned=[], opportunity_mrr=None),
        ]),
        tickets=make_table("tickets", [
            dict(ticket_id="T1", account_id="A1", opened_at="2024-06-01", closed_at="2024-06-03", severity="high",
                 category="performance", csat=3),
            dict(ticket_id="T2", account_id="A2", opened_at="2024-06-02", closed_at=None, severity="low",
                 category="billing", csat=None),
        ]),
        usage=make_table("usage", [
            dict(account_id="A1", week="2024-06-03", active_users=41, seats=50),
            dict(account_id="A1", week="2024-06-10", active_users=38, seats=50),
            dict(account_id="A3", week="2024-06-03", active_users=9, seats=10),
        ]),
        source="tiny_company",
    )


@pytest.fixture
def tiny() -> Dataset:
    return tiny_company()


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    """The tiny company written as CSV exports."""
    return save_dataset(tiny_company(), tmp_path / "exports")


@pytest.fixture(scope="session")
def demo() -> Dataset:
    """The demo company at its defaults (seed 42, 2,000 accounts, 2023-10-01 to 2026-09-30), built
    once per test process; tests must not modify it."""
    return fl.generate_demo(seed=42, n_accounts=2000, start="2023-10-01", end="2026-09-30")


def subs(*rows) -> pd.DataFrame:
    """A canonical subscriptions frame from (account_id, start_date, end_date or None, mrr) rows."""
    return pd.DataFrame(
        {
            "subscription_id": pd.array([f"S{i}" for i in range(len(rows))], dtype="string"),
            "account_id": pd.array([r[0] for r in rows], dtype="string"),
            "plan": pd.array(["Pro"] * len(rows), dtype="string"),
            "start_date": pd.to_datetime([r[1] for r in rows]),
            "end_date": pd.to_datetime([r[2] for r in rows]),
            "mrr": [float(r[3]) for r in rows],
        }
    )


def subs_frame(rows) -> pd.DataFrame:
    """Subscriptions from (account_id, mrr, start, end) tuples (plain object columns)."""
    frame = pd.DataFrame(rows, columns=["account_id", "mrr", "start_date", "end_date"])
    frame.insert(0, "subscription_id", [f"S{i}" for i in range(len(frame))])
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    return frame


def revenue_frame(rows) -> pd.DataFrame:
    """A revenue frame from (account_id, 'YYYY-MM', mrr) rows."""
    return pd.DataFrame(
        {
            "account_id": pd.array([r[0] for r in rows], dtype="string"),
            "month": pd.to_datetime([r[1] + "-01" for r in rows]),
            "mrr": [float(r[2]) for r in rows],
        }
    )


def hazard_ratio(summary: pd.DataFrame, name: str) -> tuple[float, float, float]:
    """(hazard ratio, ci_low, ci_high) of one covariate of a Cox model's summary."""
    row = summary.set_index("covariate").loc[name]
    return row["hazard_ratio"], row["ci_low"], row["ci_high"]
