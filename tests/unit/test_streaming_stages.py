"""select_data and train on big data (issue 14): streamed, with the results of the whole-frame
way."""

from __future__ import annotations

import pandas as pd
import pytest

import lifecycle.datasets
from components.ingest.logic import ingest
from components.select_data.logic import combine_datasets
from lifecycle.config import LifecycleConfig
from lifecycle.datasets import read_dataset, write_dataset
from lifecycle.errors import InvalidInputError
from lifecycle.store import LocalStore
from tests.helpers import COURSE, committed

CONFIG = LifecycleConfig()


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


def _ingested(store, name):
    path = str(COURSE / f"{name}.csv")
    return committed(store, lambda tx: ingest(store, path, name, CONFIG.schema, tx.run))


def test_combined_datasets_hold_the_rows_in_order_whatever_the_batch_size(store, monkeypatch):
    parts = [_ingested(store, name) for name in ("data_init", "batch_1", "batch_2")]
    keys = [part.key for part in parts]
    whole = committed(store, lambda tx: combine_datasets(store, keys, "retrain", tx.run))
    monkeypatch.setattr(lifecycle.datasets, "READ_BATCH_ROWS", 2)
    chunked = committed(store, lambda tx: combine_datasets(store, keys, "retrain", tx.run))
    assert chunked.key == whole.key  # same rows, same bytes, same key
    expected = pd.concat([read_dataset(store, key) for key in keys], ignore_index=True)
    pd.testing.assert_frame_equal(read_dataset(store, whole.key), expected)
    assert whole.rows == len(expected) and whole.source == " + ".join(keys)


def test_an_integer_column_joins_a_float_one_and_text_does_not(store):
    floats = _ingested(store, "data_init")
    integers = committed(
        store,
        lambda tx: write_dataset(
            store, "ints", pd.DataFrame({"x": [1, 2], "y": [3, 4]}), "t", tx.run
        ),
    )
    combined = committed(
        store, lambda tx: combine_datasets(store, [floats.key, integers.key], "r", tx.run)
    )
    assert read_dataset(store, combined.key)["y"].tolist()[-2:] == [3.0, 4.0]
    text = committed(
        store,
        lambda tx: write_dataset(
            store, "text", pd.DataFrame({"x": [1.0], "y": ["high"]}), "t", tx.run
        ),
    )
    with pytest.raises(InvalidInputError, match=f"dataset '{text.key}'"):
        committed(store, lambda tx: combine_datasets(store, [floats.key, text.key], "r", tx.run))
