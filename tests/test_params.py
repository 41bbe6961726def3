"""Report parameters: ranges written in the parameters cell, checked before any kernel starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedback_lib.errors import ParameterError, ReportError
from feedback_lib.reporting.params import (
    NotebookParameter,
    coerce_parameters,
    describe_parameters,
    read_parameters,
)

CELL = '''\
as_of: str = "2026-09-30"  # last day included
top_n: int = 20  # rows shown [1, 1000]
share: float = 0.1  # a share of churn avoided [0, 1]
weeks: list[int] = [4, 13]  # trend lengths [1, 104]
lift: float = 2.0  # no upper bound [0, inf]
segment: str = ""  # one segment {"", SMB, Mid-Market, Enterprise}
mode: str = "fast"  # a note with [brackets] inside {fast, full}
note: str = "x"  # free text, no range
'''


def notebook_file(folder: Path, source: str = CELL) -> Path:
    """A notebook file written as plain JSON (what read_parameters reads without nbformat)."""
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# t"]},
                    {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": [],
                     "execution_count": None, "source": source.splitlines(keepends=True)}]}
    path = folder / "t.ipynb"
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture
def declared(tmp_path):
    return read_parameters(notebook_file(tmp_path))


def test_ranges_are_parsed_off_the_comment(declared):
    top = declared["top_n"]
    assert (top.low, top.high, top.choices, top.comment) == (1, 1000, None, "rows shown")
    assert declared["lift"].low == 0 and declared["lift"].high is None
    assert declared["lift"].range_text == "[0, inf]"
    assert declared["segment"].choices == ("", "SMB", "Mid-Market", "Enterprise")
    assert declared["mode"].comment == "a note with [brackets] inside"
    assert declared["note"].range_text == "" and declared["note"].comment == "free text, no range"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("top_n", "-5", "parameter 'top_n' = -5 is outside its range [1, 1000]"),
        ("top_n", "0", "parameter 'top_n' = 0 is outside its range [1, 1000]"),
        ("top_n", "1001", "parameter 'top_n' = 1001 is outside its range [1, 1000]"),
        ("share", "1.5", "parameter 'share' = 1.5 is outside its range [0, 1]"),
        ("share", "-0.01", "parameter 'share' = -0.01 is outside its range [0, 1]"),
        ("weeks", "[4, 0]", "parameter 'weeks' = [4, 0] is outside its range [1, 104]"),
        ("segment", "Startup", "parameter 'segment' = Startup is not one of "
                               '{"", SMB, Mid-Market, Enterprise}'),
        ("mode", "slow", "parameter 'mode' = slow is not one of {fast, full}"),
    ],
)
def test_out_of_range_values_are_refused_in_one_line(declared, name, text, message):
    with pytest.raises(ParameterError) as info:
        coerce_parameters(declared, {name: text})
    assert str(info.value) == message
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [("top_n", "1", 1), ("top_n", "1000", 1000), ("share", "0", 0.0), ("share", "1", 1.0),
     ("lift", "1e9", 1e9), ("weeks", "[1, 104]", [1, 104]), ("segment", "SMB", "SMB"),
     ("segment", "", ""), ("mode", "full", "full")],
)
def test_values_at_the_bounds_pass(declared, name, text, value):
    assert coerce_parameters(declared, {name: text}) == {name: value}


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("top_n: int = 0  # rows [1, 10]", "the default is invalid: parameter 'top_n' = 0"),
        ("top_n: int = 5  # rows [10, 1]", "the range [10, 1] of 'top_n' does not fit int"),
        ("top_n: int = 5  # rows [1]", "the range [1] of 'top_n' does not fit int"),
        ("name: str = 'a'  # text [1, 2]", "the range [1, 2] of 'name' does not fit str"),
        ("top_n: int = 5  # rows {1, two}", "the range {1, two} of 'top_n' does not fit int"),
    ],
)
def test_a_badly_written_range_is_the_notebooks_error(tmp_path, line, fragment):
    with pytest.raises(ReportError, match="reading parameters of t.ipynb") as info:
        read_parameters(notebook_file(tmp_path, line + "\n"))
    assert fragment in str(info.value)


def test_help_text_lists_type_default_meaning_and_range(declared):
    text = describe_parameters(declared, skip=("as_of",))
    lines = text.splitlines()
    assert "as_of" not in text
    assert lines[0].split() == ["-p", "top_n", "INT", "rows", "shown", "(default", "20;",
                                "valid", "[1,", "1000])"]
    assert any("share FLOAT" in ln and "(default 0.1; valid [0, 1])" in ln for ln in lines)
    assert any('(default ""; valid {"", SMB, Mid-Market, Enterprise})' in ln for ln in lines)
    assert any("note STR" in ln and "free text, no range (default x)" in ln for ln in lines)


def test_check_ignores_none_and_checks_each_list_item():
    p = NotebookParameter("weeks", "list[int] | None", None, "", low=1, high=5)
    p.check(None)
    p.check([1, 5])
    with pytest.raises(ParameterError, match=r"= \[1, 6\] is outside its range \[1, 5\]"):
        p.check([1, 6])
