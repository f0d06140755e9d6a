"""A dataset in MinIO is read in byte ranges (issue 14): a stage reading one column fetches
that column's chunks and the footer, never the whole object nor a copy on disk, and reads
what a local folder gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.detect_drift.suite.columns import ParquetColumns
from components.evaluate.logic import predict_dataset
from lifecycle.config import LifecycleConfig
from lifecycle.datasets import dataset_file, iter_dataset_batches, write_dataset
from lifecycle.store import Store, open_store
from lifecycle.store.ranged import RangedObject
from tests.helpers import committed, course_model_in_production

pytestmark = pytest.mark.minio

ROWS = 300_000


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(14)
    return pd.DataFrame({name: rng.normal(size=ROWS) for name in ("x", "y", "z")})


def _stored(store: Store, frame: pd.DataFrame) -> str:
    return committed(store, lambda tx: write_dataset(store, "wide", frame, "test", tx.run)).key


def test_one_column_of_a_stored_dataset_fetches_about_its_share(minio_store_uri, monkeypatch):
    store = open_store(minio_store_uri)
    frame = _frame()
    key = _stored(store, frame)
    fetched: list[int] = []
    open_ranged = store.open_ranged

    def counted(object_key: str) -> RangedObject:
        ranged = open_ranged(object_key)

        def read_range(offset: int, length: int) -> bytes:
            fetched.append(length)
            return ranged.read_range(offset, length)

        return RangedObject(ranged.label, ranged.size, read_range)

    monkeypatch.setattr(store, "open_ranged", counted)
    with dataset_file(store, key) as file:
        assert isinstance(file, RangedObject)  # not a download
        values = ParquetColumns(file).float_values("y")
        size = file.size
    np.testing.assert_array_equal(values, frame["y"].to_numpy())
    # One of three equal columns, its footer and the schema read: well under half the object.
    assert 0 < sum(fetched) < size / 2


def test_a_stage_reads_a_dataset_in_minio_as_from_a_local_folder(any_store: Store):
    course_model_in_production(any_store)
    frame = _frame()[["x", "y"]]  # the course model's columns
    key = _stored(any_store, frame)
    batches = list(iter_dataset_batches(any_store, key, batch_rows=70_000))
    assert len(batches) > 1
    read = pd.concat([batch.to_pandas() for batch in batches], ignore_index=True)
    pd.testing.assert_frame_equal(read, frame)
    predictions = predict_dataset(any_store, LifecycleConfig(), "1.0", key)
    assert predictions.shape == (ROWS,)
