"""Draw the documentation's figures from the pages' own code: ``python docs/make_figures.py``.

Every figure is a variable that the code of a page leaves behind: a diagram from ``tg.draw`` (a
graphviz Digraph) or a matplotlib Figure. This script runs the page (with ``doccode``), renders
the variable to ``docs/images/NAME.svg`` and records in ``docs/images/figures.json`` what the figure
was made from:

* ``code``: a hash of the page's python blocks and of the renderer below;
* ``content``: a hash of what the figure shows: the DOT text of a diagram, or the plotted data,
  labels, limits and colours of a plot, numbers to 6 significant digits;
* ``svg``: a hash of the SVG file written.

``tests/test_docs.py`` recomputes ``code`` and ``content`` without rendering anything and checks
``svg`` against the committed file, so a figure whose code or data changed, a figure missing, or a
file edited by hand fails the tests. Comparing what is drawn rather than the SVG bytes keeps the
check true across matplotlib and Graphviz versions, whose SVG output differs in details.

``python docs/make_figures.py --check`` reports stale figures without writing anything.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import doccode  # noqa: E402

DOCS = doccode.DOCS
IMAGES = DOCS / "images"
MANIFEST = IMAGES / "figures.json"


@dataclass(frozen=True)
class Figure:
    """The figure ``images/{name}.{suffix}`` is the variable ``variable`` left by the code of ``page``.

    A trace of backward (``tg.trace``) is written as its HTML player, ``suffix="html"``.
    """

    name: str
    page: str
    variable: str
    suffix: str = "svg"

    @property
    def path(self) -> Path:
        return IMAGES / f"{self.name}.{self.suffix}"


FIGURES = [
    Figure("quickstart-graph", "getting-started.md", "diagram"),
    Figure("logreg-forward", "tutorials/logistic-regression-graph.md", "forward_diagram"),
    Figure("logreg-graph", "tutorials/logistic-regression-graph.md", "diagram"),
    Figure("sigmoid", "tutorials/sigmoid.md", "fig"),
    Figure("nll", "tutorials/loss.md", "fig"),
    Figure("training-curves", "tutorials/training.md", "fig"),
    Figure("softmax-graph", "tutorials/logits-and-cross-entropy.md", "diagram"),
    Figure("custom-node-graph", "tutorials/custom-node.md", "diagram"),
    Figure("mlp-boundary", "tutorials/mlp.md", "fig"),
    Figure("mlp-graph", "tutorials/mlp.md", "diagram"),
    Figure("backprop-player", "tutorials/step-through-backprop.md", "steps", "html"),
]


# ----------------------------------------------------------------------------- what a figure shows
def content(obj: Any) -> str:
    """A canonical text of what ``obj`` shows: normalized DOT, or a JSON summary of a plot.

    For a trace, its player: every diagram's DOT and every step's words.
    """
    if hasattr(obj, "source") and hasattr(obj, "pipe"):  # a graphviz graph
        return normalize_dot(obj.source)
    if hasattr(obj, "save_html") and hasattr(obj, "diagrams"):  # a trace of backward
        words = [line for step in obj for line in step.words]
        return "\n".join([*(normalize_dot(d.source) for d in obj.diagrams()), *words])
    if hasattr(obj, "axes") and hasattr(obj, "savefig"):  # a matplotlib figure
        return json.dumps(_plot_content(obj), sort_keys=True, ensure_ascii=False)
    raise TypeError(
        f"cannot draw a {type(obj).__name__}: expected a graphviz Digraph, a matplotlib Figure or a tg.trace"
    )


def normalize_dot(source: str) -> str:
    """DOT text with the ids made from object identity (t140…, n140…) numbered in order of appearance."""
    numbers: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        return numbers.setdefault(match[0], f"{match[1]}{len(numbers) + 1}")

    return re.sub(r"\b([tn])\d{6,}\b", renumber, source)


def _numbers(values: Any) -> list[str]:
    array = np.asarray(values, dtype=float).ravel()
    return [f"{v:.6g}" if v != 0 else "0" for v in array]


def _plot_content(fig: Any) -> dict[str, Any]:
    from matplotlib.colors import to_hex

    suptitle = getattr(fig, "_suptitle", None)
    axes = []
    for ax in fig.axes:
        legend = ax.get_legend()
        axes.append(
            {
                "title": ax.get_title(),
                "labels": [ax.get_xlabel(), ax.get_ylabel()],
                "limits": _numbers([*ax.get_xlim(), *ax.get_ylim()]),
                "scales": [ax.get_xscale(), ax.get_yscale()],
                "lines": [
                    {
                        "label": line.get_label(),
                        "style": [to_hex(line.get_color()), str(line.get_linestyle()), f"{line.get_linewidth():g}",
                                  str(line.get_marker())],
                        "x": _numbers(line.get_xdata()),
                        "y": _numbers(line.get_ydata()),
                    }
                    for line in ax.get_lines()
                ],
                "collections": [
                    {
                        "kind": type(c).__name__,
                        "offsets": _numbers(c.get_offsets()),
                        "paths": [_numbers(p.vertices) for p in c.get_paths()],
                        "colors": [to_hex(color) for color in c.get_facecolor()],
                    }
                    for c in ax.collections
                ],
                "texts": [[t.get_text(), *_numbers(t.get_position())] for t in ax.texts],
                "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
            }
        )
    return {"suptitle": suptitle.get_text() if suptitle else "", "size": _numbers(fig.get_size_inches()), "axes": axes}


def _sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def code_hash(figure: Figure) -> str:
    """The hash of what draws the figure: the page's python code and this script's renderer."""
    renderer = inspect.getsource(render) + inspect.getsource(normalize_dot)
    return _sha256(renderer + "\n" + doccode.code_of(DOCS / figure.page))


def fingerprint(figure: Figure, namespace: dict[str, Any]) -> dict[str, str]:
    """The ``code`` and ``content`` hashes of ``figure``, from the namespace its page left."""
    if figure.variable not in namespace:
        raise KeyError(f"{figure.page} defines no variable {figure.variable!r} for the figure {figure.name}")
    return {"code": code_hash(figure), "content": _sha256(content(namespace[figure.variable]))}


def file_hash(path: Path) -> str | None:
    return _sha256(path.read_bytes()) if path.exists() else None


def read_manifest() -> dict[str, dict[str, str]]:
    return json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {}


def problems(figure: Figure, namespace: dict[str, Any], manifest: dict[str, dict[str, str]]) -> list[str]:
    """Why the committed ``figure`` is not what its page's code draws now (empty when it is)."""
    recorded = manifest.get(figure.name)
    if recorded is None:
        return [f"{figure.name}: not in {MANIFEST.name}"]
    found = []
    now = fingerprint(figure, namespace)
    for key, what in (("code", "the code that draws it"), ("content", "what it shows")):
        if recorded.get(key) != now[key]:
            found.append(f"{figure.name}: {what} changed since the figure was made")
    if file_hash(figure.path) is None:
        found.append(f"{figure.name}: {figure.path.relative_to(DOCS)} is missing")
    elif file_hash(figure.path) != recorded.get("svg"):
        found.append(f"{figure.name}: {figure.path.relative_to(DOCS)} is not the file this script wrote")
    return found


# ----------------------------------------------------------------------------- rendering
def render(obj: Any, path: Path) -> None:
    """Write ``obj`` as SVG (a trace as its HTML player), with all that varies between runs taken out."""
    if hasattr(obj, "save_html"):  # the player numbers its diagrams' ids itself
        obj.save_html(path)
        return
    if hasattr(obj, "source") and hasattr(obj, "pipe"):
        import graphviz

        svg = graphviz.Source(normalize_dot(obj.source)).pipe(format="svg")
        path.write_bytes(svg)
        return
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "tinygraph-docs", "svg.fonttype": "none"}):
        obj.savefig(path, format="svg", metadata={"Date": None, "Creator": None})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report stale figures, write nothing")
    parser.add_argument("names", nargs="*", help="only these figures (default: all)")
    args = parser.parse_args(argv)
    chosen = [f for f in FIGURES if not args.names or f.name in args.names]
    manifest = read_manifest()
    runs: dict[str, doccode.PageRun] = {}
    stale = []
    warnings.simplefilter("error")  # as in the test suite: the pages' code must not warn
    for figure in chosen:
        if figure.page not in runs:
            runs[figure.page] = doccode.run_page(DOCS / figure.page)
        namespace = runs[figure.page].namespace
        found = problems(figure, namespace, manifest)
        if args.check:
            stale += found
            continue
        IMAGES.mkdir(exist_ok=True)
        render(namespace[figure.variable], figure.path)
        manifest[figure.name] = {**fingerprint(figure, namespace), "svg": file_hash(figure.path) or ""}
        print(f"{'wrote  ' if found else 'same   '} {figure.path.relative_to(DOCS)}")
    if args.check:
        print("\n".join(stale) or "every figure is up to date")
        return 1 if stale else 0
    known = {f.name for f in FIGURES}
    manifest = {name: manifest[name] for name in sorted(manifest) if name in known}
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
