"""Benchmarks of tinygraph against hand-written NumPy and other autodiff libraries.

Run them all with ``python -m benchmarks`` (see ``python -m benchmarks --help``). Each module
holds one benchmark of the performance issue: ``logreg_step``, ``softmax_step``,
``node_overhead``, ``per_example_sgd``, ``deep_chain`` and ``peak_memory``, and ``csv_load``
times ``data.load_csv`` against ``np.loadtxt``; ``_harness`` holds
what they share (thread settings, optional libraries, interleaved timing and the table).

This package imports nothing heavy, so that ``__main__`` can fix the thread settings before NumPy
or PyTorch is loaded.
"""
