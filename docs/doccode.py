"""Run the code of the documentation pages and compare what it prints with what the pages show.

The rules, which ``docs/contributing.md`` states for writers:

* Every fenced ```` ```python ```` block of a page runs, in page order, in one namespace per page
  (so a later block sees the names of an earlier one). Blocks indented inside admonitions or
  collapsible ``???`` notes run too.
* A ```` ```text ```` block that follows a python block with only blank lines between them is the
  output that block prints; it must match exactly (trailing spaces and blank lines aside). A python
  block without such a text block must print nothing.
* A ```` ```console ```` block holds shell commands, each on a line starting with ``$ ``, followed by
  the output it prints. Only ``tinygraph ...`` commands are run (in-process, in a scratch
  directory shared by the page); their standard output is compared like a text block.
* ```` ```sh ```` blocks (installation) and every other language are shown, never run.

Used by ``tests/test_docs.py`` and by ``docs/make_figures.py``, which takes each figure from the
namespace its page leaves behind.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import shlex
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DOCS = Path(__file__).resolve().parent

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)(?P<rest>.*)$")


@dataclass
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    end: int  # 1-based line of the closing fence
    lang: str
    code: str
    expected: str | None = None  # the output the page shows for it
    output_lines: tuple[int, int] | None = None  # 0-based [start, stop) of those lines in the page
    indent: str = ""

    @property
    def where(self) -> str:
        page = self.page.resolve()
        name = page.relative_to(DOCS).as_posix() if page.is_relative_to(DOCS) else str(self.page)
        return f"{name}:{self.line}"


@dataclass
class Result:
    """A block and what running it printed."""

    block: Block
    output: str

    @property
    def matches(self) -> bool:
        return _normal(self.output) == _normal(self.block.expected or "")

    def diff(self) -> str:
        lines = difflib.unified_diff(
            _normal(self.block.expected or "").splitlines(),
            _normal(self.output).splitlines(),
            "shown in the page",
            "printed by the code",
            lineterm="",
        )
        return "\n".join(lines)


@dataclass
class PageRun:
    """What running a page left behind: each block's output and the final namespace."""

    page: Path
    results: list[Result] = field(default_factory=list)
    namespace: dict[str, Any] = field(default_factory=dict)


class DocCodeError(Exception):
    """A block of a page raised; the message says which page and line."""


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of ``page``, each python block paired with the text block after it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        closing = re.compile(rf"^{re.escape(indent)}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ValueError(f"{page}:{i + 1}: code block is never closed")
        body = "\n".join(line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[i + 1 : j])
        found.append(Block(page, i + 1, j + 1, opening["lang"].lower(), textwrap.dedent(body) + "\n", indent=indent))
        i = j + 1
    paired: list[Block] = []
    for block in found:
        previous = paired[-1] if paired else None
        if block.lang == "text" and previous is not None and previous.lang == "python" and previous.expected is None:
            between = lines[previous.end : block.line - 1]
            if all(not line.strip() for line in between):
                previous.expected = block.code
                previous.output_lines = (block.line, block.end - 1)
                continue
        if block.lang == "console":
            block.expected = "".join(line + "\n" for line in block.code.splitlines() if not line.startswith("$ "))
            commands = sum(1 for line in block.code.splitlines() if line.startswith("$ "))
            if commands == 1 and block.code.startswith("$ "):
                block.output_lines = (block.line + 1, block.end - 1)
        paired.append(block)
    return paired


def pages() -> list[Path]:
    """Every Markdown page under docs/, in a stable order."""
    return sorted(DOCS.rglob("*.md"))


def run_page(page: Path) -> PageRun:
    """Run the python and console blocks of ``page`` in order; raise DocCodeError on an exception.

    NumPy's print options are restored afterwards, so a page may set its own.
    """
    run = PageRun(page, namespace={"__name__": "__docs__"})
    with np.printoptions(), tempfile.TemporaryDirectory(prefix="tinygraph-docs-") as scratch:
        for block in blocks(page):
            if block.lang == "python":
                output = _run_python(block, run.namespace)
            elif block.lang == "console":
                output = _run_console(block, Path(scratch))
            else:
                continue
            run.results.append(Result(block, output))
    return run


def _run_python(block: Block, namespace: dict[str, Any]) -> str:
    stdout = io.StringIO()
    try:
        code = compile(block.code, block.where, "exec")
        with contextlib.redirect_stdout(stdout):
            exec(code, namespace)
    except Exception as error:
        raise DocCodeError(f"{block.where}: the block raised {type(error).__name__}: {error}") from error
    return stdout.getvalue()


def _run_console(block: Block, scratch: Path) -> str:
    from tinygraph import cli

    stdout = io.StringIO()
    for line in block.code.splitlines():
        if not line.startswith("$ "):
            continue
        argv = shlex.split(line[2:])
        if argv[0] != "tinygraph":
            raise DocCodeError(f"{block.where}: only tinygraph commands run in console blocks, not {argv[0]!r}")
        with _chdir(scratch), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()) as stderr:
            status = cli.main(argv[1:])
        if status != 0:
            raise DocCodeError(f"{block.where}: `{line[2:]}` exited with {status}: {stderr.getvalue().strip()}")
    return stdout.getvalue()


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _normal(text: str) -> str:
    """Text with trailing spaces and trailing blank lines removed."""
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def update(page: Path) -> int:
    """Write into ``page`` what its code prints now; returns how many blocks changed.

    For writers: run it, then read the diff. A python block that prints without showing it gets a
    new text block after it; a console block with one command has its output replaced.
    """
    run = run_page(page)
    lines = page.read_text(encoding="utf-8").splitlines()
    changed = 0
    for result in reversed(run.results):  # from the end, so earlier line numbers stay valid
        block = result.block
        if result.matches and (block.expected is not None or result.output == ""):
            continue
        new = [block.indent + line if line else "" for line in _normal(result.output).splitlines()]
        if block.output_lines is not None:
            start, stop = block.output_lines
            lines[start:stop] = new
        elif block.lang == "python":
            lines[block.end : block.end] = ["", block.indent + "```text", *new, block.indent + "```"]
        else:
            continue
        changed += 1
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


def code_of(page: Path) -> str:
    """The python code of ``page``, all blocks joined: what its figures are made from."""
    return "".join(block.code for block in blocks(page) if block.lang == "python")


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 2 or sys.argv[1] != "--update":
        sys.exit("usage: python docs/doccode.py --update PAGE.md ...  (writes what each page's code prints)")
    for name in sys.argv[2:]:
        print(f"{name}: {update(Path(name))} block(s) updated")
