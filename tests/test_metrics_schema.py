"""The metrics.json schema check: a kind without a schema passes, a violation names its path."""

import json

import pytest

from feedback_lib.errors import ReportError
from feedback_lib.reporting import metrics_schema as ms


def test_kind_without_schema_passes():
    ms.validate_metrics("no-such-kind", {"anything": 1})


def test_violation_names_the_json_path(tmp_path, monkeypatch):
    schema = {"type": "object", "required": ["nps_week"],
              "properties": {"nps_week": {"type": "object", "required": ["n"],
                                          "properties": {"n": {"type": "integer", "minimum": 0}}}}}
    (tmp_path / "toy.metrics.schema.json").write_text(json.dumps(schema))
    monkeypatch.setattr(ms, "SCHEMA_DIR", tmp_path)
    ms.metrics_schema.cache_clear()
    ms.validate_metrics("toy", {"nps_week": {"n": 3}})
    with pytest.raises(ReportError, match=r"\$\.nps_week\.n: -1 is less than the minimum of 0"):
        ms.validate_metrics("toy", {"nps_week": {"n": -1}})
    ms.metrics_schema.cache_clear()
