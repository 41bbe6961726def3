"""Tests of the workbench (feedback_lib.reporting.explore) and the exploratory notebooks it drives."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from plotly.callbacks import Points

import feedback_lib as fl
from feedback_lib.reporting.explore import ALL, Explorer, filter_data
from tests.test_drilldown import units

AS_OF = "2026-09-30"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "exploratory"


@pytest.fixture(scope="module")
def small():
    return fl.generate_demo(seed=42, n_accounts=300, start="2023-10-01", end=AS_OF)


@pytest.fixture(scope="module")
def explorer(small) -> Explorer:
    return Explorer(small, as_of=AS_OF)


def _click(trace, index: int, x=None, y=None) -> None:
    """What plotly's front end does on a click: call the trace's on_click callbacks."""
    points = Points(point_inds=[index], xs=[x], ys=[y], trace_name=trace.name, trace_index=0)
    for callback in trace._click_callbacks:
        callback(trace, points, None)


def test_filters_restrict_accounts_plans_and_dates(small):
    f = filter_data(small, segment="SMB", start="2026-01-01", end="2026-03-31")
    assert set(f.accounts["segment"]) == {"SMB"}
    assert f.subscriptions["account_id"].isin(f.accounts["account_id"]).all()
    assert f.responses["responded_at"].between("2026-01-01", "2026-03-31 23:59").all()
    plan = sorted(small.subscriptions["plan"].dropna().unique())[0]
    g = filter_data(small, plan=plan, region=ALL)
    assert set(g.subscriptions["plan"]) == {plan} and g.accounts["account_id"].isin(g.subscriptions["account_id"]).all()


def test_clicking_a_bridge_bar_lists_the_accounts_that_make_it(explorer):
    churn_trace = next(t for t in explorer.bridge_fig.data if t.name == "churn")
    i = len(explorer.bridge_) - 1
    _click(churn_trace, i)
    rows = explorer.selection_
    assert units(rows["mrr_change"]) == units([explorer.bridge_["churn"].iloc[i]])
    assert "owner" in rows.columns and explorer.selection_title_.startswith("churn in")


def test_clicking_an_nps_point_and_a_cohort_cell(explorer):
    i = int(explorer.nps_["n"].to_numpy().argmax())
    _click(explorer.nps_fig.data[2], i)
    row = explorer.nps_.iloc[i]
    assert len(explorer.selection_) == row["n_responses"]
    cell = explorer.cohorts_.iloc[3]
    _click(explorer.cohort_fig.data[0], 0, x=int(cell["period_index"]), y=f"{cell['cohort']:%Y-%m}")
    assert len(explorer.selection_) == cell["accounts"]
    assert int(explorer.selection_["retained"].sum()) == cell["retained"]


def test_a_filter_change_recomputes_the_charts(explorer, small):
    before = explorer.bridge_["closing_mrr"].iloc[-1]
    explorer.controls["segment"].value = "Enterprise"
    try:
        assert set(explorer.filtered_.accounts["segment"]) == {"Enterprise"}
        assert explorer.bridge_["closing_mrr"].iloc[-1] < before
        assert list(explorer.bridge_fig.data[0].y) == explorer.bridge_["new"].tolist()
    finally:
        explorer.controls["segment"].value = ALL


@pytest.mark.slow
@pytest.mark.parametrize("name", ["exploring_feedback", "revenue_and_retention"])
def test_exploratory_notebooks_run_offline_on_a_small_demo(small, tmp_path, name):
    source = tmp_path / "demo"
    fl.save_dataset(small, source)
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters={"source": str(source)},
                        cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False)
    nb = nbformat.read(str(out), as_version=4)
    text = "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout")
    html = "\n".join(str(o.get("data", {})) for c in nb.cells for o in c.get("outputs", []))
    assert not re.search(r"<script[^>]+src=[\"']https?://", html)  # nothing loaded from a CDN
    assert "application/vnd.jupyter.widget-view+json" in html  # the charts and tables are widgets
    if name == "exploring_feedback":
        assert re.search(r"Worst week \d\d \w{3} 2026: NPS [+-]\d+ on \d+ responses", text)
    else:
        assert re.search(r"The top \d+ accounts hold \d+% of MRR", text) and "Concordance" in text
