"""Scoring chunk by chunk (issue 14): the same numbers as scoring the whole batch at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

import lifecycle.datasets
from components.evaluate.logic import evaluate, predict_dataset
from components.evaluate.scores import RunningScores, UndefinedMetricError
from components.ingest.logic import ingest
from lifecycle import keys
from lifecycle.config import LifecycleConfig
from lifecycle.datasets import iter_dataset_batches
from lifecycle.store import LocalStore
from tests.helpers import COURSE, committed, course_model_in_production

CONFIG = LifecycleConfig()


def _sklearn(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "RMSE": float(np.sqrt(mean_squared_error(actual, predicted))),
        "r2": float(r2_score(actual, predicted)),
        "MAE": float(mean_absolute_error(actual, predicted)),
    }


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000, 100_000])
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_running_scores_equal_whole_batch_scores(chunk_rows, offset):
    # Far from zero (offset 1e6), sums of y and y² would lose R²'s variance; Chan's update not.
    rng = np.random.default_rng(3)
    actual = offset + rng.normal(0.0, 2.0, 20_011)
    predicted = actual + rng.normal(0.1, 0.5, actual.size)
    scores = RunningScores()
    for start in range(0, actual.size, chunk_rows):
        scores.add(actual[start : start + chunk_rows], predicted[start : start + chunk_rows])
    streamed = scores.metrics()
    for metric, expected in _sklearn(actual, predicted).items():
        assert streamed[metric] == pytest.approx(expected, rel=1e-9)


def test_a_constant_target_split_over_chunks_is_refused():
    scores = RunningScores()
    for _ in range(3):
        scores.add(np.array([0.1, 0.1, 0.1]), np.array([0.0, 0.1, 0.2]))
    with pytest.raises(UndefinedMetricError, match="metric r2.*constant"):
        scores.metrics("batch 'b'")


def test_evaluate_in_chunks_scores_and_records_as_in_one(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)
    batch = committed(
        store,
        lambda tx: ingest(store, str(COURSE / "batch_3.csv"), "batch_3", CONFIG.schema, tx.run),
    )

    def scored(name: str):
        return committed(
            store, lambda tx: evaluate(store, CONFIG, "1.0", batch.key, name, "monitor", tx.run)
        )

    whole = scored("whole")
    monkeypatch.setattr(lifecycle.datasets, "READ_BATCH_ROWS", 3)
    assert len(list(iter_dataset_batches(store, batch.key))) > 1
    chunked = scored("chunked")
    for metric, value in whole.metrics.items():
        assert chunked.metrics[metric] == pytest.approx(value, rel=1e-12)
    frame = pd.read_csv(COURSE / "batch_3.csv")
    predictions = predict_dataset(store, CONFIG, "1.0", batch.key)
    assert predictions.shape == (len(frame),)
    for name in ("whole", "chunked"):
        (key,) = [k for k in store.list_keys(f"{keys.EXPERIENCES}/") if f"/{name}/" in k]
        experiences = pd.read_parquet(store.local_path(key))
        assert list(experiences.columns) == [*CONFIG.schema.column_names, "prediction"]
        np.testing.assert_allclose(experiences["y"], frame["y"])
        np.testing.assert_allclose(experiences["prediction"], predictions, rtol=1e-15)
