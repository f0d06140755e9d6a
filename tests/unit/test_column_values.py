"""A big batch's numeric column is held once (issue 14): filled row groups at a time into an
array the suite sorts in place, with the same values as reading the column whole."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.detect_drift.suite import (
    ParquetColumns,
    TableColumns,
    WithColumns,
    float_values,
    numeric_values,
    sorted_finite,
)


@pytest.fixture
def parquet_file(tmp_path):
    path = tmp_path / "batch.parquet"
    rng = np.random.default_rng(1)
    x = rng.normal(size=10_000)
    table = pa.table(
        {
            "x": pa.array(x),
            "n": pa.array([None if i % 7 == 0 else i for i in range(10_000)], pa.int64()),
        }
    )
    pq.write_table(table, path, row_group_size=333)  # 31 row groups, more than read at once
    return path


@pytest.mark.parametrize("name", ["x", "n"])
def test_parquet_float_values_equal_the_whole_column(parquet_file, name):
    source = ParquetColumns(parquet_file)
    values = float_values(source, name)
    assert values.dtype == np.float64 and values.flags.writeable
    np.testing.assert_array_equal(values, numeric_values(source.column(name)))


def test_every_source_gives_an_array_of_its_own(parquet_file):
    table = pq.read_table(parquet_file)
    extra = np.arange(10_000, dtype=np.float64)
    source = WithColumns(TableColumns(table), {"given": extra, "computed": lambda: extra * 2})
    for name in ("x", "given", "computed"):
        values = float_values(source, name)
        sorted_finite(values, name, in_place=True)
    np.testing.assert_array_equal(extra, np.arange(10_000))  # a given array is not sorted


def test_sorting_in_place_equals_a_sorted_copy():
    values = np.array([3.0, np.nan, -1.0, 2.0, np.nan])
    expected = sorted_finite(values.copy())
    ordered = sorted_finite(values, in_place=True)
    np.testing.assert_array_equal(ordered, expected)
    assert np.shares_memory(ordered, values)
    read_only = np.array([2.0, 1.0])
    read_only.flags.writeable = False
    np.testing.assert_array_equal(sorted_finite(read_only, in_place=True), [1.0, 2.0])
    np.testing.assert_array_equal(read_only, [2.0, 1.0])
