"""Run the benchmarks: ``python -m benchmarks [--quick] [--only NAME ...] [--markdown FILE]``.

The thread settings are fixed before NumPy or PyTorch is imported, so every library runs with the
same number of threads; the table prints as the benchmarks finish, and ``--markdown`` writes it
with a description of the machine (into the marked section of an existing file, or a new file).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

BENCHMARKS = (
    "logreg_step", "softmax_step", "matmul_forms", "node_overhead", "per_example_sgd", "deep_chain", "peak_memory",
    "csv_load", "scale",
)
BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time tinygraph against hand-written NumPy and other autodiff libraries; print the table.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats: checks that all runs")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, metavar="NAME",
                        help=f"run only these benchmarks, among: {', '.join(BENCHMARKS)}")
    parser.add_argument("--libraries", nargs="+", metavar="LIB",
                        help="compare only with these (tinygraph numpy torch autograd mygrad micrograd)")
    parser.add_argument("--repeats", type=int, help="timed rounds per case (default 7, 3 with --quick)")
    parser.add_argument("--threads", type=int, default=1, help="threads for every library (default 1)")
    parser.add_argument("--default-threads", type=int, nargs="?", const=0, metavar="N",
                        help="also time the batch steps at the machine's default threads (os.cpu_count(), "
                             "or N), a second row per library on the wall clock; on unless --quick")
    parser.add_argument("--no-default-threads", dest="default_threads", action="store_const", const=-1,
                        help="time the batch steps at --threads only")
    parser.add_argument("--clock", choices=("cpu", "wall"),
                        help="process CPU time (the default with one thread: other processes' load does not "
                             "count) or wall time (the default with several threads, whose CPU times add up)")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the table here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from benchmarks import _harness as h  # imports no array library

    h.fix_threads(args.threads)
    h.use_clock(args.clock or ("cpu" if args.threads == 1 else "wall"))
    libraries = tuple(args.libraries) if args.libraries else h.LIBRARIES
    unknown = set(libraries) - set(h.LIBRARIES)
    if unknown:
        print(f"unknown libraries: {', '.join(sorted(unknown))}; choose among {', '.join(h.LIBRARIES)}")
        return 2
    config = h.Config(quick=args.quick, repeats=args.repeats or (3 if args.quick else 7),
                      libraries=libraries, threads=args.threads,
                      default_threads=default_threads(args.default_threads, args.quick))
    rows = []
    started = time.perf_counter()
    for name in args.only or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        new = module.run(config)
        print(h.render_text(new), end="\n\n", flush=True)
        rows += new
    elapsed = time.perf_counter() - started
    command = " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])])
    print("\n".join([h.READING, "", "Targets:", *(f"  {line}" for line in h.summary(rows))]))
    print(f"\n{elapsed:.0f} s; {'; '.join(f'{k}: {v}' for k, v in h.machine().items())}")
    if args.markdown:
        write_markdown(args.markdown, report(rows, command, elapsed))
    return 0


def default_threads(requested: int | None, quick: bool) -> int | None:
    """The thread count of the second row of the batch steps: N, the machine's cores, or none.

    None (not given) means the cores unless ``quick``; 0 (given without N) the cores; −1 none.
    """
    if requested is None:
        requested = -1 if quick else 0
    if requested < 0:
        return None
    return requested or os.cpu_count() or 1


def report(rows: list, command: str, elapsed: float) -> str:
    """The table, its targets and the machine, as Markdown."""
    from benchmarks import _harness as h

    lines = [f"Produced by `{command}` in {elapsed / 60:.0f} min. {h.READING}", "", h.render_markdown(rows), ""]
    lines += ["Targets:", "", *(f"- {line}" for line in h.summary(rows)), "", "Machine:", ""]
    lines += [f"- {key}: {value}" for key, value in h.machine().items()]
    return "\n".join(lines)


def write_markdown(path: Path, text: str) -> None:
    """Put ``text`` between the benchmark markers of ``path``, or write a new file holding it."""
    block = f"{BEGIN}\n{text}\n{END}"
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if BEGIN in old and END in old:
            head, rest = old.split(BEGIN, 1)
            block = head + block + rest.split(END, 1)[1]
        else:
            block = old.rstrip("\n") + "\n\n" + block + "\n"
    else:
        block = f"# Benchmarks\n\n{block}\n"
    path.write_text(block, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
