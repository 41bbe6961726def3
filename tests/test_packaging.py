"""environment.yml cannot drift from pyproject.toml; the console script is declared."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_installs_the_package_from_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    pip = next(d for d in deps if isinstance(d, str) and d.startswith("pip="))
    assert re.fullmatch(r"python=3\.\d+", python) and re.fullmatch(r"pip=[\d.]+", pip)
    minimum = tuple(int(x) for x in project["requires-python"].removeprefix(">=").split("."))
    assert tuple(int(x) for x in python.split("=")[1].split(".")) >= minimum
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    # the package itself, with its test extra, is the only thing pip installs: its dependencies
    # come from pyproject.toml and nothing else is pinned beside them
    assert pip_section == ['-e ".[test]"'] or pip_section == ["-e .[test]"]
    conda_names = {re.split(r"[=<>]", d)[0] for d in deps if isinstance(d, str)}
    assert conda_names == {"python", "pip"}
    assert set(project["optional-dependencies"]) >= {"test"}


def test_console_script_and_python_floor():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["feedback-lib"] == "feedback_lib.cli:main"
    assert project["requires-python"] == ">=3.11"


def test_data_model_doc_lists_every_column():
    from feedback_lib.io.schema import SCHEMAS

    doc = (ROOT / "docs" / "data-model.md").read_text()
    for table, spec in SCHEMAS.items():
        assert f"### `{table}`" in doc
        for column in spec.column_names:
            assert f"| `{column}` |" in doc, (table, column)


def test_every_notebook_is_stored_without_outputs():
    """The nbstripout rule as a test: notebooks (report and exploratory) are committed clean, with
    their cell tags kept; executed copies belong under reports/."""
    import nbformat

    notebooks = sorted(p for folder in ("notebooks", "feedback_lib") for p in (ROOT / folder).rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts)
    assert len(notebooks) >= 5
    dirty = [str(p.relative_to(ROOT)) for p in notebooks
             if any(c.cell_type == "code" and (c.outputs or c.execution_count is not None)
                    for c in nbformat.read(str(p), as_version=4).cells)]
    assert dirty == [], f"strip the outputs of {dirty} (jupyter nbconvert --clear-output --inplace)"
