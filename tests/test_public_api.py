"""The public surface ``fl.X`` is frozen: every name offered before the subpackage layout stays,
with the same kind and the same signature (tests/data/public_api.json, written from the flat
layout before anything moved)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

import feedback_lib as fl

FROZEN = json.loads((Path(__file__).parent / "data" / "public_api.json").read_text())


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_every_frozen_name_is_still_offered_with_its_signature(name):
    obj = getattr(fl, name)
    expected = FROZEN[name]
    kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else type(obj).__name__
    assert kind == expected["kind"]
    if expected["signature"] is not None:
        assert str(inspect.signature(obj)) == expected["signature"]


def test_all_lists_exactly_the_frozen_names():
    """A new public name is added to tests/data/public_api.json on purpose, in the same change."""
    assert sorted(fl.__all__) == sorted(FROZEN)
