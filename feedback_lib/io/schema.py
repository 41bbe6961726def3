"""The data contract: canonical tables, columns, types, keys and rules, defined once.

Every loader validates against these definitions (see :mod:`feedback_lib.io.validate`), and every
metric function assumes the canonical names. ``docs/data-model.md`` documents the same contract
for people, with an example row per table.

Kinds of column
---------------
``id``     text identifier, never empty (an Arrow-backed pandas string column, ``string[pyarrow]``)
``text``   free text, may be empty (``string[pyarrow]``)
``date``   calendar date, stored as ``datetime64[ns]`` at midnight
``int``    whole number (``Int64``; nullable only where stated)
``float``  real number (``float64``)
``list``   list of text values; in CSV and spreadsheets a ``;``-separated cell
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from feedback_lib._util.arrow import STRING_DTYPE

__all__ = ["TABLES"]

TABLES: tuple[str, ...] = (
    "accounts",
    "subscriptions",
    "responses",
    "conversations",
    "tickets",
    "usage",
)

LIST_SEPARATOR = ";"



@dataclass(frozen=True)
class Column:
    """One canonical column: its kind, whether it may be empty, and its value rules."""

    name: str
    kind: str
    required: bool = True  # the column must be present in the source
    nullable: bool = False  # cells may be empty
    ge: float | None = None  # value >= ge
    le: float | None = None  # value <= le
    isin: tuple[str, ...] | None = None
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, natural key and the account it belongs to."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str = ""
    references_accounts: bool = True
    example: dict = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


ACCOUNTS = Table(
    name="accounts",
    key=("account_id",),
    references_accounts=False,
    description="One row per customer account.",
    columns=(
        Column("account_id", "id", description="unique account identifier"),
        Column("name", "text", nullable=True, description="account (company) name"),
        Column("segment", "text", description="customer segment, e.g. SMB, Mid-Market, Enterprise"),
        Column("region", "text", nullable=True, description="sales region"),
        Column("industry", "text", nullable=True, description="industry"),
        Column("owner", "text", nullable=True, description="executive sponsor"),
        Column("csm", "text", nullable=True, description="customer success manager"),
        Column("signup_date", "date", description="date the account signed up"),
        Column(
            "contact_email",
            "text",
            required=False,
            nullable=True,
            description="main contact's e-mail (personal data: masked in every report)",
        ),
    ),
    example=dict(
        account_id="A000001", name="Acme Oy", segment="Enterprise", region="EMEA",
        industry="Manufacturing", owner="Maria Virtanen", csm="Li Wei",
        signup_date="2023-01-16", contact_email="cfo@acme.example",
    ),
)

SUBSCRIPTIONS = Table(
    name="subscriptions",
    key=("subscription_id",),
    description=(
        "One row per subscription (contract line). end_date is exclusive; empty means still "
        "running. Either mrr, or amount + billing_period_months (normalised: mrr = amount / "
        "billing_period_months)."
    ),
    columns=(
        Column("subscription_id", "id", description="unique subscription identifier"),
        Column("account_id", "id", description="account that pays (must exist in accounts)"),
        Column("plan", "text", nullable=True, description="plan or product name"),
        Column("start_date", "date", description="first day of service (inclusive)"),
        Column("end_date", "date", nullable=True, description="end of service (exclusive); empty = running"),
        Column("mrr", "float", ge=0, description="monthly recurring revenue, >= 0"),
    ),
    example=dict(
        subscription_id="S0000001", account_id="A000001", plan="Pro", start_date="2023-01-16",
        end_date="", mrr=1250.0,
    ),
)

RESPONSES = Table(
    name="responses",
    key=("response_id",),
    description="One row per answered NPS survey.",
    columns=(
        Column("response_id", "id", description="unique response identifier"),
        Column("account_id", "id", description="account of the respondent"),
        Column("respondent", "text", nullable=True, description="respondent (contact id or role)"),
        Column("responded_at", "date", description="date of the answer"),
        Column("score", "int", ge=0, le=10, description="likelihood to recommend, integer 0-10"),
        Column("comment", "text", nullable=True, description="verbatim, free text in any language"),
        Column("channel", "text", nullable=True, description="survey channel, e.g. email, in-app"),
    ),
    example=dict(
        response_id="R00000001", account_id="A000001", respondent="C0000001-1",
        responded_at="2025-06-02", score=6, comment="Raportit ovat hitaita", channel="email",
    ),
)

CONVERSATIONS = Table(
    name="conversations",
    key=("conversation_id",),
    description="One row per executive '4Q' customer conversation.",
    columns=(
        Column("conversation_id", "id", description="unique conversation identifier"),
        Column("account_id", "id", description="account spoken with"),
        Column("executive", "text", description="executive who held the conversation"),
        Column("held_on", "date", description="date of the conversation"),
        Column("q1_their_business", "text", nullable=True, description="how are things at your end"),
        Column("q2_their_industry", "text", nullable=True, description="what is happening in your industry"),
        Column("q3_competitors", "text", nullable=True, description="what do you hear about our competitors"),
        Column("q4_our_performance", "text", nullable=True, description="how are we doing as your supplier"),
        Column(
            "competitors_mentioned", "list", nullable=True,
            description="competitors named; in CSV a ';'-separated cell, empty = none",
        ),
        Column(
            "opportunity_mrr", "float", required=False, nullable=True, ge=0,
            description="expansion opportunity found, MRR, >= 0 (optional)",
        ),
    ),
    example=dict(
        conversation_id="V0000001", account_id="A000001", executive="CEO", held_on="2025-06-03",
        q1_their_business="Hiring again", q2_their_industry="Consolidation",
        q3_competitors="Globex pitched them", q4_our_performance="Support is slow",
        competitors_mentioned="Globex", opportunity_mrr=500.0,
    ),
)

TICKETS = Table(
    name="tickets",
    key=("ticket_id",),
    description="One row per support ticket.",
    columns=(
        Column("ticket_id", "id", description="unique ticket identifier"),
        Column("account_id", "id", description="account that opened it"),
        Column("opened_at", "date", description="date opened"),
        Column("closed_at", "date", nullable=True, description="date closed, empty = open, >= opened_at"),
        Column(
            "severity", "text", isin=("low", "medium", "high", "critical"),
            description="one of low, medium, high, critical",
        ),
        Column("category", "text", nullable=True, description="ticket category"),
        Column("csat", "int", required=False, nullable=True, ge=1, le=5, description="satisfaction 1-5 (optional)"),
    ),
    example=dict(
        ticket_id="T0000001", account_id="A000001", opened_at="2025-06-01", closed_at="2025-06-03",
        severity="high", category="performance", csat=3,
    ),
)

USAGE = Table(
    name="usage",
    key=("account_id", "week"),
    description="One row per account and week (week = the Monday starting it).",
    columns=(
        Column("account_id", "id", description="account"),
        Column("week", "date", description="Monday of the week"),
        Column("active_users", "int", ge=0, description="distinct active users in the week, >= 0"),
        Column("seats", "int", ge=0, description="licensed seats, >= 0"),
    ),
    example=dict(account_id="A000001", week="2025-06-02", active_users=41, seats=50),
)

SCHEMAS: dict[str, Table] = {
    t.name: t for t in (ACCOUNTS, SUBSCRIPTIONS, RESPONSES, CONVERSATIONS, TICKETS, USAGE)
}

REJECTED_COLUMNS = ["table", "row", "column", "rule", "value"]


def empty_frame(table: str) -> pd.DataFrame:
    """Return an empty DataFrame with the canonical columns and dtypes of ``table``.

    Examples
    --------
    >>> list(empty_frame("usage").columns)
    ['account_id', 'week', 'active_users', 'seats']
    """
    spec = SCHEMAS[table]
    return pd.DataFrame({c.name: pd.Series([], dtype=canonical_dtype(c.kind)) for c in spec.columns})


def canonical_dtype(kind: str):
    """The pandas dtype a column of ``kind`` has after loading."""
    return {
        "id": STRING_DTYPE,
        "text": STRING_DTYPE,
        "date": "datetime64[ns]",
        "int": "Int64",
        "float": "float64",
        "list": "object",
    }[kind]
