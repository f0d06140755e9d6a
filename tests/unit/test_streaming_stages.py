"""train on big data (issue 14): streamed over the datasets of a retraining set, with the
results of the whole-frame way (scikit-learn's least-squares solution, found chunk by chunk)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model
from sklearn.linear_model import Lasso, LinearRegression, Ridge

import lifecycle.datasets
from components.detect_drift.suite import read_profile
from components.detect_drift.suite.reference import PREDICTION_COLUMN
from components.ingest.logic import ingest
from components.train.least_squares import LeastSquaresInChunks, fits_in_chunks
from components.train.logic import train
from lifecycle import keys as keys_module
from lifecycle.config import LifecycleConfig
from lifecycle.datasets import read_dataset, write_dataset
from lifecycle.errors import InvalidInputError
from lifecycle.registry import ModelRegistry
from lifecycle.store import LocalStore
from tests.helpers import COURSE, committed

CONFIG = LifecycleConfig()


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


def _ingested(store, name):
    path = str(COURSE / f"{name}.csv")
    return committed(store, lambda tx: ingest(store, path, name, CONFIG.schema, tx.run))


@pytest.mark.parametrize("estimator", ["LinearRegression", "Ridge", "Lasso"])
def test_an_integer_column_joins_a_float_one_and_text_does_not(store, estimator):
    # Chunk by chunk (LinearRegression, Ridge) or in one frame (Lasso): the same rule.
    config = CONFIG.model_copy(
        update={
            "model": CONFIG.model.model_copy(
                update={"estimator": f"sklearn.linear_model.{estimator}"}
            )
        }
    )
    floats = _ingested(store, "data_init")
    integers = committed(
        store,
        lambda tx: write_dataset(
            store, "ints", pd.DataFrame({"x": [1, 2], "y": [3, 4]}), "t", tx.run
        ),
    )
    keys = [floats.key, integers.key]
    model, _ = committed(store, lambda tx: train(store, config, keys, None, None, tx.run))
    frame = pd.concat([read_dataset(store, key) for key in keys], ignore_index=True)
    fresh = getattr(sklearn.linear_model, estimator)()
    expected = fresh.fit(frame[["x"]], frame["y"].astype(float))
    estimator_of, _ = ModelRegistry(store, "course").load_artifact(model.version)
    np.testing.assert_allclose(estimator_of.coef_, expected.coef_, rtol=1e-9)
    assert estimator_of.intercept_ == pytest.approx(expected.intercept_, rel=1e-9)
    text = committed(
        store,
        lambda tx: write_dataset(
            store, "text", pd.DataFrame({"x": [1.0], "y": ["high"]}), "t", tx.run
        ),
    )
    with pytest.raises(InvalidInputError, match=f"dataset '{text.key}'"):
        committed(
            store, lambda tx: train(store, config, [floats.key, text.key], None, None, tx.run)
        )


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize(("features", "chunk_rows"), [(1, 1), (1, 97), (3, 1000), (3, 20_000)])
def test_least_squares_in_chunks_is_sklearns_fit(features, chunk_rows, intercept):
    rng = np.random.default_rng(features)
    names = [f"f{index}" for index in range(features)]
    x = rng.normal(50.0, 10.0, (5_003, features))
    y = x @ np.arange(1.0, features + 1) + 3.0 + rng.normal(0.0, 0.5, len(x))
    expected = LinearRegression(fit_intercept=intercept).fit(pd.DataFrame(x, columns=names), y)
    solver = LeastSquaresInChunks(names, intercept)
    for start in range(0, len(x), chunk_rows):
        solver.add(x[start : start + chunk_rows], y[start : start + chunk_rows])
    fitted = solver.fitted(LinearRegression(fit_intercept=intercept))
    np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=1e-9)
    assert fitted.intercept_ == pytest.approx(expected.intercept_, rel=1e-9, abs=1e-12)
    assert fitted.rank_ == expected.rank_
    np.testing.assert_allclose(fitted.singular_, expected.singular_, rtol=1e-9)
    assert list(fitted.feature_names_in_) == names and fitted.n_features_in_ == features
    frame = pd.DataFrame(x[:5], columns=names)
    np.testing.assert_allclose(fitted.predict(frame), expected.predict(frame), rtol=1e-9)


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("alpha", [1e-3, 1.0, 1e4])
@pytest.mark.parametrize("chunk_rows", [1, 700, 10_000])
def test_ridge_in_chunks_is_sklearns_ridge(alpha, chunk_rows, intercept):
    rng = np.random.default_rng(16)
    names = ["a", "b", "c"]
    x = rng.normal(20.0, 5.0, (3_001, 3))
    x[:, 2] = x[:, 1] * 2 + rng.normal(0.0, 0.01, len(x))  # nearly collinear: the penalty matters
    y = x @ [1.0, -2.0, 0.5] + 7.0 + rng.normal(0.0, 1.0, len(x))
    expected = Ridge(alpha=alpha, fit_intercept=intercept).fit(pd.DataFrame(x, columns=names), y)
    solver = LeastSquaresInChunks(names, intercept)
    for start in range(0, len(x), chunk_rows):
        solver.add(x[start : start + chunk_rows], y[start : start + chunk_rows])
    fitted = solver.fitted(Ridge(alpha=alpha, fit_intercept=intercept))
    # scikit-learn solves the normal equations (Cholesky of XᵀX + αI, the condition number
    # squared), this a QR factor: on nearly collinear columns they agree to about 1e-8.
    np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=1e-6)
    assert fitted.intercept_ == pytest.approx(expected.intercept_, rel=1e-6, abs=1e-10)
    exact = np.linalg.lstsq(  # the penalised problem itself, on the whole data at once
        np.vstack([x - x.mean(0) if intercept else x, np.sqrt(alpha) * np.eye(3)]),
        np.concatenate([y - y.mean() if intercept else y, np.zeros(3)]),
        rcond=None,
    )[0]
    np.testing.assert_allclose(fitted.coef_, exact, rtol=1e-9)
    assert list(fitted.feature_names_in_) == names
    frame = pd.DataFrame(x[:5], columns=names)
    np.testing.assert_allclose(fitted.predict(frame), expected.predict(frame), rtol=1e-9)


def test_least_squares_in_chunks_finds_sklearns_minimum_norm_solution():
    x = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]])  # rank 1
    y = np.array([1.0, 2.0, 2.5, 4.5])
    expected = LinearRegression().fit(x, y)
    solver = LeastSquaresInChunks(["a", "b"])
    solver.add(x[:2], y[:2])
    solver.add(x[2:], y[2:])
    fitted = solver.fitted(LinearRegression())
    assert fitted.rank_ == expected.rank_ == 1
    np.testing.assert_allclose(fitted.coef_, expected.coef_, rtol=1e-9)


def test_least_squares_refuses_a_missing_value_as_sklearn_does(store):
    with pytest.raises(ValueError, match="NaN"):
        LeastSquaresInChunks(["x"]).add(np.array([[1.0], [np.nan]]), np.array([1.0, 2.0]))
    assert fits_in_chunks(LinearRegression()) and fits_in_chunks(Ridge(alpha=2.0))
    assert not fits_in_chunks(LinearRegression(positive=True))
    assert not fits_in_chunks(Ridge(alpha=[1.0, 2.0])) and not fits_in_chunks(Lasso())


def test_train_on_several_datasets_fits_and_profiles_them_as_one(store):
    parts = [_ingested(store, name) for name in ("data_init", "batch_1", "batch_2")]
    keys = [part.key for part in parts]
    model, _ = committed(store, lambda tx: train(store, CONFIG, keys, keys[0], None, tx.run))
    frame = pd.concat([read_dataset(store, key) for key in keys], ignore_index=True)
    expected = LinearRegression().fit(frame[["x"]], frame["y"])
    estimator, _ = ModelRegistry(store, "course").load_artifact(model.version)
    np.testing.assert_allclose(estimator.coef_, expected.coef_, rtol=1e-9)
    assert estimator.intercept_ == pytest.approx(expected.intercept_, rel=1e-9)
    profile = read_profile(store.get_bytes(keys_module.model_profile_key("course", model.version)))
    np.testing.assert_array_equal(profile.numeric("x").sorted, np.sort(frame["x"]))
    np.testing.assert_allclose(
        profile.numeric(PREDICTION_COLUMN).sorted, np.sort(expected.predict(frame[["x"]]))
    )


def test_a_batch_in_the_store_is_hashed_streaming_as_its_bytes(store, monkeypatch):
    import hashlib

    from lifecycle.batches import source_sha256

    data = (COURSE / "batch_1.csv").read_bytes()
    store.put_bytes("incoming/latest.csv", data)
    monkeypatch.setattr(store, "local_path", lambda key: None)  # as a MinIO bucket
    monkeypatch.setattr(store, "get_bytes", None)  # never read whole
    assert source_sha256(store, "incoming/latest.csv") == hashlib.sha256(data).hexdigest()


def test_a_task_store_writes_and_reads_files_streaming(store, tmp_path, monkeypatch):
    from lifecycle.store.local_copies import StoreWithLocalCopies

    copy = tmp_path / "copy.parquet"
    copy.write_bytes(b"dataset")
    task_store = StoreWithLocalCopies(store, {"datasets/a/b/data.parquet": copy})
    monkeypatch.setattr(store, "put_bytes", None)  # a file never goes through memory whole
    staged = task_store.staging_path(".parquet")
    staged.write_bytes(b"experiences")
    task_store.put_file("experiences/e.parquet", staged, move=True)
    assert not staged.exists() and store.get_bytes("experiences/e.parquet") == b"experiences"
    task_store.get_file("datasets/a/b/data.parquet", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"dataset"


@pytest.mark.parametrize("stored_before", [False, True])
def test_ingest_leaves_its_file_for_the_artifact_which_is_not_read_back(
    store, tmp_path, monkeypatch, stored_before
):
    from types import SimpleNamespace

    from components.artifacts import write_dataset_artifact

    if stored_before:  # equal data stored by an earlier run: the copy is still left
        _ingested(store, "batch_1")
    artifact = SimpleNamespace(path=str(tmp_path / "outputs" / "dataset"), metadata={})
    path = str(COURSE / "batch_1.csv")
    ref = committed(
        store,
        lambda tx: ingest(store, path, "batch_1", CONFIG.schema, tx.run, Path(artifact.path)),
    )
    monkeypatch.setattr(store, "get_file", None)  # as on MinIO: no download wanted
    write_dataset_artifact(artifact, store, ref)
    assert Path(artifact.path).read_bytes() == store.get_bytes(ref.key)
    assert artifact.metadata["store_key"] == ref.key and artifact.metadata["rows"] == ref.rows


@pytest.mark.parametrize("estimator", ["LinearRegression", "Ridge"])
def test_a_categorical_feature_is_one_hot_encoded_and_fitted_chunk_by_chunk(
    store, estimator, monkeypatch
):
    from lifecycle.config import ColumnSpec, SchemaConfig
    from lifecycle.estimators import build_estimator

    schema = SchemaConfig(
        features=(ColumnSpec(name="x"), ColumnSpec(name="kind", kind="categorical")),
        target=ColumnSpec(name="y"),
    )
    config = CONFIG.model_copy(
        update={
            "schema_": schema,
            "model": CONFIG.model.model_copy(
                update={"estimator": f"sklearn.linear_model.{estimator}", "name": "coded"}
            ),
        }
    )
    rng = np.random.default_rng(16)
    parts = []
    for kinds in (["b", "a"], ["a", "c"], ["c", "d", "a"]):  # "d" only in the last dataset
        x = rng.normal(0.0, 1.0, 600)
        kind = rng.choice(kinds, x.size)
        shift = pd.Series(kind).map({"a": 0.0, "b": 2.0, "c": -1.0, "d": 5.0}).to_numpy()
        parts.append(
            pd.DataFrame({"x": x, "kind": kind, "y": 3 * x + shift + rng.normal(0, 0.1, x.size)})
        )
    keys = [
        committed(store, lambda tx, f=frame: write_dataset(store, "coded", f, "t", tx.run)).key
        for frame in parts
    ]
    monkeypatch.setattr(lifecycle.datasets, "READ_BATCH_ROWS", 97)  # many chunks per dataset
    model, _ = committed(store, lambda tx: train(store, config, keys, None, None, tx.run))
    fitted, _ = ModelRegistry(store, "coded").load_artifact(model.version)
    whole = pd.concat(parts, ignore_index=True)
    expected = build_estimator(config.model, schema).fit(whole[["x", "kind"]], whole["y"])
    encoded, reference = fitted.named_steps["encode"], expected.named_steps["encode"]
    assert list(encoded.get_feature_names_out()) == list(reference.get_feature_names_out())
    probe = pd.DataFrame({"x": [0.0, 1.0, -2.0, 0.5, 3.0], "kind": ["a", "b", "c", "d", "e"]})
    np.testing.assert_allclose(fitted.predict(probe), expected.predict(probe), rtol=1e-6)
    np.testing.assert_allclose(fitted.predict(whole), expected.predict(whole), rtol=1e-6)
