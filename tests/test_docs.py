"""The documentation tells the truth: its code runs and prints what the pages show, its figures are
what the code draws now, and the site builds with ``mkdocs build --strict`` without a warning.

The rules for code blocks are in ``docs/doccode.py``; how figures are checked is in
``docs/make_figures.py``.
"""

from __future__ import annotations

import doctest
import functools
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))

import doccode  # noqa: E402
import make_figures  # noqa: E402

PAGES = doccode.pages()


def _page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


@functools.cache
def _run(page: Path) -> doccode.PageRun:
    """Each page runs once per test session; the figure checks reuse what it left behind."""
    return doccode.run_page(page)


# ----------------------------------------------------------------------------- code blocks
@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_code_blocks_print_what_the_page_shows(page):
    run = _run(page)
    for result in run.results:
        if result.block.expected is None:
            assert result.output == "", (
                f"{result.block.where}: the block prints output the page does not show; "
                f"add a ```text block right after it:\n{result.output}"
            )
        else:
            assert result.matches, f"{result.block.where}: the output differs:\n{result.diff()}"


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_collector_pairs_code_with_its_output_and_runs_indented_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(doccode, "DOCS", tmp_path)
    page = _page(
        tmp_path,
        "Text.\n\n```python\nx = 2\nprint(x + 1)\n```\n\n```text\n3\n```\n\n"
        '??? example "hidden"\n\n    ```python\n    print(x * 10)\n    ```\n\n    ```text\n    20\n    ```\n\n'
        "```sh\nrm -rf /\n```\n\n```python\ny = x\n```\n\nProse.\n\n```text\nnot an output\n```\n",
    )
    found = doccode.blocks(page)
    assert [(b.lang, b.expected) for b in found] == [
        ("python", "3\n"),
        ("python", "20\n"),
        ("sh", None),
        ("python", None),
        ("text", None),
    ]
    run = doccode.run_page(page)
    assert [r.matches for r in run.results] == [True, True, True]
    assert run.namespace["y"] == 2


def test_collector_reports_wrong_output_and_errors_with_the_line(tmp_path, monkeypatch):
    monkeypatch.setattr(doccode, "DOCS", tmp_path)
    wrong = doccode.run_page(_page(tmp_path, "```python\nprint(1 + 1)\n```\n\n```text\n3\n```\n"))
    assert not wrong.results[0].matches
    assert "-3" in wrong.results[0].diff() and "+2" in wrong.results[0].diff()
    with pytest.raises(doccode.DocCodeError, match=r"page.md:3: the block raised ZeroDivisionError"):
        doccode.run_page(_page(tmp_path, "Intro\n\n```python\n1 / 0\n```\n"))


def test_console_blocks_run_only_tinygraph(tmp_path, monkeypatch):
    monkeypatch.setattr(doccode, "DOCS", tmp_path)
    found = doccode.blocks(_page(tmp_path, "```console\n$ tinygraph --version\ntinygraph 0.1.0\n```\n"))
    assert found[0].expected == "tinygraph 0.1.0\n"
    with pytest.raises(doccode.DocCodeError, match="only tinygraph commands"):
        doccode.run_page(_page(tmp_path, "```console\n$ ls\n```\n"))


def _module_of(identifier: str) -> str:
    """The module that defines ``identifier`` (a module, or an object inside one)."""
    try:
        return importlib.import_module(identifier).__name__
    except ModuleNotFoundError:
        parent, name = identifier.rsplit(".", 1)
        module = _module_of(parent)
        return getattr(getattr(importlib.import_module(module), name), "__module__", None) or module


def _api_modules() -> list[str]:
    identifiers = set()
    for page in (DOCS / "api").glob("*.md"):
        identifiers.update(re.findall(r"^::: ([\w.]+)", page.read_text(encoding="utf-8"), re.M))
    return sorted({_module_of(identifier) for identifier in identifiers})


@pytest.mark.parametrize("module", _api_modules())
def test_api_reference_examples_print_what_they_show(module):
    """The API reference shows the docstrings' >>> examples: run them as doctests."""
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {module} failed (report above)"


# ----------------------------------------------------------------------------- figures
@pytest.mark.parametrize("figure", make_figures.FIGURES, ids=lambda f: f.name)
def test_figure_is_what_its_page_draws_now(figure):
    namespace = _run(DOCS / figure.page).namespace
    found = make_figures.problems(figure, namespace, make_figures.read_manifest())
    assert not found, "\n".join(found) + "\nrun `python docs/make_figures.py` and commit docs/images/"


def test_every_diagram_opens_full_size_when_clicked():
    """A diagram shrunk to the text column has labels a few pixels high: each links to itself."""
    diagrams = {f.path for f in make_figures.FIGURES if "diagram" in f.variable}
    for page in [*PAGES, README]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
            path = (page.parent / target).resolve()
            if path in diagrams or "graph" in path.name:
                assert f"]({target})]({target})" in text, f"{page.name}: {target} is not linked to itself"


README = ROOT / "README.md"


def test_the_readme_code_prints_what_the_readme_shows():
    """Its python blocks (and tinygraph commands) run like a docs page's, in one namespace."""
    run = doccode.run_page(README)
    assert [r.block.lang for r in run.results].count("python") >= 2
    for result in run.results:
        if result.block.expected is None:
            assert result.output == "", f"{result.block.where}: prints what the README does not show"
        else:
            assert result.matches, f"{result.block.where}: the output differs:\n{result.diff()}"


def test_every_image_is_a_generated_figure():
    generated = {f.path for f in make_figures.FIGURES}
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", text):
            path = (page.parent / target).resolve()
            assert path in generated, f"{_page_id(page)} shows {target}, which docs/make_figures.py does not make"
        # an embedded player: its src is relative to the built page, one directory deeper
        for target in re.findall(r"<iframe[^>]*\ssrc=\"([^\"]+)\"", text):
            path = (page.parent / target.removeprefix("../")).resolve()
            assert path in generated, f"{_page_id(page)} embeds {target}, which docs/make_figures.py does not make"
    for path in [*make_figures.IMAGES.glob("*.svg"), *make_figures.IMAGES.glob("*.html")]:
        assert path in generated, f"{path.relative_to(DOCS)} is made by nothing: delete it or add it to FIGURES"


def test_figure_check_catches_changed_data_and_files_edited_by_hand(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def plot(y):
        fig = Figure()
        fig.subplots().plot([0.0, 1.0, 2.0], y, label="curve")
        return fig

    assert make_figures.content(plot([1.0, 2.0, 3.0])) == make_figures.content(plot([1.0, 2.0, 3.0]))
    assert make_figures.content(plot([1.0, 2.0, 3.0])) != make_figures.content(plot([1.0, 2.0, 3.5]))

    page = tmp_path / "page.md"
    page.write_text("```python\nx = 1\n```\n", encoding="utf-8")
    monkeypatch.setattr(make_figures, "DOCS", tmp_path)
    monkeypatch.setattr(make_figures, "IMAGES", tmp_path)
    figure = make_figures.Figure("curve", "page.md", "fig")
    namespace = {"fig": plot([1.0, 2.0, 3.0])}
    assert make_figures.problems(figure, namespace, {}) == ["curve: not in figures.json"]
    make_figures.render(namespace["fig"], figure.path)
    manifest = {"curve": {**make_figures.fingerprint(figure, namespace), "svg": make_figures.file_hash(figure.path)}}
    assert make_figures.problems(figure, namespace, manifest) == []
    assert make_figures.problems(figure, {"fig": plot([1.0, 2.0, 3.5])}, manifest) == [
        "curve: what it shows changed since the figure was made"
    ]
    page.write_text("```python\nx = 2\n```\n", encoding="utf-8")
    assert make_figures.problems(figure, namespace, manifest) == ["curve: the code that draws it changed since the figure was made"]
    page.write_text("```python\nx = 1\n```\n", encoding="utf-8")
    figure.path.write_text(figure.path.read_text() + "<!-- edited -->")
    assert make_figures.problems(figure, namespace, manifest) == ["curve: curve.svg is not the file this script wrote"]
    figure.path.unlink()
    assert make_figures.problems(figure, namespace, manifest) == ["curve: curve.svg is missing"]


def test_figure_content_ignores_object_ids():
    a = 'digraph { t140275168690624 -> n140275309705040 ; t140275168690624 [label="x"] }'
    b = 'digraph { t139999999999999 -> n139888888888888 ; t139999999999999 [label="x"] }'
    assert make_figures.normalize_dot(a) == make_figures.normalize_dot(b) == 'digraph { t1 -> n2 ; t1 [label="x"] }'


# ----------------------------------------------------------------------------- the site
@pytest.mark.docs_build
def test_site_builds_strictly_and_offline(tmp_path):
    """`mkdocs build --strict`: a broken link, a missing page or an unresolved API reference fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site"),
         "--config-file", str(ROOT / "mkdocs.yml")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    assert (tmp_path / "site" / "index.html").exists()
