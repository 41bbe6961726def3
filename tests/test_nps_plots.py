"""Tests of feedback_lib.survey.plots: what is drawn, on which axes, with which labels."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from feedback_lib.errors import SchemaError, SmallSampleWarning  # noqa: E402
from feedback_lib.survey.periods import nps_control_chart, nps_table
from feedback_lib.survey.plots import plot_control_chart, plot_nps_trend


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def weekly(n_weeks: int = 20, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 60 * n_weeks
    return pd.DataFrame({
        "responded_at": pd.Timestamp("2025-01-06") + pd.to_timedelta(rng.integers(0, 7 * n_weeks, n), "D"),
        "score": rng.choice([10, 8, 2], size=n, p=[0.5, 0.3, 0.2]),
        "segment": rng.choice(["SMB", "Enterprise"], size=n)})


def test_trend_one_line_and_band_per_group():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        table = nps_table(weekly(), by="segment", confidence=0.9)
    fig, ax = plt.subplots()
    assert plot_nps_trend(table, ax=ax) is ax
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["Enterprise", "SMB"]
    assert len(ax.collections) == 2  # one interval band per segment
    assert ax.get_ylabel() == "NPS (points, -100 to 100)"
    assert ax.get_xlabel() == "Week starting"
    assert "90% interval" in ax.get_title()
    enterprise = ax.get_lines()[0]
    expected = table.loc[table["segment"] == "Enterprise", "nps"].to_numpy()
    assert np.allclose(enterprise.get_ydata(), expected)


def test_trend_marks_small_samples_hollow():
    table = pd.DataFrame({"period": pd.to_datetime(["2025-06-02", "2025-06-09", "2025-06-16"]),
                          "nps": [30.0, 10.0, 20.0], "ci_low": [20.0, -20.0, 10.0],
                          "ci_high": [40.0, 40.0, 30.0], "small_sample": [False, True, False]})
    ax = plot_nps_trend(table)
    hollow = [line for line in ax.get_lines() if line.get_markerfacecolor() == "white"]
    assert len(hollow) == 1 and list(hollow[0].get_ydata()) == [10.0]
    with pytest.raises(SchemaError, match="ci_low"):
        plot_nps_trend(table.drop(columns="ci_low"))


def test_control_chart_highlights_flagged_points():
    frame = weekly(30)
    shifted = frame["responded_at"] >= pd.Timestamp("2025-01-06") + pd.Timedelta(weeks=25)
    shifted &= frame["responded_at"] < pd.Timestamp("2025-01-06") + pd.Timedelta(weeks=26)
    frame.loc[shifted, "score"] = 0
    chart = nps_control_chart(frame)
    assert chart["flagged"].sum() == 1
    ax = plot_control_chart(chart)
    red = [line for line in ax.get_lines() if line.get_label() == "outside limits"]
    assert len(red) == 1 and to_rgba(red[0].get_color()) == to_rgba("tab:red")
    assert list(red[0].get_ydata()) == [-100.0]
    assert ax.get_title() == "NPS control chart: 1 period outside the limits"
    assert ax.get_ylabel() == "NPS (points, -100 to 100)"
