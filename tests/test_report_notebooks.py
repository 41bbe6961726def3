"""The report notebooks, run end to end by ``run_report`` on a small demo company.

Each run costs a kernel start and a few library fits (~20-60 s), so the runs are module-scoped
fixtures shared by the assertions. The demo has 300 accounts; two planted verbatims test the
safety of every output: a script tag with a contact e-mail address, and a spreadsheet formula.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest
from pptx import Presentation

import feedback_lib as fl
from feedback_lib.reporting import (
    REPORTS,
    find_unmasked_emails,
    report_notebook,
    run_report,
)
from tests.report_html import empty_sections, read_report

AS_OF = "2026-09-30"
SCRIPT_VERBATIM = "<script>alert(1)</script> Call me at maria.virtanen@example.com"
FORMULA_VERBATIM = '=HYPERLINK("http://evil.example","click")'
REPORT_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "reports"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """Demo exports (300 accounts) plus two planted responses from the largest account."""
    data = fl.generate_demo(seed=42, n_accounts=300, start="2023-10-01", end=AS_OF)
    largest = data.subscriptions.groupby("account_id")["mrr"].sum().idxmax()
    planted = pd.DataFrame({
        "response_id": ["RX0000001", "RX0000002"],
        "account_id": [largest, largest],
        "respondent": ["planted-1", "planted-2"],
        "responded_at": pd.to_datetime([AS_OF, AS_OF]),
        "score": [2, 3],
        "comment": [SCRIPT_VERBATIM, FORMULA_VERBATIM],
        "channel": ["email", "email"],
    }).astype(data.responses.dtypes.to_dict())
    data = dataclasses.replace(data, responses=pd.concat([data.responses, planted], ignore_index=True))
    folder = tmp_path_factory.mktemp("demo")
    fl.save_dataset(data, folder)
    return folder


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="module")
def weekly(source, out) -> Path:
    return run_report("weekly", as_of=AS_OF, source=source, out=out, progress=False)


@pytest.fixture(scope="module")
def quarterly(source, out) -> Path:
    # a scheduler's shell may set a non-inline matplotlib backend; the report must still show charts
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MPLBACKEND", "Agg")
        return run_report("quarterly", as_of=AS_OF, source=source, out=out, progress=False)


def metrics_of(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the notebooks as files


@pytest.mark.parametrize("kind", sorted(REPORTS))
def test_report_notebooks_are_stored_clean_and_parameterised(kind):
    path = report_notebook(kind)
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and nb.cells.index(tagged[0]) == 1
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code), "saved with outputs"
    # papermill must read every parameter too (--help-notebook, warnings): no '=' in comments
    inspected = pm.inspect_notebook(str(path))
    assert {"as_of", "source", "output_dir"} <= set(inspected)
    assert all(p["help"] for p in inspected.values()), "every parameter needs a comment"


@pytest.mark.parametrize("name", ["weekly_feedback_loop.ipynb", "quarterly_strategy_review.ipynb"])
def test_report_notebooks_are_thin(name):
    """The library computes, the notebook narrates: no functions, classes or loops."""
    nb = nbformat.read(str(REPORT_DIR / name), as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not re.search(r"^\s*(def|class|for|while|import sys)\b", source, re.MULTILINE)
    assert "sys.path" not in source and "!pip" not in source and "%autoreload" not in source


# ---------------------------------------------------------------- weekly


def test_weekly_publishes_the_contracted_files(weekly):
    assert weekly.name == "2026-W40"
    names = {p.name for p in weekly.iterdir()}
    assert {"weekly_feedback_loop.ipynb", "report.html", "metrics.json", "manifest.json",
            "callback_queue.csv"} <= names
    metrics = metrics_of(weekly)
    assert metrics["period"] == "2026-W40" and metrics["as_of"] == AS_OF
    assert metrics["callback_queue"]["respondents"] >= 2  # the planted detractors
    assert (weekly / "call_briefs.csv").is_file()
    fl.reporting.metrics_schema.validate_metrics("weekly", metrics)
    assert isinstance(metrics["outreach_list"], list) and metrics["callback_loop"]["available"] is False


def test_weekly_html_escapes_the_script_verbatim_and_masks_the_email(weekly):
    page = (weekly / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "m***@example.com" in page and "maria.virtanen@" not in page
    assert find_unmasked_emails(weekly) == {}


def test_weekly_csv_neutralises_the_formula(weekly):
    queue = pd.read_csv(weekly / "callback_queue.csv")
    comments = queue["comment"].dropna().tolist()
    assert "'" + FORMULA_VERBATIM in comments
    assert not any(str(c).startswith(("=", "+", "-", "@")) for c in comments)
    assert not any("maria.virtanen@" in str(c) for c in comments)


@pytest.mark.filterwarnings("ignore::feedback_lib.errors.SmallSampleWarning")
def test_weekly_with_other_as_of_and_segment_matches_the_library(source, tmp_path):
    """A papermill run with non-default parameters equals the library called directly."""
    as_of, segment = pd.Timestamp("2026-06-28"), "SMB"  # a Sunday: the week 2026-06-22..28
    folder = run_report("weekly", as_of="2026-06-28", source=source, out=tmp_path,
                        params={"segment": segment, "top_n": "5", "trend_weeks": "8"},
                        progress=False)
    assert folder == tmp_path / "weekly" / "2026-W26-SMB"  # a segment run has its own folder
    metrics = metrics_of(folder)

    data = fl.load_dataset(source)
    ids = set(data.accounts.loc[data.accounts["segment"] == segment, "account_id"])
    responses = data.responses[data.responses["account_id"].isin(ids)
                               & (data.responses["responded_at"] <= as_of)]
    days = responses["responded_at"]
    this_week = responses[days >= pd.Timestamp("2026-06-22")]["score"]
    last_week = responses[(days >= pd.Timestamp("2026-06-15"))
                          & (days < pd.Timestamp("2026-06-22"))]["score"]
    eight_weeks = responses[days >= pd.Timestamp("2026-05-04")]["score"]

    expected = fl.nps(this_week)
    assert metrics["segment"] == segment
    assert metrics["nps_week"]["n"] == expected.n == len(this_week)
    assert metrics["nps_week"]["score"] == pytest.approx(expected.score)
    assert metrics["nps_week"]["ci_low"] == pytest.approx(expected.ci_low)
    assert metrics["nps_week"]["ci_high"] == pytest.approx(expected.ci_high)
    change = fl.nps_change(last_week, this_week, method="adjusted-wald")
    assert metrics["nps_last_week"] == {"score": pytest.approx(fl.nps(last_week).score), "n": len(last_week)}
    assert metrics["nps_change_vs_last_week"]["difference"] == pytest.approx(change.difference)
    assert metrics["nps_change_vs_last_week"]["p_value"] == pytest.approx(change.p_value)
    assert metrics["nps_change_vs_last_week"]["significant"] is change.significant
    trend = fl.nps(eight_weeks)
    assert metrics["nps_trend"]["weeks"] == 8
    assert metrics["nps_trend"]["n"] == trend.n
    assert metrics["nps_trend"]["score"] == pytest.approx(trend.score)
    assert [row["segment"] for row in metrics["nps_by_segment"]] == [segment]

    accounts = data.accounts[data.accounts["account_id"].isin(ids)]
    subscriptions = data.subscriptions[data.subscriptions["account_id"].isin(ids)]
    conversations = data.conversations[data.conversations["account_id"].isin(ids)
                                       & (data.conversations["held_on"] <= as_of)]
    queue = fl.callback_queue(responses, accounts=accounts, subscriptions=subscriptions,
                              conversations=conversations, as_of=as_of)
    assert metrics["callback_queue"]["respondents"] == len(queue)
    assert metrics["callback_queue"]["mrr_at_stake_mrr"] == pytest.approx(queue["mrr"].sum())
    recent = conversations[conversations["held_on"] >= pd.Timestamp("2026-05-04")]
    mentions = fl.competitor_mention_rate(recent)
    assert metrics["competitor_mention_rate"]["n"] == mentions.n
    assert metrics["competitor_mention_rate"]["value"] == pytest.approx(mentions.share)


# ---------------------------------------------------------------- quarterly


def test_quarterly_deck_has_the_notebooks_slides(quarterly):
    spec = json.loads((quarterly / "deck.json").read_text(encoding="utf-8"))
    prs = Presentation(str(quarterly / "deck.pptx"))
    titles = [slide.shapes.title.text for slide in prs.slides]
    assert titles == [spec["title"], spec["kpi_title"], *[s["title"] for s in spec["slides"]]]
    assert [s["section"] for s in spec["slides"]] == [
        "ARR bridge", "Retention", "Cohorts", "Survival", "Churn drivers", "Concentration", "NPS",
        "Retention value"]
    assert titles[1] == "2026-Q3 in numbers"
    assert all(slide.notes_slide.notes_text_frame.text for slide in list(prs.slides)[2:])
    pages = len(re.findall(rb"/Type\s*/Page(?![a-z])", (quarterly / "deck.pdf").read_bytes()))
    assert pages == len(prs.slides) == 10


def test_quarterly_html_shows_every_chart_of_the_deck(quarterly):
    spec = json.loads((quarterly / "deck.json").read_text(encoding="utf-8"))
    html = (quarterly / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64") >= len(spec["slides"])


def test_quarterly_metrics_match_the_library(quarterly, source):
    metrics = metrics_of(quarterly)
    data = fl.load_dataset(source)
    revenue = fl.monthly_revenue(data.subscriptions, as_of=AS_OF)
    assert metrics["period"] == "2026-Q3"
    assert metrics["nrr"] == pytest.approx(fl.net_revenue_retention(revenue, as_of=AS_OF))
    assert metrics["grr"] == pytest.approx(fl.gross_revenue_retention(revenue, as_of=AS_OF))
    assert metrics["top5_mrr_share"] == pytest.approx(fl.top_share(revenue, as_of=AS_OF, top=0.05))
    bridge = fl.arr_bridge(fl.mrr_movements(revenue, as_of=AS_OF), freq="Q").iloc[-1]
    assert metrics["arr"] == pytest.approx(12 * bridge["closing_mrr"])
    assert metrics["bridge_quarter"]["churn"] == pytest.approx(12 * bridge["churn"])
    assert find_unmasked_emails(quarterly) == {}


def test_quarterly_manifest_hashes_the_inputs(quarterly, source):
    manifest = json.loads((quarterly / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["input_files"]) >= {"accounts.csv", "responses.csv", "subscriptions.csv"}
    assert "building deck" in manifest["steps_seconds"]


# ---------------------------------------------------------------- valuation


def test_valuation_report_runs_as_kind_valuation(source, out):
    folder = run_report("valuation", as_of=AS_OF, source=source, out=out, progress=False)
    assert folder == out / "valuation" / AS_OF
    assert {"report.html", "metrics.json", "manifest.json"} <= {p.name for p in folder.iterdir()}
    metrics = metrics_of(folder)
    page = read_report(folder / "report.html")
    assert page.problems() == [] and empty_sections(folder / "report.html") == []
    assert not {"Setup", "Artifacts"} & set(page.headings)
    assert page.headings[-2:] == ["Glossary", "Outputs"]
    # the summary, section 1 and metrics.json give one verdict, computed from the same numbers
    summary = page.text.split("Summary.")[1].split("1. The claim under five models")[0]
    assert metrics["verdict_sentence"] in summary
    assert f"holds under {metrics['models_holding']} of {len(metrics['holds_at_central'])} models" in summary
    assert metrics["claim_holds"] is all(metrics["holds_at_central"].values())
    assert "claim holds: no" in page.text if not metrics["claim_holds"] else "claim holds: yes" in page.text
    # synthetic comparables appear only in the method section, marked as such
    method = page.text.split("Method: what comparable companies say")[1]
    assert "Synthetic comparables, illustration only" in method
    assert "ynthetic" not in page.text.split("Method: what comparable companies say")[0].split("Summary.")[1]
