"""The drift suite's streamed CSV reading: the same columns as pyarrow's whole-file read,
however the file is cut into ranges."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from components.detect_drift.suite import csv_columns
from components.detect_drift.suite.csv_columns import read_csv_columns, row_ranges
from components.detect_drift.suite.files import open_data_file

HEADER = '\ufeff"x","y, quoted",label,count\r\n'


def _rows(count: int) -> list[str]:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(count):
        x = "" if i % 17 == 0 else ("NA" if i % 23 == 0 else repr(float(rng.normal())))
        label = f'"level, {i % 5}"' if i % 2 else f"plain{i % 3}"
        rows.append(f"{x},{rng.uniform():.6f},{label},{i}")
    return rows


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes((HEADER + "\r\n".join(_rows(5000)) + "\r\n").encode())
    return path


def _expected(path) -> dict[str, list]:
    table = pacsv.read_csv(path)
    return {
        name: (
            np.asarray(table.column(name).cast(pa.float64()).fill_null(np.nan)).tolist()
            if name != "label"
            else table.column(name).to_pylist()
        )
        for name in table.column_names
    }


@pytest.mark.parametrize("parts", [1, 2, 3, 8])
@pytest.mark.parametrize("mapped_bytes", [4096, 1 << 30])
def test_every_cut_of_the_file_reads_what_pyarrow_reads_whole(
    csv_file, parts, mapped_bytes, monkeypatch
):
    monkeypatch.setattr(csv_columns, "CSV_BLOCK_SIZE", 4096)  # many batches per range
    monkeypatch.setattr(csv_columns, "MAPPED_BYTES", mapped_bytes)  # many stretches, or one
    columns = read_csv_columns(csv_file, parts)
    expected = _expected(csv_file)
    assert columns.names == ["x", "y, quoted", "label", "count"]
    for name in ("x", "y, quoted", "count"):
        np.testing.assert_array_equal(columns.float_values(name), expected[name])
        assert columns.column(name).null_count == int(np.isnan(expected[name]).sum())
    assert columns.column("label").to_pylist() == expected["label"]


def test_ranges_cover_the_rows_and_cut_just_after_newlines(csv_file):
    import mmap

    with open(csv_file, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    start = mapped.find(b"\n") + 1
    for parts in (1, 2, 5, 40):
        ranges = row_ranges(mapped, start, parts)
        assert 1 <= len(ranges) <= parts
        assert ranges[0][0] == start and ranges[-1][1] == len(mapped)
        for (_, end), (begin, _) in zip(ranges, ranges[1:], strict=False):
            assert end == begin and mapped[end - 1 : end] == b"\n"


def test_a_file_smaller_than_its_parts_is_cut_into_fewer_ranges(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    columns = read_csv_columns(path, parts=16)
    assert columns.float_values("a").tolist() == [1.0, 2.0]
    assert columns.column("b").to_pylist() == ["x", "y"]


@pytest.mark.parametrize(
    "text",
    [b"\n\na,b\n1,x\n2,y\n", b"a,b\r1,x\r2,y\r", b"\r\na,b\r\n1,x\r\n\r\n2,y"],
    ids=["blank lines before the header", "carriage returns only", "crlf without a last one"],
)
def test_rows_start_where_pyarrow_finds_them(tmp_path, text):
    path = tmp_path / "lines.csv"
    path.write_bytes(text)
    for parts in (1, 2, 4):
        columns = read_csv_columns(path, parts)
        assert columns.float_values("a").tolist() == [1.0, 2.0]
        assert columns.column("b").to_pylist() == ["x", "y"]


def test_a_column_that_outgrows_its_estimate_keeps_every_value(csv_file, monkeypatch):
    monkeypatch.setattr(csv_columns, "_CAPACITY_MARGIN", 0.01)
    monkeypatch.setattr(csv_columns, "CSV_BLOCK_SIZE", 4096)
    np.testing.assert_array_equal(
        read_csv_columns(csv_file).float_values("count"), np.arange(5000, dtype=np.float64)
    )


def test_handed_over_columns_are_given_once_and_copies_otherwise(csv_file):
    kept = read_csv_columns(csv_file, parts=2)
    first = kept.float_values("count")
    first.sort()
    first[:] = -1
    assert kept.float_values("count").tolist() == list(range(5000))

    single_use = read_csv_columns(csv_file, parts=2, hand_over=True)
    assert single_use.float_values("count").tolist() == list(range(5000))
    with pytest.raises(RuntimeError, match="'count' was handed over already"):
        single_use.float_values("count")


def test_a_later_value_that_does_not_fit_is_a_conversion_error_and_is_read_again(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(csv_columns, "CSV_SAMPLE_BYTES", 64)
    path = tmp_path / "late_text.csv"
    path.write_text("v,w\n" + "".join(f"{i},{i}\n" for i in range(200)) + "text,5\n")
    with pytest.raises(pa.ArrowInvalid, match="conversion error"):
        read_csv_columns(path)
    opened = open_data_file(path)  # read again, inferring over the whole file
    assert opened.classes == {"v": "text", "w": "number"}
    assert opened.columns.column("v").to_pylist()[-1] == "text"
