"""The exception tree is used: bad data, bad arguments, too little data and unfitted models each
raise their own class, and each of those is also the matching built-in."""

from __future__ import annotations

import pandas as pd
import pytest

import feedback_lib as fl


def test_every_error_class_derives_from_the_root_and_its_builtin():
    for cls, builtin in [(fl.SchemaError, ValueError), (fl.ParameterError, ValueError),
                         (fl.InsufficientDataError, ValueError), (fl.NotFittedError, RuntimeError),
                         (fl.ModelFitError, RuntimeError), (fl.StoreError, RuntimeError),
                         (fl.ReportError, RuntimeError)]:
        assert issubclass(cls, fl.FeedbackLibError) and issubclass(cls, builtin)


def test_nps_of_no_scores_is_insufficient_data_and_a_value_error():
    with pytest.raises(fl.InsufficientDataError, match="no scores"):
        fl.nps([])
    with pytest.raises(ValueError):
        fl.nps([])


def test_a_bad_argument_is_a_parameter_error():
    with pytest.raises(fl.ParameterError, match="confidence"):
        fl.wilson_interval(3, 10, confidence=1.5)
    with pytest.raises(fl.ParameterError, match="as_of"):
        fl.top_share(pd.DataFrame({"account_id": ["a"], "month": [pd.Timestamp("2026-01-01")], "mrr": [1.0]}),
                     as_of="not a date")


def test_bad_data_is_a_schema_error():
    revenue = pd.DataFrame({"account_id": ["a"], "month": [pd.Timestamp("2026-01-01")]})
    with pytest.raises(fl.SchemaError, match="missing column.*'mrr'"):
        fl.top_share(revenue, as_of="2026-01-31")
    subs = pd.DataFrame({"subscription_id": ["s1"], "account_id": ["a"], "start_date": [pd.Timestamp("2026-01-01")],
                         "end_date": [pd.NaT], "mrr": [float("inf")]})
    with pytest.raises(fl.SchemaError, match="not finite numbers"):
        fl.monthly_revenue(subs, as_of="2026-01-31")


def test_an_unfitted_model_says_so():
    with pytest.raises(fl.NotFittedError, match="not fitted"):
        fl.ChurnModel().summary  # noqa: B018
    with pytest.raises(fl.NotFittedError, match="not fitted"):
        fl.TimeVaryingChurnModel().summary  # noqa: B018


def test_too_little_data_for_a_statistic_is_insufficient_data():
    with pytest.raises(fl.InsufficientDataError, match="nobody churned"):
        fl.fit_sbg([100, 100, 100])
    with pytest.raises(fl.InsufficientDataError, match="at least one observation"):
        fl.wilson_interval(0, 0)
