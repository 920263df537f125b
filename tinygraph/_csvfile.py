"""Reading a CSV file for ``data.load_csv``: a header row, one label column, number columns.

The standard library's csv module does the reading: ``csv.Sniffer`` picks the delimiter (comma,
semicolon or tab) and a strict ``csv.reader`` splits the records, quotes and all. The rows come
in chunks of ``CHUNK_ROWS``; each chunk's feature cells are parsed by one pass of ``float``
into a float64 block copied into an array sized from the file's line count, and its labels
become integer codes, so that no Python object per cell outlives its chunk. Every problem is
a ``ValueError`` naming the file, the line (counted from 1, as a text editor shows it, the line
a row starts on) and the column.
"""

from __future__ import annotations

import csv
import itertools
import math
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

DELIMITERS = ",;\t"
"""The delimiters ``csv.Sniffer`` chooses among."""
CHUNK_ROWS = 8192
"""Rows parsed together: enough to make the per-column work pay, few enough to keep memory flat."""
SAMPLE_CHARS = 64 * 1024
"""How much of the file ``csv.Sniffer`` reads to choose the delimiter."""
_SHOWN = 40
"""Characters of a bad value quoted in an error message."""


@dataclass(frozen=True)
class Table:
    """What ``read`` found: the feature columns as numbers, the labels as codes.

    Attributes
    ----------
    feature_names : tuple of str, length d
    X : ndarray, shape (N, d), float64
    labels : list of str
        The distinct labels as written (unstripped), in the order they first appear.
    codes : ndarray, shape (N,), int64
        Each row's label as an index into ``labels``.
    """

    feature_names: tuple[str, ...]
    X: np.ndarray
    labels: list[str]
    codes: np.ndarray


def read(path: Path, target: str) -> Table:
    """The table of the CSV file ``path``, whose column ``target`` holds the labels.

    Raises
    ------
    ValueError
        For a file that is not UTF-8 text, is empty, has a header with an empty or repeated name,
        no column ``target``, no other column, or no rows; for a row of the wrong length, a
        malformed or oversized field, a feature value that is not a finite number, or a missing
        (empty or NaN) label. The message names the file, the line and the column.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            return _read(path, file, target)
    except UnicodeDecodeError as error:
        line = _undecodable_line(path)
        raise ValueError(f"{path}: line {line} is not UTF-8 text ({error.reason})") from None


def _read(path: Path, file: IO[str], target: str) -> Table:
    reader = _Reader(path, file)
    first = reader.header()
    if first is None:
        raise ValueError(f"{path} is empty: expected a header row naming the columns")
    header = reader.set_header(*first)
    if target not in header:
        raise ValueError(f"{path}: no column {target!r}; the columns are {', '.join(header)}")
    label_column = header.index(target)
    features = [j for j in range(len(header)) if j != label_column]
    if not features:
        raise ValueError(f"{path}: besides the target {target!r} there are no feature columns")
    # The rows go straight into arrays sized from the line count: one copy of X, never two.
    capacity = _rows_at_most(path)
    X, codes = np.empty((capacity, len(features))), np.empty(capacity, np.int64)
    filled = 0
    index: dict[str, int] = {}  # each distinct label as written → its code
    for chunk in reader.chunks():
        _check_lengths(path, chunk, len(header))
        n = len(chunk.rows)
        if filled + n > len(X):  # lines ended by a lone carriage return, which the count misses
            X, codes = _grown(X, filled + n), _grown(codes, filled + n)
        X[filled : filled + n] = _numbers(path, header, features, chunk)
        labels = list(map(operator.itemgetter(label_column), chunk.rows))
        codes[filled : filled + n] = _codes(path, target, labels, chunk, index)
        filled += n
    if not filled:
        raise ValueError(f"{path}: the file has a header but no rows")
    if filled < len(X):  # blank lines or quoted line breaks: keep views, not copies, of the rows read
        X, codes = X[:filled], codes[:filled]
    return Table(tuple(header[j] for j in features), X, list(index), codes)


def _rows_at_most(path: Path) -> int:
    """An upper bound on the rows after the header: the lines of the file, less one.

    Lines are counted by their line feeds (so a file whose lines end in a lone carriage return
    counts as one line; the arrays then grow).
    """
    count, last = 0, b"\n"
    with path.open("rb") as file:
        while block := file.read(2**20):
            count, last = count + block.count(b"\n"), block[-1:]
    return max(count - (last == b"\n"), 0)


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    """A copy of ``array`` with room for at least ``rows`` rows (twice as many as it has, or more)."""
    bigger = np.empty((max(rows, 2 * len(array)), *array.shape[1:]), array.dtype)
    bigger[: len(array)] = array
    return bigger


class _Chunk:
    """Records read together: the rows (blank lines left out) and the line each row starts on."""

    def __init__(self, first_line: int, records: list[list[str]]) -> None:
        self.first_line = first_line
        self.records = records  # as read: a blank line is []
        self.rows = records if all(records) else [row for row in records if row]

    def line(self, k: int) -> int:
        """The line on which ``rows[k]`` starts (found by counting, so only for error messages)."""
        line, seen = self.first_line, -1
        for record in self.records:
            seen += bool(record)
            if record and seen == k:
                return line
            line += 1 + sum(v.count("\n") + v.count("\r") - v.count("\r\n") for v in record)
        raise IndexError(k)


class _Reader:
    """The records of a CSV file, read by a strict ``csv.reader`` in chunks of ``CHUNK_ROWS``.

    The delimiter is sniffed from the first ``SAMPLE_CHARS`` characters (when the sniffer cannot
    tell, the one the header holds most of, or a comma). A ``csv.Error`` (a field too long for
    ``csv.field_size_limit()``, text after a closing quote, a quote never closed) becomes a
    ``ValueError`` naming the line and the column.
    """

    def __init__(self, path: Path, file: IO[str]) -> None:
        self.path = path
        self.delimiter = _sniff(file)
        self.reader = csv.reader(file, delimiter=self.delimiter, strict=True)
        self.names: list[str] = []  # the header, once read: to name columns in errors

    def header(self) -> tuple[int, list[str]] | None:
        """The first non-blank record and the line it starts on; None for an empty file."""
        while True:
            start = self.reader.line_num + 1
            try:
                record = next(self.reader, None)
            except csv.Error:
                raise self._csv_error(start) from None
            if record != []:
                return None if record is None else (start, record)

    def set_header(self, line: int, names: list[str]) -> list[str]:
        """The column names, stripped, checked to be present and unique."""
        header = [name.strip() for name in names]
        for j, name in enumerate(header):
            if not name:
                raise ValueError(f"{self.path}: row {line} (the header) leaves column {j + 1} without a name")
            if header.index(name) != j:
                raise ValueError(
                    f"{self.path}: row {line} (the header) names column {name!r} twice, as columns "
                    f"{header.index(name) + 1} and {j + 1}; column names must be unique"
                )
        self.names = header
        return header

    def chunks(self) -> Iterator[_Chunk]:
        """The records after the header, ``CHUNK_ROWS`` at a time."""
        while True:
            first_line = self.reader.line_num + 1
            try:
                records = list(itertools.islice(self.reader, CHUNK_ROWS))
            except csv.Error:
                raise self._csv_error(first_line) from None
            if not records:
                return
            yield _Chunk(first_line, records)

    def _csv_error(self, first_line: int) -> ValueError:
        """Where the csv module stopped, after ``first_line``: read from there a record at a time."""
        kept: list[str] = []  # the lines of the record being read

        def lines(file: IO[str]) -> Iterator[str]:
            for line in itertools.islice(file, first_line - 1, None):
                kept.append(line)
                yield line

        with self.path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(lines(file), delimiter=self.delimiter, strict=True)
            start = first_line
            try:
                for _ in reader:
                    start = first_line + reader.line_num
                    kept.clear()
            except csv.Error as error:
                message = str(error)
            else:  # pragma: no cover (the file changed since)
                return ValueError(f"{self.path}: the csv module could not read it after line {first_line}")
        limit = csv.field_size_limit()
        column = _failing_column("".join(kept), self.delimiter, limit)
        if column is None:
            where = ""
        elif column < len(self.names):
            where = f"column {self.names[column]!r} "
        else:
            where = f"column {column + 1} "
        if message.startswith("field larger than field limit"):
            what = f"a value longer than {limit:,} characters"
        else:
            what = f"a malformed value ({message})"
        return ValueError(f"{self.path}: {where}has {what} in row {start}")


def _sniff(file: IO[str]) -> str:
    """The delimiter of the file, among ``DELIMITERS``; the file is left at its start."""
    sample = file.read(SAMPLE_CHARS)
    file.seek(0)
    if len(sample) == SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or rows of different lengths: go by the header
        header = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ","


def _failing_column(text: str, delimiter: str, limit: int) -> int | None:
    """The index of the field of ``text`` (one record) where a strict ``csv.reader`` stops.

    That is the first field longer than ``limit`` characters, or with text after its closing
    quote, or whose quote is never closed; None if there is none.
    """
    column, length, quoted, closed = 0, 0, False, False
    for char in text:
        if quoted:
            if char == '"':
                quoted, closed = False, True
            else:
                length += 1
        elif char == '"' and (length == 0 or closed):  # an opening quote, or the second of ""
            length += closed
            quoted, closed = True, False
        elif char == delimiter:
            column, length, closed = column + 1, 0, False
        elif char in "\r\n":
            continue
        elif closed:
            return column
        else:
            length += 1
        if length > limit:
            return column
    return column if quoted else None


def _check_lengths(path: Path, chunk: _Chunk, width: int) -> None:
    if set(map(len, chunk.rows)) != {width}:
        k = next(k for k, row in enumerate(chunk.rows) if len(row) != width)
        raise ValueError(
            f"{path}: row {chunk.line(k)} has {len(chunk.rows[k])} values but the header has {width} columns"
        )


def _numbers(path: Path, header: list[str], features: list[int], chunk: _Chunk) -> np.ndarray:
    """The feature values of one chunk as a float64 block, shape (rows, len(features)).

    The cells are parsed in reading order straight into the block: one pass of ``float`` over
    them, no Python float kept.
    """
    n, d = len(chunk.rows), len(features)
    if d == 1:
        cells: Iterator[str] = map(operator.itemgetter(features[0]), chunk.rows)
    else:
        cells = itertools.chain.from_iterable(map(operator.itemgetter(*features), chunk.rows))
    try:
        block = np.fromiter(map(float, cells), np.float64, n * d).reshape(n, d)
    except ValueError:
        raise _first_bad_cell(path, header, features, chunk) from None
    finite = np.isfinite(block)
    if not finite.all():
        i, k = np.argwhere(~finite)[0]  # the first in reading order
        column = header[features[k]]
        raise ValueError(
            f"{path}: column {column!r} has the value {_shown(chunk.rows[i][features[k]])} "
            f"in row {chunk.line(i)}; features must be finite"
        )
    return block


def _first_bad_cell(path: Path, header: list[str], features: list[int], chunk: _Chunk) -> ValueError:
    for i, row in enumerate(chunk.rows):
        for j in features:
            try:
                float(row[j])
            except ValueError:
                what = "an empty value" if not row[j].strip() else f"the non-numeric value {_shown(row[j])}"
                return ValueError(
                    f"{path}: column {header[j]!r} has {what} in row {chunk.line(i)}; "
                    "feature columns must be numbers"
                )
    raise AssertionError("no bad cell")  # pragma: no cover (called only after float() failed)


def _codes(path: Path, target: str, labels: list[str], chunk: _Chunk, index: dict[str, int]) -> np.ndarray:
    """The chunk's labels as codes into ``index``, which gains the labels not seen before."""
    for label in dict.fromkeys(labels):  # the distinct labels, in order
        if label in index:
            continue
        if _missing(label):
            what = "an empty value" if not label.strip() else f"the value {_shown(label)}"
            raise ValueError(
                f"{path}: the target column {target!r} has {what} in row {chunk.line(labels.index(label))}; "
                "every row needs a label"
            )
        index[label] = len(index)
    return np.fromiter(map(index.__getitem__, labels), np.int64, len(labels))


def _missing(label: str) -> bool:
    """Whether a label is empty or NaN (in any spelling ``float`` reads as NaN)."""
    try:
        return not label.strip() or math.isnan(float(label))
    except ValueError:
        return False


def _shown(value: str) -> str:
    value = value.strip()
    return repr(value) if len(value) <= _SHOWN else f"{value[:_SHOWN]!r}… ({len(value):,} characters)"


def _undecodable_line(path: Path) -> int:
    """The first line of ``path`` that is not UTF-8."""
    with path.open("rb") as file:
        for line, raw in enumerate(file, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return line
    return 0  # pragma: no cover (only called after a decoding error)
