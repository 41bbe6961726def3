"""The report runner: parameters, atomic publishing, failure behaviour, safety of outputs.

These tests run a tiny notebook built here (no library metrics needed); the report notebooks
themselves are exercised in tests/test_report_notebooks.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from feedback_lib.errors import FeedbackLibError, ParameterError, ReportError
from feedback_lib.reporting import (
    coerce_parameters,
    find_unmasked_emails,
    mask_email,
    mask_emails,
    narrate,
    parse_as_of,
    read_parameters,
    report_period,
    run_report,
    safe_csv,
    safe_table,
)

PARAMETERS = '''\
as_of: str = "2026-09-30"  # last day included
source: str = ""  # data folder, .xlsx or .duckdb; empty = demo
output_dir: str = "."  # where metrics.json is written
comment: str = "<script>alert(1)</script> call me"  # a verbatim
top_n: int = 20  # rows shown
threshold: float = 0.5  # a ratio
fail: bool = False  # raise in the middle of the run
leak: bool = False  # print an unmasked e-mail address
write_metrics_file: bool = True  # write metrics.json
segments: list[str] = []  # segments to include
'''

# The fixture's own code never spells an address: the executed notebook is scanned too.
BODY = [
    "import pandas as pd\nfrom feedback_lib.reporting import mask_email, narrate, safe_csv, "
    "safe_table, write_metrics\nemail = 'maria.virtanen' + chr(64) + 'example.com'",
    "table = pd.DataFrame({'comment': [comment], 'mrr': [1200.0], "
    "'contact': [email]})\nsafe_table(table)",
    "narrate('Verbatim of the week: {c} ({e})', c=comment, e=email)",
    "if fail:\n    raise ValueError('planted failure')",
    "print('contact: ' + email if leak else mask_email(email))",
    "safe_csv(table, f'{output_dir}/queue.csv')\n"
    "if write_metrics_file:\n"
    "    write_metrics({'as_of': as_of, 'top_n': top_n, 'threshold': threshold, "
    "'segments': segments, 'source': source}, output_dir)",
]


def make_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Tiny report\nA fixture for the runner.")]
    params = nbformat.v4.new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells.append(params)
    nb.cells += [nbformat.v4.new_code_cell(src) for src in BODY]
    path = folder / "tiny_report.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_notebook(tmp_path_factory.mktemp("nb"))


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    (folder / "accounts.csv").write_text("account_id\nA1\n")
    return folder


@pytest.fixture(scope="module")
def published(tiny, source, tmp_path_factory):
    """One successful run, shared by the tests that only read its outputs."""
    out = tmp_path_factory.mktemp("out")
    folder = run_report("weekly", as_of="2026-09-30", source=source, out=out,
                        params={"top_n": "7", "segments": '["SMB"]'}, progress=False,
                        notebook=tiny)
    return folder


def run(tiny, source, out, **params):
    return run_report("weekly", as_of="2026-09-30", source=source, out=out, params=params,
                      progress=False, notebook=tiny)


# ---------------------------------------------------------------- parameters


def test_read_parameters_reads_types_defaults_and_comments(tiny):
    declared = read_parameters(tiny)
    assert list(declared)[:3] == ["as_of", "source", "output_dir"]
    assert declared["top_n"].annotation == "int"
    assert declared["top_n"].default == 20
    assert declared["top_n"].comment == "rows shown"
    assert declared["segments"].annotation == "list[str]"
    assert declared["segments"].default == []


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("top_n", "15", 15),
        ("threshold", "0.25", 0.25),
        ("threshold", "1", 1.0),
        ("fail", "true", True),
        ("fail", "No", False),
        ("segments", '["SMB", "Enterprise"]', ["SMB", "Enterprise"]),
        ("segments", "[SMB, Mid-Market]", ["SMB", "Mid-Market"]),
        ("comment", "12", "12"),
    ],
)
def test_cli_strings_are_coerced_by_annotation(tiny, name, text, expected):
    assert coerce_parameters(read_parameters(tiny), {name: text}) == {name: expected}


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("top_n", "many", "parameter 'top_n' expects int, got 'many'"),
        ("top_n", "2.5", "parameter 'top_n' expects int, got '2.5'"),
        ("top_n", True, "parameter 'top_n' expects int, got True"),
        ("threshold", "half", "parameter 'threshold' expects float, got 'half'"),
        ("threshold", "nan", "parameter 'threshold' expects float, got 'nan'"),
        ("fail", "maybe", "parameter 'fail' expects bool, got 'maybe'"),
        ("segments", "SMB", "parameter 'segments' expects list[str], got 'SMB'"),
        ("segments", "[1, 2]", "parameter 'segments' expects list[str], got '[1, 2]'"),
        ("comment", 12, "parameter 'comment' expects str, got 12"),
        ("topn", "5", "unknown parameter 'topn'; this report takes: as_of, source"),
    ],
)
def test_bad_parameters_are_rejected_with_name_type_and_value(tiny, name, value, fragment):
    with pytest.raises(ParameterError) as info:
        coerce_parameters(read_parameters(tiny), {name: value})
    assert fragment in str(info.value)


def test_a_parameters_cell_with_code_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("as_of: str = compute()  # not a literal")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    with pytest.raises(ReportError, match="the default of 'as_of' is not a literal"):
        read_parameters(nb)


def test_as_of_and_period():
    assert parse_as_of("2026-02-28") == dt.date(2026, 2, 28)
    for bad in ("2026-02-30", "30/09/2026", "yesterday", 20260930):
        with pytest.raises(ParameterError, match="as_of expects a date YYYY-MM-DD"):
            parse_as_of(bad)
    # ISO weeks: 2026-01-01 is a Thursday (week 1); 2025-12-29 (Monday) starts that week.
    assert report_period("weekly", dt.date(2025, 12, 29)) == "2026-W01"
    assert report_period("weekly", dt.date(2026, 9, 28)) == "2026-W40"
    assert report_period("quarterly", dt.date(2026, 10, 1)) == "2026-Q4"
    assert report_period("valuation", dt.date(2026, 10, 1)) == "2026-10-01"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"params": {"topn": "5"}}, "unknown parameter 'topn'"),
        ({"params": {"top_n": "five"}}, "parameter 'top_n' expects int, got 'five'"),
        ({"params": {"output_dir": "/tmp"}}, "parameter 'output_dir' is set by the runner"),
        ({"as_of": "2026-13-01"}, "as_of expects a date YYYY-MM-DD, got '2026-13-01'"),
        ({"source": "/no/such/folder"}, "source '/no/such/folder' does not exist"),
        ({"kind": "monthly"}, "unknown report kind 'monthly'"),
    ],
)
def test_run_report_rejects_parameters_before_executing(tiny, source, tmp_path, kwargs,
                                                        fragment):
    args = {"kind": "weekly", "as_of": "2026-09-30", "source": source, "params": None, **kwargs}
    with pytest.raises(ParameterError) as info:
        run_report(args.pop("kind"), out=tmp_path, progress=False, notebook=tiny, **args)
    assert fragment in str(info.value)
    assert isinstance(info.value, FeedbackLibError)
    assert list(tmp_path.rglob("*")) == []  # nothing executed, nothing written


# ---------------------------------------------------------------- a successful run


def test_published_folder_has_the_contracted_files(published, tmp_path):
    assert published.name == "2026-W40"
    assert published.parent.name == "weekly"
    names = {p.name for p in published.iterdir()}
    assert {"tiny_report.ipynb", "report.html", "metrics.json", "manifest.json",
            "queue.csv"} <= names
    assert not [p for p in published.parent.iterdir() if p.name.startswith(".")]


def test_metrics_carry_the_coerced_parameters(published, source):
    metrics = json.loads((published / "metrics.json").read_text())
    assert metrics == {"as_of": "2026-09-30", "top_n": 7, "threshold": 0.5,
                       "segments": ["SMB"], "source": str(source.resolve())}


def test_manifest_records_provenance(published, source):
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["kind"] == "weekly"
    assert manifest["period"] == "2026-W40"
    assert manifest["parameters"] == {"as_of": "2026-09-30", "source": str(source.resolve()),
                                      "top_n": 7, "segments": ["SMB"]}
    assert manifest["input_files"] == {
        "accounts.csv": hashlib.sha256(b"account_id\nA1\n").hexdigest()}
    assert set(manifest["packages"]) >= {"feedback_lib", "pandas", "numpy", "lifelines",
                                         "statsmodels", "papermill", "duckdb"}
    assert manifest["python"].count(".") == 2
    assert "git_revision" in manifest
    assert manifest["started"] <= manifest["finished"]
    assert manifest["duration_seconds"] >= 0
    assert {"validating parameters", "executing notebook tiny_report.ipynb", "checking metrics",
            "exporting HTML", "checking outputs"} <= set(manifest["steps_seconds"])


def test_report_html_has_no_code_and_escapes_verbatims(published):
    page = (published / "report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "write_metrics(" not in page  # no code cells
    assert "safe_table(" not in page
    assert "top_n: int" not in page  # neither the parameters cell ...
    assert "output_dir = " not in page  # ... nor the injected parameters
    assert 'class="jp-InputPrompt' not in page and 'class="jp-OutputPrompt' not in page
    assert "<script" not in page  # self-contained: no scripts, nothing loaded from a CDN
    assert "About this report" in page
    assert "period: 2026-W40 · data up to: 2026-09-30 · source: source" in page
    assert "top_n: 7 · segments: SMB" in page


def test_emails_are_masked_everywhere(published):
    assert find_unmasked_emails(published) == {}
    page = (published / "report.html").read_text()
    assert "m***@example.com" in page
    assert "maria.virtanen" not in (published / "queue.csv").read_text()


def earlier_outputs(published: Path, out: Path) -> Path:
    """A copy of the published run under ``out``, standing for last week's outputs."""
    copy = out / "weekly" / published.name
    shutil.copytree(published, copy)
    return copy


def test_rerun_of_the_same_period_replaces_it(published, tiny, source, tmp_path):
    earlier = earlier_outputs(published, tmp_path)
    again = run(tiny, source, tmp_path, top_n="2")
    assert again == earlier
    assert json.loads((again / "metrics.json").read_text())["top_n"] == 2
    assert [p.name for p in (tmp_path / "weekly").iterdir()] == ["2026-W40"]


# ---------------------------------------------------------------- failures


def test_failing_cell_names_the_step_and_keeps_earlier_outputs(published, tiny, source,
                                                               tmp_path):
    good = earlier_outputs(published, tmp_path)
    before = {p.name: p.read_bytes() for p in good.iterdir()}
    with pytest.raises(ReportError) as info:
        run(tiny, source, tmp_path, top_n="4", fail="true")
    message = str(info.value)
    # cell 6 of the source notebook: title, parameters, import, table, narrate, *raise*
    assert message == ("executing notebook tiny_report.ipynb: cell 6 raised ValueError: "
                       "planted failure")
    assert {p.name: p.read_bytes() for p in good.iterdir()} == before
    assert [p.name for p in (tmp_path / "weekly").iterdir()] == ["2026-W40"]


def test_missing_metrics_fail_the_run(tiny, source, tmp_path):
    with pytest.raises(ReportError, match=r"^checking metrics: the notebook wrote no "
                                          r"metrics.json"):
        run(tiny, source, tmp_path, write_metrics_file="false")
    assert list((tmp_path / "weekly").iterdir()) == []


def test_unmasked_email_fails_the_run(tiny, source, tmp_path):
    with pytest.raises(ReportError) as info:
        run(tiny, source, tmp_path, leak="true")
    assert str(info.value).startswith("checking outputs: unmasked e-mail addresses in ")
    assert "m***@example.com" in str(info.value)
    assert "maria.virtanen" not in str(info.value)  # the error does not leak it either
    assert list((tmp_path / "weekly").iterdir()) == []


# ---------------------------------------------------------------- safety helpers


def test_mask_email():
    assert mask_email("maria.virtanen@example.com") == "m***@example.com"
    assert mask_email("Reach me: jo@corp.example.fi or x@y.io") == (
        "Reach me: j***@corp.example.fi or x***@y.io")
    assert mask_email("no address here") == "no address here"
    frame = pd.DataFrame({"who": ["ab@c.de", None], "n": [1, 2]})
    masked = mask_emails(frame)
    assert masked["who"].tolist() == ["a***@c.de", None]
    assert frame["who"].tolist() == ["ab@c.de", None]  # input not mutated


def test_safe_csv_neutralises_formulas(tmp_path):
    frame = pd.DataFrame({
        "comment": ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\ry", "fine", None],
        "mrr": [-5.0, 1, 2, 3, 4, 5, 6, 7],
    })
    path = safe_csv(frame, tmp_path / "x.csv")
    back = pd.read_csv(path, keep_default_na=False)
    assert back["comment"].tolist() == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", "'\ry",
                                        "fine", ""]
    assert back["mrr"].tolist()[0] == -5.0  # numbers untouched


def test_safe_table_and_narrate_escape_markup():
    styled = safe_table(pd.DataFrame({"<b>col": ["<img src=x onerror=alert(1)>"]})).to_html()
    assert "<img" not in styled and "&lt;img src=x onerror=alert(1)&gt;" in styled
    assert "&lt;b&gt;col" in styled
    md = narrate("Theme **{t}**", t="<script>x</script> *bold*").data
    assert "<script>" not in md and r"\*bold\*" in md


# ---------------------------------------------------------------- report context and sections


@pytest.fixture(scope="module")
def demo_context(tmp_path_factory):
    from feedback_lib.reporting import report_context

    return report_context("weekly", as_of="2026-06-28", output_dir=str(tmp_path_factory.mktemp("o")),
                          segment="SMB")


@pytest.fixture(scope="module")
def demo_data(demo_context):
    from feedback_lib.reporting import load_report_data

    return load_report_data(demo_context, demo_accounts=300)


def test_report_context_labels_periods(tmp_path):
    from feedback_lib.reporting import report_context

    ctx = report_context("quarterly", as_of="2026-08-15", output_dir=str(tmp_path / "x"))
    assert (ctx.period, ctx.period_label, ctx.scope) == ("2026-Q3", "2026-Q3 to date",
                                                         "all segments")
    assert ctx.quarter_start == pd.Timestamp("2026-07-01") and (tmp_path / "x").is_dir()
    assert report_context("weekly", as_of="2026-06-28").period_label == "2026-W26"  # a Sunday
    assert report_context("weekly", as_of="2026-06-24").period_label == "2026-W26 to date"
    with pytest.raises(ParameterError, match="source '/nowhere' does not exist"):
        report_context("weekly", as_of="2026-06-28", source="/nowhere")


def test_load_report_data_cuts_at_as_of_and_keeps_one_segment(demo_context, demo_data):
    assert set(demo_data.accounts["segment"]) == {"SMB"}
    ids = set(demo_data.accounts["account_id"])
    for name, column in [("responses", "responded_at"), ("conversations", "held_on"),
                         ("tickets", "opened_at"), ("usage", "week"),
                         ("subscriptions", "start_date")]:
        frame = getattr(demo_data, name)
        assert len(frame) and set(frame["account_id"]) <= ids, name
        assert frame[column].max() <= demo_context.as_of, name
    assert not (demo_data.tickets["closed_at"] > demo_context.as_of).any()
    assert set(demo_data.responses["segment"]) == {"SMB"}


def test_load_report_data_names_an_unknown_segment(tmp_path):
    from feedback_lib.reporting import load_report_data, report_context

    ctx = report_context("weekly", as_of="2026-06-28", output_dir=str(tmp_path), segment="Smb")
    with pytest.raises(ParameterError, match=r"segment 'Smb' is not in accounts.segment "
                                             r"\(known: Enterprise, Mid-Market, SMB\)"):
        load_report_data(ctx, demo_accounts=300)


@pytest.mark.filterwarnings("ignore::feedback_lib.errors.SmallSampleWarning")
def test_weekly_nps_equals_nps_of_the_weeks(demo_data):
    import feedback_lib as fl
    from feedback_lib.reporting import weekly_nps

    result = weekly_nps(demo_data.responses, as_of="2026-06-28", trend_weeks=13)
    days = demo_data.responses["responded_at"]
    week = demo_data.responses[days >= pd.Timestamp("2026-06-22")]["score"]
    before = demo_data.responses[(days >= pd.Timestamp("2026-06-15"))
                                 & (days < pd.Timestamp("2026-06-22"))]["score"]
    thirteen = demo_data.responses[days >= pd.Timestamp("2026-03-30")]["score"]
    assert result.n == len(week) and result.score == pytest.approx(fl.nps(week).score)
    assert result.change == pytest.approx(fl.nps_change(before, week).difference)
    assert result.change_p_value == pytest.approx(fl.nps_change(before, week).p_value)
    assert result.significant == (result.change_p_value < 0.05)
    assert result.trend.n == len(thirteen)
    assert result.normal_low < result.normal_high


def test_weekly_nps_of_a_week_without_responses_is_missing_not_last_week():
    from feedback_lib.reporting import weekly_nps

    responses = pd.DataFrame({"responded_at": pd.to_datetime(["2026-06-15", "2026-06-16"]),
                              "score": [10, 0]})
    result = weekly_nps(responses, as_of="2026-06-28")
    assert result.n == 0 and pd.isna(result.score) and pd.isna(result.change)
    assert not result.significant and not result.outside_normal_range
    assert narrate("NPS {s:+.0f}", s=result.score).data == "NPS n/a"


@pytest.mark.filterwarnings("ignore::feedback_lib.errors.SmallSampleWarning")
def test_nps_by_group_equals_nps_per_group(demo_data):
    import feedback_lib as fl
    from feedback_lib.reporting import nps_by_group

    table = nps_by_group(demo_data.responses, by="channel")
    for row in table.itertuples():
        scores = demo_data.responses.loc[demo_data.responses["channel"] == row.channel, "score"]
        expected = fl.nps(scores)
        assert (row.n, row.nps) == (expected.n, pytest.approx(expected.score))
        assert (row.ci_low, row.ci_high) == (pytest.approx(expected.ci_low),
                                             pytest.approx(expected.ci_high))
    assert table["n"].is_monotonic_decreasing


def test_entered_list_and_significance():
    from feedback_lib.reporting import entered_list, significance

    now = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "mrr_at_risk": [9, 8, 7, 6]})
    before = pd.DataFrame({"account_id": ["c", "a", "x", "b"]})
    assert entered_list(now, before, top=3)["account_id"].tolist() == ["b"]
    assert significance(0.04).startswith("a statistically significant change")
    assert significance(0.5) == "within normal variation (p = 0.50)"


def test_safe_csv_on_every_kind_of_text_column(tmp_path):
    from feedback_lib.reporting.safety import safe_csv

    frame = pd.DataFrame({
        "arrow": pd.array(["=SUM(A1)", "ok", None, "mail a.b@x.org"], dtype="string[pyarrow]"),
        "object": np.array(["+1", "fine", "cfo@acme.example", "-2"], dtype=object),
        "category": pd.Categorical(["@home", "x", "x", "y"]),
        "lists": [["a@b.com"], [], ["c"], []],
        "n": [1, -2, 3, 4],
    })
    text = safe_csv(frame, tmp_path / "out.csv").read_text(encoding="utf-8")
    rows = text.splitlines()
    assert rows[1].startswith("\"'=SUM(A1)\",\"'+1\",\"'@home\"")
    assert "a***@x.org" in text and "c***@acme.example" in text and "cfo@" not in text
    assert rows[4].startswith('"mail a***@x.org","\'-2","y"')


def test_safe_table_renders_an_empty_table_with_its_headers():
    """A quiet week (nobody below 9, no comments) gives an empty table, never a crash."""
    from feedback_lib.reporting import safe_table
    empty = pd.DataFrame({"account_id": pd.Series([], dtype="string"),
                          "comment": pd.Series([], dtype="string"), "mrr": pd.Series([], dtype=float)})
    html_out = safe_table(empty).to_html()
    assert "Account ID" in html_out and "Comment" in html_out and "<td" not in html_out
