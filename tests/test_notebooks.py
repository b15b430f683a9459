"""Notebooks are committed clean and use public names only (they run under `make test`
with --nbmake on small data: CIN_ML_NB_STUDENTS)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_five_numbered_notebooks_exist():
    names = [p.name[:3] for p in NOTEBOOKS]
    assert names == ["01_", "02_", "03_", "04_", "05_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs_and_no_private_imports(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [] and cell.execution_count is None, "strip outputs"
        assert not re.search(r"cin_ml(\.\w+)*\._\w+", cell.source), cell.source


def test_no_library_module_switches_the_matplotlib_backend():
    """A notebook plots inline only if no cin_ml import switched the backend to Agg (notebook
    01's real-vs-virtual histogram showed nothing): figures use matplotlib.figure.Figure or
    pyplot without ``matplotlib.use``."""
    root = Path(__file__).resolve().parents[1] / "cin_ml"
    found = [str(p.relative_to(root)) for p in root.rglob("*.py")
             if re.search(r"matplotlib\.use\(|\buse\(\s*[\"']agg", p.read_text(encoding="utf-8"),
                          re.IGNORECASE)]
    assert found == []


def test_no_iprogress_warning_in_a_notebook_kernel():
    """mlflow imports tqdm.auto, which warns "IProgress not found" in a Jupyter kernel
    without ipywidgets; cin_ml.tracking silences that one warning (the kernel is faked the
    way tqdm detects it). Without cin_ml.tracking the warning shows: the fake is faithful."""
    import subprocess
    import sys

    fake = ("import sys, types, warnings\nwarnings.simplefilter('default')\n"
            "sys.modules['ipykernel.zmqshell'] = types.ModuleType('ipykernel.zmqshell')\n"
            "import IPython\n{}\nimport mlflow\n")
    runs = {first: subprocess.run([sys.executable, "-c", fake.format(first)],
                                  capture_output=True, text=True, timeout=120)
            for first in ("import cin_ml.tracking", "pass")}
    assert "IProgress" not in runs["import cin_ml.tracking"].stderr
    assert "IProgress" in runs["pass"].stderr
