"""Add deliberately new public names to tests/data/public_api.json.

Usage: ``python -m tests.freeze_api NAME [NAME ...]`` records each ``fl.NAME`` with its kind and
signature, exactly as ``tests/test_public_api.py`` checks them. Names already frozen are refused:
changing a frozen signature is a decision to make by editing the file by hand.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import feedback_lib as fl

FROZEN_FILE = Path(__file__).parent / "data" / "public_api.json"


def entry(name: str) -> dict:
    """Kind and signature of ``fl.<name>`` as the public-API test compares them."""
    obj = getattr(fl, name)
    kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else type(obj).__name__
    try:
        signature = str(inspect.signature(obj)) if callable(obj) else None
    except (TypeError, ValueError):
        signature = None
    return {"kind": kind, "signature": signature}


def main(names: list[str]) -> int:
    frozen = json.loads(FROZEN_FILE.read_text())
    for name in names:
        if name in frozen:
            print(f"{name} is already frozen; edit {FROZEN_FILE} by hand to change it")
            return 2
        frozen[name] = entry(name)
    FROZEN_FILE.write_text(json.dumps(frozen, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
