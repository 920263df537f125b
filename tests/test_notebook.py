"""tinygraph in Jupyter: a notebook executed in a real kernel (nbclient), as a learner runs it.

One kernel runs every cell, since kernels start slowly: diagrams with Graphviz (SVG) and, after
the cell that takes dot off the kernel's PATH, without it (the DOT text and one line, no
traceback); figures as PNG; a History as one line; a fit without ipywidgets and without a warning.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent

CELLS = {
    "setup": """
import numpy as np
import tinygraph as tg
from tinygraph.models import LogisticRegression
X = np.random.default_rng(0).standard_normal((40, 2))
y = (X[:, 0] > 0).astype(int)
model = LogisticRegression(2, seed=0)
history = model.fit(X, y, epochs=3, progress=True)
""",
    "with dot": "tg.draw(model.loss(X, y))",
    "history": "history",
    "plot": "history.plot()",
    "plots": "tg.plots.plot_decision_boundary(model, X, y, resolution=20)",
    "pyplot-free figure": """
%matplotlib inline
from matplotlib.figure import Figure
fig = Figure(figsize=(2, 2))
fig.subplots().plot([0, 1], [1, 0])
fig
""",
    "no dot": """
import os, tempfile
os.environ["PATH"] = tempfile.mkdtemp()  # a PATH without Graphviz's dot
""",
    "without dot": "tg.draw(model.loss(X, y))",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Each cell's outputs, by the cell's name in CELLS, from one run of the notebook."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code.strip()) for code in CELLS.values()])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("MPLBACKEND", None)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("notebook"))}},
    )
    with client.setup_kernel(env=env):  # the kernel imports this checkout's tinygraph
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    return {name: cell.outputs for name, cell in zip(CELLS, notebook.cells)}


def mimetypes(cell_outputs) -> set[str]:
    return {kind for output in cell_outputs for kind in output.get("data", {})}


def streams(cell_outputs) -> str:
    return "".join(output.get("text", "") for output in cell_outputs if output.output_type == "stream")


def test_fit_shows_a_text_progress_bar_without_a_warning_when_ipywidgets_is_missing(outputs):
    assert "TqdmWarning" not in streams(outputs["setup"]) and "IProgress" not in streams(outputs["setup"])
    assert "LogisticRegression" in streams(outputs["setup"])  # the text bar, on stderr


def test_a_diagram_displays_as_svg_with_graphviz(outputs):
    assert "image/svg+xml" in mimetypes(outputs["with dot"])


def test_without_graphviz_a_diagram_displays_its_dot_text_and_how_to_install_it_without_a_traceback(outputs):
    (result,) = [o for o in outputs["without dot"] if o.output_type == "execute_result"]
    assert set(result.data) == {"text/plain"}
    text = result.data["text/plain"]
    first, rest = text.split("\n", 1)
    assert "apt-get install graphviz" in first and "digraph tinygraph {" in rest
    assert not [o for o in outputs["without dot"] if o.output_type == "error"]


def test_figures_display_inline_as_png_in_a_fresh_kernel(outputs):
    assert "image/png" in mimetypes(outputs["plot"]) and "image/png" in mimetypes(outputs["plots"])


def test_a_figure_made_without_pyplot_displays_once_matplotlib_inline_ran(outputs):
    """What the tutorials say about their own plotting code."""
    assert "image/png" in mimetypes(outputs["pyplot-free figure"])


def test_a_history_displays_as_one_line(outputs):
    (result,) = [o for o in outputs["history"] if o.output_type == "execute_result"]
    text = result.data["text/plain"]
    assert "\n" not in text and text.startswith("History(3 epochs: loss ")
