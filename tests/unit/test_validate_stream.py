"""Streaming, typed validation and ingest: problems counted over every batch, refusals by
type naming the column and its type, and the same dataset key however the data arrived."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.ingest.logic import ingest
from components.validate.logic import validate_file, validate_frame
from lifecycle import datasets, table_stream
from lifecycle.config import ColumnSpec, SchemaConfig
from lifecycle.datasets import read_dataset
from lifecycle.errors import DataValidationError, InvalidInputError
from lifecycle.store import LocalStore, Store
from tests.helpers import committed, store_listing

SCHEMA = SchemaConfig()
WITH_CATEGORY = SchemaConfig(
    features=(ColumnSpec(name="x"), ColumnSpec(name="c", kind="categorical"))
)


@pytest.fixture
def small_batches(monkeypatch):
    """CSV blocks of 64 bytes and Parquet batches of 3 rows: every file is many batches."""
    monkeypatch.setattr(table_stream, "CSV_BLOCK_SIZE", 64)
    monkeypatch.setattr(table_stream, "PARQUET_BATCH_ROWS", 3)


def ingested(store: Store, source: str, name: str, schema: SchemaConfig):
    """The ingest stage in a committed run of its own, as the command line runs it."""
    return committed(store, lambda tx: ingest(store, source, name, schema, tx.run))


def write_parquet(path, columns: dict) -> str:
    pq.write_table(pa.table(columns), path)
    return str(path)


def csv_file(tmp_path, text: str, name: str = "batch.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


NUMERIC_REFUSED = {
    "datetime": (pa.array([dt.datetime(2026, 1, 1)] * 4, pa.timestamp("us")), "datetime"),
    "timezone-aware": (
        pa.array([dt.datetime(2026, 1, 1)] * 4, pa.timestamp("us", tz="UTC")),
        "timezone-aware datetime",
    ),
    "duration": (pa.array([dt.timedelta(seconds=1)] * 4, pa.duration("us")), "duration"),
    "date": (pa.array([dt.date(2026, 1, 1)] * 4, pa.date32()), "date"),
    "boolean": (pa.array([True, False, True, False]), "boolean"),
    "binary": (pa.array([b"1", b"2", b"3", b"4"]), "binary"),
    "list": (pa.array([[1], [2], [3], [4]]), "nested"),
}


@pytest.mark.parametrize("case", sorted(NUMERIC_REFUSED))
def test_parquet_columns_of_other_types_are_refused_for_a_numeric_feature(tmp_path, case):
    values, word = NUMERIC_REFUSED[case]
    path = write_parquet(tmp_path / "b.parquet", {"x": values, "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(DataValidationError) as error:
        validate_file(path, SCHEMA)
    assert error.value.column == "x" and error.value.rows == 4
    message = str(error.value)
    assert f"{word} values where numbers are expected" in message and "b.parquet" in message
    if case != "boolean":
        assert f"(type {str(values.type).split('<')[0]}" in message


@pytest.mark.parametrize(
    ("values", "word"),
    [
        (pa.array([0.5, 1.5, 2.5, 3.5]), "floating-point"),
        (pa.array([dt.datetime(2026, 1, 1)] * 4, pa.timestamp("ns")), "datetime"),
        (pa.array([dt.timedelta(days=1)] * 4, pa.duration("s")), "duration"),
    ],
)
def test_parquet_columns_of_other_types_are_refused_for_a_categorical_feature(
    tmp_path, values, word
):
    path = write_parquet(
        tmp_path / "b.parquet", {"x": [1, 2, 3, 4], "c": values, "y": [1.0, 2.0, 3.0, 4.0]}
    )
    with pytest.raises(DataValidationError, match=f"column 'c': {word} values where categories"):
        validate_file(path, WITH_CATEGORY)


@pytest.mark.parametrize(
    "categories",
    [
        pa.array(["a", "b", "a", "b"]),
        pa.array([1, 2, 1, 2], pa.int16()),
        pa.array([True, False, True, False]),
        pa.array(["a", "b", "a", "b"]).dictionary_encode(),
    ],
)
def test_categories_may_be_text_integers_booleans_or_dictionaries(tmp_path, categories):
    path = write_parquet(
        tmp_path / "b.parquet",
        {"x": pa.array([1, 2, 3, 4], pa.int32()), "c": categories, "y": [1.0, 2.0, 3.0, 4.0]},
    )
    summary = validate_file(path, WITH_CATEGORY)
    assert summary.rows == 4 and summary.means == {"x": 2.5, "y": 2.5}


@pytest.mark.parametrize(
    ("column", "word"),
    [
        (pd.to_datetime(["2026-01-01", "2026-01-02"]), "datetime"),
        (pd.to_datetime(["2026-01-01", "2026-01-02"]).tz_localize("Europe/Warsaw"), "timezone"),
        (pd.to_timedelta(["1s", "2s"]), "duration"),
    ],
)
def test_frames_with_time_columns_are_refused_naming_the_type(column, word):
    with pytest.raises(DataValidationError, match=f"column 'x': {word}.*values where numbers"):
        validate_frame(pd.DataFrame({"x": column, "y": [1.0, 2.0]}), SCHEMA, "f")


def test_a_mixed_object_column_is_refused_naming_its_types():
    frame = pd.DataFrame({"x": pd.Series([1, "2"], dtype=object), "y": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match=r"column 'x': mixed types \(int, str\)"):
        validate_frame(frame, SCHEMA, "f")


def test_numbers_as_text_in_parquet_are_read_as_numbers(tmp_path):
    path = write_parquet(tmp_path / "b.parquet", {"x": ["1", " 2.5", "3e0"], "y": [1, 2, 3]})
    assert validate_file(path, SCHEMA).means == {"x": pytest.approx(6.5 / 3), "y": 2.0}


def test_problems_are_counted_over_every_batch_and_reported_in_schema_order(
    tmp_path, small_batches
):
    rows = [f"{i},{i}" for i in range(40)]
    rows[3] = "3,oops"  # y: first in the file
    rows[30] = "abc,30"  # x: later in the file, but first in the schema
    rows[35] = "def,35"
    path = csv_file(tmp_path, "x,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataValidationError) as error:
        validate_file(path, SCHEMA)
    assert error.value.column == "x" and error.value.rows == 2
    assert "non-numeric values (e.g. 'abc', 'def')" in str(error.value)


def test_a_boolean_column_read_in_batches_is_still_one_boolean_column(tmp_path, small_batches):
    body = "\n".join(f"{i},{'true' if i % 2 else 'FALSE'}" for i in range(30))
    with pytest.raises(DataValidationError, match=r"boolean values where numbers .*\(30 rows\)"):
        validate_file(csv_file(tmp_path, f"x,y\n{body}\n"), SCHEMA)


def test_spaces_after_commas_are_ignored_for_numbers_and_categories(tmp_path):
    path = csv_file(tmp_path, "x, c, y\n1, a, 2\n2,  b,3\n")
    ref = ingested(LocalStore(tmp_path / "s"), path, "b", WITH_CATEGORY)
    frame = read_dataset(LocalStore(tmp_path / "s"), ref.key)
    assert frame["c"].tolist() == ["a", "b"] and frame["x"].tolist() == [1.0, 2.0]


def test_bytes_that_are_not_utf8_far_into_the_file_are_located(tmp_path, small_batches):
    data = b"x,y\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(100))
    path = tmp_path / "late.csv"
    path.write_bytes(data + b"7,\xff\n")
    with pytest.raises(InvalidInputError, match=rf"not UTF-8 text \(byte {len(data) + 2}: "):
        validate_file(path, SCHEMA)


def test_a_row_with_too_many_fields_is_a_malformed_csv(tmp_path):
    with pytest.raises(InvalidInputError, match="bad.csv: malformed CSV: .*3"):
        validate_file(csv_file(tmp_path, "x,y\n1,2\n3,4,5\n", "bad.csv"), SCHEMA)


def test_a_pandas_index_in_parquet_is_not_a_column(tmp_path):
    path = tmp_path / "indexed.parquet"
    pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]}, index=[10, 20]).to_parquet(path)
    assert validate_file(path, SCHEMA).columns == ("x", "y")


def test_the_same_data_gets_the_same_key_whatever_its_format_and_batching(tmp_path, monkeypatch):
    # Row groups of 4096 rows: 10,000 rows span three of them.
    monkeypatch.setattr(datasets, "MAX_ROW_GROUP_ROWS", 4096)
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 100, 10_000), np.round(rng.normal(size=10_000), 6)
    csv_path = tmp_path / "b.csv"
    pd.DataFrame({"x": x, "y": y}).to_csv(csv_path, index=False)
    parquet_path = tmp_path / "b.parquet"
    write_parquet(parquet_path, {"y": y, "x": x.astype(np.int32)})
    keys = set()
    for block in (1 << 10, 1 << 16, 1 << 22):
        monkeypatch.setattr(table_stream, "CSV_BLOCK_SIZE", block)
        monkeypatch.setattr(table_stream, "PARQUET_BATCH_ROWS", block // 16)
        for path in (csv_path, parquet_path):
            store = LocalStore(tmp_path / f"store-{block}-{path.suffix}")
            ref = ingested(store, str(path), "b", SCHEMA)
            assert ref.rows == 10_000
            assert pq.ParquetFile(store.local_path(ref.key)).metadata.num_row_groups == 3
            keys.add(ref.key)
    assert len(keys) == 1


def test_ingest_from_a_store_object_and_bad_data_leave_the_store_as_before(
    any_store: Store, tmp_path
):
    rows = "".join(f"{i},{2 * i}\n" for i in range(1000))
    any_store.put_bytes("incoming/b.csv", f"x,y\n{rows}".encode())
    ref = ingested(any_store, "incoming/b.csv", "b", SCHEMA)
    assert ref.rows == 1000 and read_dataset(any_store, ref.key)["y"].sum() == 999_000
    any_store.put_bytes("incoming/bad.csv", f"x,y\n{rows}1,two\n".encode())
    before = store_listing(any_store)
    with pytest.raises(DataValidationError, match="incoming/bad.csv: column 'y': non-numeric"):
        ingested(any_store, "incoming/bad.csv", "bad", SCHEMA)
    assert store_listing(any_store) == before


def test_validate_and_ingest_import_no_model_or_pipeline_stack(tmp_path):
    import subprocess
    import sys

    from tests.helpers import COURSE

    batch, store = COURSE / "batch_1.csv", tmp_path / "store"
    code = (
        "import sys, contextlib, io\n"
        "from cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['validate', '--data', {str(batch)!r}, '--store', {str(store)!r}]) == 0\n"
        f"    assert main(['ingest', '--data', {str(batch)!r}, '--name', 'b',"
        f" '--store', {str(store)!r}]) == 0\n"
        "heavy = ('scipy', 'sklearn', 'kfp', 'matplotlib', 'minio')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
