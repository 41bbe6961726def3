"""The house rules of docs/architecture.md, checked on the source: imports point down the layers,
no module imports the package root, modules stay small, and the public surface is explicit."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import feedback_lib as fl

PACKAGE = Path(fl.__file__).resolve().parent

#: Layer of every top-level module or subpackage; a module may import only from a lower layer or
#: from its own subpackage.
LAYERS = {
    "errors": 0,
    "_util": 1,
    "io": 2,
    "demo": 3,
    "engines": 3,
    "revenue": 4,
    "survey": 5,
    "verbatims": 5,
    "churn": 6,
    "valuation": 7,
    "program": 8,
    "reporting": 9,
    "cli": 10,
    "__main__": 11,
}
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _home(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (the house uses absolute imports)"
            if node.module and node.module.split(".")[0] == "feedback_lib":
                if node.module == "feedback_lib":
                    out += [(node.lineno, f"feedback_lib.{a.name}") for a in node.names]
                else:
                    out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "feedback_lib"]
    return out


def test_every_module_has_a_layer():
    homes = {_home(p) for p in _modules()} - {"__init__"}
    assert homes <= set(LAYERS), f"modules without a layer in LAYERS: {sorted(homes - set(LAYERS))}"


@pytest.mark.parametrize("path", [p for p in _modules() if p.name != "__init__.py" or p.parent != PACKAGE],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_and_never_at_the_package_root(path):
    home = _home(path)
    for line, module in _imports(path):
        parts = module.split(".")
        assert len(parts) > 1, f"{path.name}:{line} imports the package root"
        target = parts[1]
        assert target in LAYERS, f"{path.name}:{line} imports {module}, which is no module of the package"
        if target == home:
            continue
        assert LAYERS[target] < LAYERS[home], (
            f"{path.relative_to(PACKAGE)}:{line} imports {module}: {home} (layer {LAYERS[home]}) may only "
            f"import from lower layers, and {target} is layer {LAYERS[target]}"
        )


def test_modules_stay_small_and_the_root_holds_only_a_handful_of_files():
    long = {str(p.relative_to(PACKAGE)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py", "__main__.py", "cli.py", "errors.py"]


def test_every_subpackage_says_what_lives_there_and_what_it_may_import():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{init} has no docstring"
        if init.parent.name != "reporting":
            assert "May import" in doc, f"{init}: the docstring does not say what the subpackage may import"


def test_the_public_surface_is_explicit():
    """Right after ``import feedback_lib`` (a fresh interpreter: other tests import more modules)."""
    probe = (
        "import json, types, feedback_lib as fl;"
        "print(json.dumps({'modules': sorted(n for n in dir(fl) if isinstance(getattr(fl, n), types.ModuleType)),"
        "'stray': sorted(n for n in dir(fl) if not n.startswith('__') and n not in fl.__all__"
        " and not isinstance(getattr(fl, n), types.ModuleType)), 'all': fl.__all__}))"
    )
    seen = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    subpackages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    # errors is the one top-level module imported eagerly; reporting and cli load on first use
    assert set(seen["modules"]) <= set(subpackages) | {"errors"}
    assert "reporting" not in seen["modules"]
    assert seen["stray"] == []
    assert len(seen["all"]) == len(set(seen["all"]))
    for name in seen["all"]:
        assert getattr(fl, name) is not None


def test_no_bare_feedbacklib_error_is_raised():
    """A subclass says more: SchemaError, ParameterError, InsufficientDataError, NotFittedError."""
    bare = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                if isinstance(func, ast.Name) and func.id == "FeedbackLibError":
                    bare.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert bare == []


def test_import_feedback_lib_leaves_the_heavy_modules_unloaded():
    """lifelines, statsmodels, scipy.stats, matplotlib, DuckDB, papermill and python-pptx load on
    first use, so ``import feedback_lib`` stays fast (bench/results.md times it)."""
    heavy = ["lifelines", "statsmodels", "scipy.stats", "matplotlib", "seaborn", "duckdb", "papermill",
             "nbformat", "pptx", "feedback_lib.reporting", "feedback_lib.cli", "ibis"]
    probe = f"import sys, json, feedback_lib; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert loaded == []
