"""Smoke tests of the benchmarks: they run and produce a well-formed table (never how fast).

The quick subset runs tinygraph against the hand-written NumPy version (and micrograd where it
applies, which needs no compiled code), so the tests need neither PyTorch nor the other
comparison libraries.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ lives beside the package and is not installed with it
    sys.path.insert(0, str(ROOT))

from benchmarks import _harness as h  # noqa: E402
from benchmarks import (  # noqa: E402
    csv_load,
    deep_chain,
    logreg_step,
    matmul_forms,
    node_overhead,
    peak_memory,
    per_example_sgd,
    scale,
    softmax_step,
)
from benchmarks.__main__ import BEGIN, END, default_threads, write_markdown  # noqa: E402

QUICK = h.Config(quick=True, repeats=1, libraries=("tinygraph", "numpy", "micrograd"))


def _check_rows(rows: list[h.Row], benchmark: str) -> None:
    assert rows and all(row.benchmark == benchmark for row in rows)
    libraries = {row.library for row in rows}
    assert {"tinygraph", "numpy"} <= libraries
    for row in rows:
        if row.library in ("tinygraph", "numpy"):
            assert row.value is not None and row.value > 0, row
            assert row.vs_numpy is not None
        else:
            assert row.value is not None or row.note.startswith(("skipped", "failed")), row
    assert all(row.vs_numpy == 1.0 for row in rows if row.library == "numpy")


@pytest.mark.parametrize("module", [logreg_step, node_overhead, deep_chain, per_example_sgd])
def test_quick_benchmark_runs_and_reports_every_library(module):
    rows = module.run(QUICK)
    _check_rows(rows, module.NAME)
    reported = {row.library for row in rows}
    assert {"torch", "autograd", "mygrad"} <= reported  # skipped ones are reported, with the reason
    assert all(row.note == "skipped: not selected" for row in rows if row.library in ("torch", "mygrad"))


def test_micrograd_fails_honestly_on_a_deep_chain():
    rows = deep_chain.run(QUICK)
    micrograd = [row for row in rows if row.library == "micrograd"]
    assert micrograd and all(row.value is None and row.note == "failed: RecursionError" for row in micrograd)


def test_peak_memory_runs_each_library_in_its_own_process():
    rows = peak_memory.run(QUICK)
    _check_rows(rows, "peak_memory")
    tinygraph = next(row for row in rows if row.library == "tinygraph")
    assert tinygraph.target and tinygraph.met in (True, False)
    assert tinygraph.note.endswith("MB before the first step")


def test_csv_load_compares_time_and_memory_with_loadtxt():
    rows = csv_load.run(QUICK)
    for case in ("time", "peak memory"):
        _check_rows([row for row in rows if row.case.endswith(case)], "csv_load")
    tinygraph = [row for row in rows if row.library == "tinygraph"]
    assert len(tinygraph) == 2 and all(row.met in (True, False) for row in tinygraph)


def test_scale_reports_time_and_memory_of_the_lazy_step_beside_numpy():
    rows = scale.run(QUICK)
    times = [row for row in rows if row.case.endswith("time per step")]
    assert {row.library for row in times} == {"tinygraph, Dask", "tinygraph", "numpy"}
    assert all(row.value is not None and row.value > 0 for row in rows), rows
    dask_memory = next(row for row in rows if row.case.endswith("peak memory") and row.library == "tinygraph, Dask")
    assert dask_memory.target == "< 400 MiB" and dask_memory.met in (True, False)


def test_the_lazy_step_of_scale_trains_like_the_numpy_step():
    """The Dask step computes what the hand-written step computes on the same data, in memory."""
    X, y = scale.lazy_data(3_000, 4, 1_000)
    lazy = scale.lazy_step(tg, X, y)
    eager = logreg_step.numpy_step(np, np.asarray(X), np.asarray(y))
    for _ in range(3):
        assert lazy() == pytest.approx(float(eager()), rel=1e-12)


def test_the_csv_file_written_is_the_table_it_says(tmp_path):
    path = tmp_path / "table.csv"
    rows = csv_load.write_csv(path, 0.1)
    ds = tg.data.load_csv(path, "label")
    assert ds.X.shape == (rows, csv_load.FEATURES) and ds.target_names == ("0", "1")
    np.testing.assert_array_equal(np.loadtxt(path, delimiter=",", skiprows=1)[:, :-1], ds.X)


def _loss(value: object) -> float:
    """A step's loss as a number, whether it returned a tensor or an array."""
    return float(np.asarray(getattr(value, "data", value)))


def test_the_step_functions_train():
    """Each library's step is a real training step: the loss goes down, from the same start."""
    X, y = logreg_step.data(500, 5)
    firsts = []
    for build, module in ((logreg_step.numpy_step, np), (logreg_step.tinygraph_step, tg)):
        step = build(module, X, y)
        firsts.append(_loss(step()))
        for _ in range(20):
            last = step()
        assert _loss(last) < firsts[-1]
    assert firsts == pytest.approx([np.log(2)] * 2)  # w = 0, b = 0: every a = 1/2


def test_softmax_steps_compute_the_same_loss():
    X, y = softmax_step.data(200, 20, 3)
    losses = [_loss(build(module, X, y, 3)()) for build, module in
              ((softmax_step.numpy_step, np), (softmax_step.tinygraph_step, tg))]
    assert losses == pytest.approx([np.log(3)] * 2)  # W = 0, b = 0: every class has probability 1/3


def test_interleaved_timing_reports_a_failure_instead_of_raising():
    def deep() -> None:
        raise RecursionError("maximum recursion depth exceeded")

    timings = h.time_interleaved({"fine": lambda: None, "deep": deep}, repeats=2, min_time=0.0)
    assert timings["fine"].seconds is not None and timings["fine"].error is None
    assert timings["deep"].seconds is None and timings["deep"].error == "RecursionError"


def test_rows_carry_ratios_and_the_target_verdict():
    timings = {"tinygraph": h.Timing(2.0), "numpy": h.Timing(1.0), "torch": h.Timing(5.0)}
    target = h.Target("≤ 1.10× NumPy", max_vs_numpy=1.10)
    rows = h.case_rows("b", "case", timings, "ms", 1e3, {"mygrad": "not installed"}, target)
    by_library = {row.library: row for row in rows}
    assert by_library["tinygraph"].vs_numpy == 2.0 and by_library["tinygraph"].vs_torch == 0.4
    assert by_library["tinygraph"].met is False and by_library["numpy"].target == ""
    assert by_library["mygrad"].value is None and by_library["mygrad"].note == "skipped: not installed"
    assert h.Target("≤ 1× PyTorch", max_vs_torch=1.0).met(by_library["tinygraph"]) is True


def test_tables_are_well_formed():
    rows = h.case_rows("b", "case", {"tinygraph": h.Timing(1e-3), "numpy": h.Timing(1e-3)}, "ms", 1e3,
                       {"torch": "not installed"}, h.Target("≤ 1.10× NumPy", max_vs_numpy=1.1))
    markdown = h.render_markdown(rows).splitlines()
    assert len(markdown) == 2 + len(rows)
    assert {line.count("|") for line in markdown} == {len(h.HEADER) + 1}
    text = h.render_text(rows)
    assert "≤ 1.10× NumPy: met" in text and "skipped: not installed" in text
    assert h.summary(rows) == ["b case (tinygraph): met: ≤ 1.10× NumPy; 1.00× NumPy"]


def test_markdown_goes_between_the_markers_of_an_existing_page(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text(f"# Performance\n\nprose\n\n{BEGIN}\nold table\n{END}\n\nmore prose\n", encoding="utf-8")
    write_markdown(page, "new table")
    text = page.read_text(encoding="utf-8")
    assert "new table" in text and "old table" not in text
    assert text.startswith("# Performance\n\nprose") and text.endswith("more prose\n")


def test_the_one_command_runs(tmp_path):
    out = tmp_path / "table.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--repeats", "1", "--only", "logreg_step",
         "--libraries", "tinygraph", "numpy", "--markdown", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "logreg_step" in done.stdout and "Targets:" in done.stdout
    table = out.read_text(encoding="utf-8")
    assert BEGIN in table and END in table and "| logreg_step |" in table and "- threads: 1" in table


def test_matmul_forms_time_the_same_product_each_way():
    rows = matmul_forms.run(QUICK)
    assert rows and all(row.benchmark == "matmul_forms" and row.value for row in rows)
    cases = {row.case for row in rows}
    assert len(cases) == 2 * len(matmul_forms.QUICK_SIZES)
    assert all(row.target and row.met in (True, False) for row in rows if row.library == "tinygraph")
    for n, d, k in matmul_forms.QUICK_SIZES:  # every form is the product by hand, to rounding
        X, W, G = matmul_forms.data(min(n, 300), d, k)
        for forms, expected in ((matmul_forms.forward_forms(tg.nodes.linear, X, W), X @ W),
                                (matmul_forms.gradient_forms(tg.nodes.linear, X, G), X.T @ G)):
            assert {"numpy", "tinygraph"} < set(forms)  # and at least one other form
            for form in forms.values():
                np.testing.assert_allclose(form(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(("n", "d", "k", "rows"), [(0, 3, 2, 1), (1, 1, 1, 1), (7, 5, 3, 2), (40, 6, 12, 7), (9, 4, 0, 4)])
def test_the_product_in_row_blocks_equals_numpys(n, d, k, rows, order):
    rng = np.random.default_rng(n + d + k)
    X = np.asarray(rng.standard_normal((n, d)), order=order)
    W = rng.standard_normal((d, k))
    Z = matmul_forms.in_row_blocks(X, W, rows)
    assert Z.shape == (n, k) and Z.dtype == np.float64
    np.testing.assert_allclose(Z, X @ W, rtol=1e-12, atol=1e-12)


def test_batch_steps_get_a_second_row_per_library_at_the_default_threads():
    config = h.Config(quick=True, repeats=1, libraries=("tinygraph", "numpy"), default_threads=2)
    before = h.clock
    rows = logreg_step.run(config)
    assert h.clock is before  # the wall clock of the second row does not outlive it
    suffix = ", 2 threads (default), wall clock"
    for n, d in logreg_step.QUICK_SIZES:
        for case in (f"{n:,} × {d}", f"{n:,} × {d}{suffix}"):
            timed = {row.library for row in rows if row.case == case and row.value}
            assert timed == {"tinygraph", "numpy"}, case
    assert not any(row.target for row in rows if row.case.endswith(suffix))


def test_the_default_threads_are_the_cores_unless_quick_or_refused():
    assert default_threads(None, quick=False) == os.cpu_count()
    assert default_threads(None, quick=True) is None and default_threads(-1, quick=False) is None
    assert default_threads(0, quick=True) == os.cpu_count() and default_threads(4, quick=False) == 4
    assert [suffix for suffix, _ in h.thread_settings(h.Config(threads=2, default_threads=2))] == [""]
