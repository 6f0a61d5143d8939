"""How raw export files are read: one definition for every reader.

DuckDB's CSV sniffer guesses whatever it is not told (comment character, quote, escape,
header, delimiter, column types and date formats, null strings). A guess can drop rows
with no error: a CSV whose id column holds numbers and some lines start with ``#`` loses
those lines in *every* reader that sniffs, so the staged and the raw count agree and the
loss is invisible (docs/data-quality.md). Here every dialect option is fixed once:

* :data:`CSV_OPTIONS` is rendered into the dbt sources (``external_location``, generated
  by ``scripts/generate_sources_yaml.py``), into the ``raw_file_reader`` macro of the
  ``on-run-start`` contract check, and used by ``customer360 check-raw``;
* values stay text (``all_varchar``), so no column type, date or timestamp format is ever
  guessed: staging casts each column itself and quarantines what does not cast;
* Parquet binary columns are read as text (``binary_as_string``): invalid UTF-8 is a
  read error naming the value, never an escaped ``\\xFF`` string.

Row counts for the reconciliation (raw = staged + quarantined + erased) come from an
*independent* reader, :func:`count_rows`: pyarrow's CSV parser (it knows no comment
character, so a ``#`` line is a row) and the Parquet footer. A row that DuckDB skipped
and pyarrow counted shows up as unaccounted in ``quarantine_summary``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

# Larger lines are an error naming the line (DuckDB's default, set explicitly).
MAX_LINE_SIZE = 2_097_152

# Every option DuckDB's read_csv would otherwise sniff, in a fixed order (rendered as SQL).
CSV_OPTIONS: tuple[tuple[str, str], ...] = (
    ("header", "true"),
    ("delim", "','"),
    ("quote", "'\"'"),
    ("escape", "'\"'"),
    ("comment", "''"),  # no comment character: a line starting with '#' is a row
    ("all_varchar", "true"),  # no type, date or timestamp format is guessed
    ("nullstr", "''"),
    ("allow_quoted_nulls", "true"),
    ("strict_mode", "true"),  # a ragged row is an error, never padded or skipped
    ("null_padding", "false"),
    ("ignore_errors", "false"),
    ("max_line_size", str(MAX_LINE_SIZE)),
    ("encoding", "'utf-8'"),
)
PARQUET_OPTIONS: tuple[tuple[str, str], ...] = (("binary_as_string", "true"),)


def options_sql(fmt: str) -> str:
    """``header=true, delim=',', ...``: the options of the reader for ``fmt``."""
    options = CSV_OPTIONS if fmt == "csv" else PARQUET_OPTIONS
    return ", ".join(f"{k}={v}" for k, v in options)


def sql_string(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def reader_sql(path: Path | str, fmt: str) -> str:
    """The DuckDB table function every reader uses for one raw file."""
    function = "read_csv" if fmt == "csv" else "read_parquet"
    return f"{function}({sql_string(str(path))}, {options_sql(fmt)})"


# ------------------------------------------------------------------ independent reader


def count_rows(path: Path, fmt: str) -> int:
    """Data rows of one raw file, read without DuckDB: pyarrow's streaming CSV parser
    (RFC 4180 quotes, line breaks inside quoted values, no comment character) or the
    Parquet footer. Raises ValueError with pyarrow's message when the file cannot be
    parsed."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        if fmt != "csv":
            return int(pq.ParquetFile(path).metadata.num_rows)
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 22),
            parse_options=pacsv.ParseOptions(
                delimiter=",",
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
            ),
            # every column as text: counting must not depend on type inference
            convert_options=pacsv.ConvertOptions(
                column_types=None, strings_can_be_null=False, auto_dict_encode=False
            ),
        )
        rows = 0
        for batch in reader:
            rows += batch.num_rows
        return rows
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(str(exc)) from exc


# ------------------------------------------------------------------ diagnostics


@dataclass(frozen=True)
class CsvProblem:
    line: int  # 1-based physical line where the record starts
    message: str


def diagnose_csv(path: Path, max_line_size: int = MAX_LINE_SIZE) -> CsvProblem | None:
    """Why a UTF-8 CSV cannot be read with :data:`CSV_OPTIONS`: the first record with
    another number of fields than the header, a record longer than ``max_line_size``, an
    unterminated quote, or line endings that change within the file. Python's csv module
    (same dialect) reads the records; None when it finds nothing wrong."""
    endings = _line_endings(path)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=",", quotechar='"', doublequote=True, strict=True)
        csv.field_size_limit(max(max_line_size * 4, 1 << 20))
        header: list[str] | None = None
        start = 1
        try:
            for record in reader:
                size = sum(len(v.encode("utf-8")) for v in record) + len(record)
                if header is None:
                    header = record
                elif len(record) != len(header):
                    return CsvProblem(
                        start,
                        f"line {start} has {len(record)} fields, the header has "
                        f"{len(header)} (an unquoted comma, a missing field or a stray "
                        "quote?)",
                    )
                if size > max_line_size:
                    return CsvProblem(
                        start,
                        f"line {start} is {size:,} bytes long; the reader accepts at most "
                        f"{max_line_size:,} bytes per row (raw_reader.MAX_LINE_SIZE): a value "
                        "that long is not a customer attribute (an unbalanced quote "
                        "swallowing the rest of the file?)",
                    )
                start = reader.line_num + 1
        except csv.Error as exc:
            return CsvProblem(start, f"line {start}: {exc} (an unbalanced quote?)")
    if endings is not None:
        return endings
    return None


_ENDING = re.compile(rb"\r\n|\n|\r")
_ENDING_NAMES = {b"\n": "LF", b"\r\n": "CRLF", b"\r": "CR"}


def _line_endings(path: Path, chunk_size: int = 1 << 22) -> CsvProblem | None:
    """The first line whose ending (LF, CRLF or CR) differs from the first line's."""
    first: bytes | None = None
    line = 1
    carry = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(chunk_size)
            data = carry + chunk
            if chunk and data.endswith(b"\r"):
                carry, data = b"\r", data[:-1]  # a CRLF may be split across chunks
            else:
                carry = b""
            for match in _ENDING.finditer(data):
                kind = match.group(0)
                if first is None:
                    first = kind
                elif kind != first:
                    return CsvProblem(
                        line,
                        f"mixed line endings: line 1 ends with {_ENDING_NAMES[first]}, line "
                        f"{line} with {_ENDING_NAMES[kind]} (files joined from different "
                        "systems?); re-export with one line ending",
                    )
                line += 1
            if not chunk:
                return None
