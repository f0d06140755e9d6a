"""Schema validation: each bad input gets an error naming the file, column and row count."""

from __future__ import annotations

import pandas as pd
import pytest

from components.validate.logic import validate_frame
from lifecycle.config import ColumnSpec, SchemaConfig
from lifecycle.errors import DataValidationError, InvalidInputError
from lifecycle.tables import parse_table

SCHEMA = SchemaConfig()


def test_valid_frame_is_typed_and_ordered():
    frame = validate_frame(pd.DataFrame({"y": ["1.5", "2"], "x": [1, 2]}), SCHEMA, "f.csv")
    assert list(frame.columns) == ["x", "y"]
    assert frame["y"].dtype == "float64" and frame["y"].tolist() == [1.5, 2.0]


@pytest.mark.parametrize(
    ("frame", "column", "problem", "rows"),
    [
        (pd.DataFrame({"x": [1, 2]}), "y", "missing column", None),
        (pd.DataFrame({"x": [1, 2], "y": [1, 2], "z": [0, 0]}), "z", "unexpected column", None),
        (pd.DataFrame({"x": [1, None, None], "y": [1, 2, 3]}), "x", "missing values", 2),
        (pd.DataFrame({"x": ["1", "one", "two"], "y": [1, 2, 3]}), "x", "non-numeric", 2),
        (
            pd.DataFrame({"x": [1.0, float("inf"), -float("inf")], "y": [1, 2, 3]}),
            "x",
            "infinite",
            2,
        ),
        (pd.DataFrame({"x": [True, False], "y": [1, 2]}), "x", "boolean", 2),
    ],
)
def test_schema_violations_name_column_and_rows(frame, column, problem, rows):
    with pytest.raises(DataValidationError) as error:
        validate_frame(frame, SCHEMA, "batch.csv")
    assert error.value.column == column and error.value.rows == rows
    assert problem in str(error.value) and "batch.csv" in str(error.value)


def test_extra_columns_can_be_ignored_by_config():
    schema = SchemaConfig(extra_columns="ignore")
    frame = validate_frame(pd.DataFrame({"x": [1, 2], "y": [1, 2], "id": [7, 8]}), schema, "f")
    assert list(frame.columns) == ["x", "y"]


def test_ranges_and_minimum_rows():
    schema = SchemaConfig(features=(ColumnSpec(name="x", min=0, max=10),), min_rows=3)
    with pytest.raises(DataValidationError, match="above the maximum 10.0 \\(1 row\\)"):
        validate_frame(pd.DataFrame({"x": [1, 2, 11], "y": [1, 2, 3]}), schema, "f")
    with pytest.raises(DataValidationError, match="has 2 rows, the schema needs at least 3"):
        validate_frame(pd.DataFrame({"x": [1, 2], "y": [1, 2]}), schema, "f")


def test_wrong_delimiter_gets_a_hint():
    frame = parse_table(b"x;y\n1;2\n3;4\n", "semi.csv")
    with pytest.raises(DataValidationError, match="comma-separated"):
        validate_frame(frame, SCHEMA, "semi.csv")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty \\(0 bytes\\)"),
        (b"x,x\n1,2\n", "duplicate column name 'x'"),
        (b"x,y\n1,\xff\n", "not UTF-8"),
        (b"\n\n", "no header"),
    ],
)
def test_unreadable_csv_is_refused_with_the_file_name(data, message):
    with pytest.raises(InvalidInputError, match=message) as error:
        parse_table(data, "in.csv")
    assert "in.csv" in str(error.value)


def test_bom_and_header_only():
    frame = parse_table("\ufeffx,y\n1,2\n".encode(), "bom.csv")
    assert list(frame.columns) == ["x", "y"]
    header_only = parse_table(b"x,y\n", "h.csv")
    with pytest.raises(DataValidationError, match="has 0 rows"):
        validate_frame(header_only, SCHEMA, "h.csv")


def test_a_one_row_batch_is_refused_because_r2_needs_two():
    with pytest.raises(DataValidationError, match="at least 2"):
        validate_frame(pd.DataFrame({"x": [1], "y": [2]}), SCHEMA, "one.csv")
