"""Validate stage: check a dataset against the scenario's schema before anything is stored.

Validation is by type and streams: a file is read in record batches (CSV as text, Parquet
with its stored types), each batch is checked and typed (numeric columns as float64,
categorical ones as text) and handed on (ingest writes it to the dataset), and every
problem is counted over the whole file. The error then names the file, the first column
(in schema order) with a problem, the problem, and how many rows have it.

A numeric column accepts numbers (integers, floats, decimals) and text that reads as a
number; booleans, dates, times, durations and columns mixing types are refused by type,
naming the column and its type. A categorical column accepts text, integers and
booleans; floats, dates, times, durations and mixed columns are refused the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.config import ColumnSpec, SchemaConfig
from lifecycle.errors import DataValidationError
from lifecycle.table_stream import TableFile, open_table_file

# Beyond this magnitude squared errors overflow float64 and RMSE becomes infinite.
MAX_MAGNITUDE = 1e150
# What pandas' CSV reader took for booleans: a column of only these is "boolean values".
BOOLEAN_TEXT = ("True", "TRUE", "true", "False", "FALSE", "false")
# Text that reads as a number (as pyarrow's parser reads it), after trimming whitespace.
NUMBER_PATTERN = (
    r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))$"
)
EXAMPLES = 3
NUMERIC_TYPE = pa.float64()
CATEGORICAL_TYPE = pa.large_string()

BatchSink = Callable[[pa.RecordBatch], None]


@dataclass(frozen=True)
class ValidationSummary:
    """What a valid input holds: rows, the schema's columns, and each numeric column's mean."""

    source: str
    rows: int
    columns: tuple[str, ...]
    means: dict[str, float]


@dataclass
class _Tally:
    """One column's problems, counted over every batch."""

    missing: int = 0
    boolean: int = 0
    non_numeric: int = 0
    examples: list[str] = field(default_factory=list)
    infinite: int = 0
    too_large: int = 0
    below: int = 0
    above: int = 0
    total: float = 0.0

    def add_examples(self, values: pa.Array) -> None:
        if len(self.examples) < EXAMPLES:
            for value in pc.unique(values).to_pylist():
                if value not in self.examples and len(self.examples) < EXAMPLES:
                    self.examples.append(value)


def output_schema(schema: SchemaConfig) -> pa.Schema:
    """The typed columns a valid input becomes: float64 numbers, text categories."""
    return pa.schema(
        [
            pa.field(spec.name, NUMERIC_TYPE if spec.kind == "numeric" else CATEGORICAL_TYPE)
            for spec in schema.columns
        ]
    )


def _type_word(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "timezone-aware datetime" if kind.tz else "datetime"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_time(kind):
        return "time-of-day"
    if pa.types.is_duration(kind) or pa.types.is_interval(kind):
        return "duration"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "floating-point"
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return "binary"
    return "nested" if pa.types.is_nested(kind) else str(kind)


def _value_type(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _type_problem(spec: ColumnSpec, stored: pa.DataType) -> str | None:
    """Why a column of type ``stored`` cannot hold ``spec``'s values, or None."""
    kind = _value_type(stored)
    if pa.types.is_null(kind) or _is_text(kind):
        return None
    if spec.kind == "numeric":
        if _is_number(kind):
            return None
        if pa.types.is_boolean(kind):
            return "boolean values where numbers are expected"
        return f"{_type_word(kind)} values where numbers are expected (type {stored})"
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return None
    return (
        f"{_type_word(kind)} values where categories are expected (type {stored}); "
        "store categories as text or integers"
    )


def _numbers_from_text(values: pa.Array, tally: _Tally) -> pa.Array:
    """Text to float64; text that is not a number is counted (booleans apart) and becomes null."""
    try:
        return pc.cast(values, NUMERIC_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    trimmed = pc.utf8_trim_whitespace(values)
    try:
        return pc.cast(trimmed, NUMERIC_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    number = pc.fill_null(pc.match_substring_regex(trimmed, NUMBER_PATTERN), True)
    bad = pc.invert(number)
    tally.non_numeric += pc.sum(bad).as_py() or 0
    tally.boolean += pc.sum(pc.is_in(trimmed, pa.array(BOOLEAN_TEXT))).as_py() or 0
    tally.add_examples(values.filter(bad))
    kept = pc.if_else(number, trimmed, pa.scalar(None, trimmed.type))
    try:
        return pc.cast(kept, NUMERIC_TYPE)
    except pa.ArrowInvalid:  # the pattern let through text pyarrow will not read: one by one
        return pa.array([_to_float(text) for text in kept.to_pylist()], NUMERIC_TYPE)


def _to_float(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def _numeric_values(values: pa.Array, spec: ColumnSpec, tally: _Tally) -> pa.Array:
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_null(values.type):
        tally.missing += len(values)
        return pa.nulls(len(values), NUMERIC_TYPE)
    numbers = (
        _numbers_from_text(values, tally)
        if _is_text(values.type)
        else pc.cast(values, NUMERIC_TYPE, safe=False)
    )
    # Missing: null in the input, or NaN (text that was not a number is counted apart).
    tally.missing += values.null_count + (pc.sum(pc.is_nan(numbers)).as_py() or 0)
    if pc.any(pc.is_inf(numbers)).as_py():
        tally.infinite += pc.sum(pc.is_inf(numbers)).as_py()
    tally.too_large += pc.sum(pc.greater(pc.abs(numbers), MAX_MAGNITUDE)).as_py() or 0
    if spec.min is not None:
        tally.below += pc.sum(pc.less(numbers, spec.min)).as_py() or 0
    if spec.max is not None:
        tally.above += pc.sum(pc.greater(numbers, spec.max)).as_py() or 0
    tally.total += pc.sum(numbers).as_py() or 0.0
    return numbers


def _categorical_values(values: pa.Array, csv_text: bool, tally: _Tally) -> pa.Array:
    if pa.types.is_null(values.type):
        tally.missing += len(values)
        return pa.nulls(len(values), CATEGORICAL_TYPE)
    tally.missing += values.null_count
    text = pc.cast(values, CATEGORICAL_TYPE)
    # The CSV dialect ignores spaces after a comma (pandas' skipinitialspace).
    return pc.utf8_ltrim(text, characters=" ") if csv_text else text


def _problem(spec: ColumnSpec, tally: _Tally, rows: int) -> tuple[str, int] | None:
    """The first problem of a column, in the order the checks were always made."""
    if tally.missing:
        return "missing values", tally.missing
    if spec.kind != "numeric":
        return None
    if tally.boolean and tally.boolean == rows:
        return "boolean values where numbers are expected", rows
    if tally.non_numeric:
        examples = ", ".join(repr(v) for v in tally.examples)
        return f"non-numeric values (e.g. {examples})", tally.non_numeric
    if tally.infinite:
        return "infinite values", tally.infinite
    if tally.too_large:
        return f"values beyond ±{MAX_MAGNITUDE:g} (their squares overflow)", tally.too_large
    if spec.min is not None and tally.below:
        return f"values below the minimum {spec.min}", tally.below
    if spec.max is not None and tally.above:
        return f"values above the maximum {spec.max}", tally.above
    return None


def _delimiter_hint(columns: Iterable[str]) -> str:
    columns = list(columns)
    if len(columns) == 1:
        only = columns[0]
        for delimiter in (";", "\t", "|"):
            if delimiter in only:
                return f"; the header is one column {only!r}: is the file comma-separated?"
    return ""


def check_columns(columns: Iterable[str], schema: SchemaConfig, source: str) -> None:
    """Refuse missing columns, and unexpected ones unless the schema ignores them.

    Raises:
        DataValidationError: naming ``source`` and the first missing or unexpected column.
    """
    columns = [str(column) for column in columns]
    missing = [spec.name for spec in schema.columns if spec.name not in columns]
    if missing:
        raise DataValidationError(
            source,
            missing[0],
            f"missing column (expected {', '.join(s.name for s in schema.columns)}; "
            f"found {', '.join(columns) or 'none'}){_delimiter_hint(columns)}",
        )
    unexpected = [name for name in columns if name not in {s.name for s in schema.columns}]
    if unexpected and schema.extra_columns == "reject":
        raise DataValidationError(
            source, unexpected[0], "unexpected column (set schema.extra_columns: ignore to drop it)"
        )


def _check_rows(rows: int, schema: SchemaConfig, source: str) -> None:
    if rows < schema.min_rows:
        raise DataValidationError(
            source, None, f"has {rows} rows, the schema needs at least {schema.min_rows}"
        )


def check_types(
    types: dict[str, pa.DataType], rows: int, schema: SchemaConfig, source: str
) -> None:
    """Refuse, by their stored type, columns that cannot hold the schema's values.

    Raises:
        DataValidationError: naming ``source``, the column and its type.
    """
    for spec in schema.columns:
        problem = _type_problem(spec, types[spec.name])
        if problem:
            raise DataValidationError(source, spec.name, problem, rows)


class BatchValidator:
    """Checks and types batches of a table whose columns were already checked; counts every
    problem; :meth:`finish` raises the first one."""

    def __init__(self, schema: SchemaConfig, source: str, csv_text: bool):
        self.schema = schema
        self.source = source
        self.csv_text = csv_text
        self.rows = 0
        self._tallies = {spec.name: _Tally() for spec in schema.columns}
        self._output = output_schema(schema)

    def check(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch's schema columns, typed (float64 numbers, text categories)."""
        arrays = []
        for spec in self.schema.columns:
            values = batch.column(spec.name)
            tally = self._tallies[spec.name]
            if spec.kind == "numeric":
                arrays.append(_numeric_values(values, spec, tally))
            else:
                arrays.append(_categorical_values(values, self.csv_text, tally))
        self.rows += batch.num_rows
        return pa.RecordBatch.from_arrays(arrays, schema=self._output)

    def finish(self) -> ValidationSummary:
        """The summary of a valid input.

        Raises:
            DataValidationError: too few rows, or the first column (in schema order) with a
                problem, naming the problem and how many rows have it.
        """
        _check_rows(self.rows, self.schema, self.source)
        for spec in self.schema.columns:
            found = _problem(spec, self._tallies[spec.name], self.rows)
            if found:
                raise DataValidationError(self.source, spec.name, found[0], found[1])
        means = {
            spec.name: self._tallies[spec.name].total / self.rows
            for spec in self.schema.columns
            if spec.kind == "numeric"
        }
        return ValidationSummary(
            self.source, self.rows, tuple(spec.name for spec in self.schema.columns), means
        )


def validate_table_file(
    table: TableFile, schema: SchemaConfig, sink: BatchSink | None = None
) -> ValidationSummary:
    """Validate an opened table batch by batch, handing each typed batch to ``sink``.

    ``sink`` sees batches before the whole input is known to be valid: on an error it must
    discard what it got (the dataset writer does).

    Raises:
        DataValidationError: the data breaks the schema (see :class:`BatchValidator`).
        InvalidInputError: malformed content, naming the file.
    """
    check_columns(table.names, schema, table.source)
    if table.types is not None:
        _check_rows(table.rows or 0, schema, table.source)
        check_types(table.types, table.rows or 0, schema, table.source)
    validator = BatchValidator(schema, table.source, csv_text=table.is_csv)
    for batch in table.batches([spec.name for spec in schema.columns]):
        typed = validator.check(batch)
        if sink is not None:
            sink(typed)
    return validator.finish()


def validate_file(
    path: str | Path, schema: SchemaConfig, source: str | None = None, sink: BatchSink | None = None
) -> ValidationSummary:
    """Validate a CSV or Parquet file against ``schema`` in bounded memory (streaming).

    Args:
        path: the file on disk.
        schema: what it must hold.
        source: how to name it in errors (default: ``path``).
        sink: called with each typed batch (numeric columns float64, categorical text, in
            schema order), e.g. to write the dataset while validating.

    Returns:
        Rows, columns and the numeric columns' means.

    Raises:
        InvalidInputError: unreadable or malformed file.
        DataValidationError: the data breaks the schema, naming the file, the column and
            how many rows offend.
    """
    return validate_table_file(open_table_file(path, source), schema, sink)


def _frame_column(values: pd.Series, name: str, source: str, rows: int) -> pa.Array:
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        kinds = sorted({type(value).__name__ for value in values.dropna()})
        raise DataValidationError(
            source, name, f"mixed types ({', '.join(kinds)}) in one column", rows
        ) from None


def validate_frame(frame: pd.DataFrame, schema: SchemaConfig, source: str) -> pd.DataFrame:
    """Check an in-memory ``frame`` against ``schema`` and return it typed, in schema order.

    The same checks as :func:`validate_file` (names, types, nulls, finite values, ranges,
    minimum rows), for frames small enough to hold.

    Raises:
        DataValidationError: naming ``source``, the column and how many rows offend.
    """
    frame = frame.set_axis([str(column) for column in frame.columns], axis=1)
    check_columns(frame.columns, schema, source)
    rows = len(frame)
    _check_rows(rows, schema, source)
    arrays = {
        spec.name: _frame_column(frame[spec.name], spec.name, source, rows)
        for spec in schema.columns
    }
    check_types({name: array.type for name, array in arrays.items()}, rows, schema, source)
    validator = BatchValidator(schema, source, csv_text=False)
    typed = validator.check(pa.RecordBatch.from_pydict(arrays))
    validator.finish()
    return typed.to_pandas()
