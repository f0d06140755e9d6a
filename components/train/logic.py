"""Train stage: fit the configured scikit-learn estimator and register it as a new version."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.pipeline import Pipeline

from components.detect_drift.suite.reference import write_files_profile
from components.evaluate.logic import score_parquet
from components.train.least_squares import LeastSquaresInChunks, fits_in_chunks
from lifecycle import keys
from lifecycle.config import LifecycleConfig, SchemaConfig
from lifecycle.datasets import (
    ParquetSource,
    cast_to_schema,
    dataset_file,
    iter_parquet_batches,
    open_parquet,
    require_columns,
)
from lifecycle.errors import InvalidInputError
from lifecycle.estimators import build_estimator
from lifecycle.registry import ModelRegistry, ModelVersion
from lifecycle.runs import RunContext
from lifecycle.store import Store
from lifecycle.tracking import log_training


def fit(frame: pd.DataFrame, config: LifecycleConfig) -> Any:
    """Fit a fresh estimator on ``frame``'s features and target.

    Raises:
        InvalidInputError: the estimator refuses the data (a missing value, …).
    """
    features, target = config.schema.feature_names, config.schema.target.name
    estimator = build_estimator(config.model, config.schema)
    try:
        if fits_in_chunks(estimator):
            solver = LeastSquaresInChunks(features, estimator.fit_intercept)
            solver.add(frame[features].to_numpy(dtype=np.float64), frame[target].to_numpy())
            return solver.fitted(estimator)
        estimator.fit(frame[features], frame[target])
    except ValueError as exc:
        raise InvalidInputError(f"cannot fit {config.model.estimator}: {exc}") from None
    return estimator


def _feature_matrix(chunk: pa.RecordBatch, features: list[str]) -> np.ndarray:
    matrix = np.empty((chunk.num_rows, len(features)), dtype=np.float64)
    for index, name in enumerate(features):
        matrix[:, index] = chunk.column(name).to_numpy(zero_copy_only=False)
    return matrix


def fit_files(
    files: list[ParquetSource], config: LifecycleConfig, sources: list[str] | None = None
) -> Any:
    """Fit a fresh estimator on the rows of these Parquet files (a training set's datasets),
    in order; ``sources`` name them in errors (default: their paths).

    A plain linear regression or ridge, alone or behind the one-hot encoding of categorical
    features, is fitted chunk by chunk (:mod:`.least_squares`): memory holds a chunk, whatever
    the training set's size. Any other estimator needs all its data at once: the files are
    read into one frame, column by column, without a second copy. Each file's values take the
    first file's types (an integer column joins a float one).

    Raises:
        InvalidInputError: a file's values do not fit the first's types (naming it), or the
            estimator refuses the data (a missing value, …).
    """
    features, target = config.schema.feature_names, config.schema.target.name
    columns = [*features, target]
    names = sources or [str(file) for file in files]
    schema = open_parquet(files[0]).schema_arrow.remove_metadata()
    schema = pa.schema([schema.field(column) for column in columns])
    estimator = build_estimator(config.model, config.schema)
    encode, model = _encoder_and_model(estimator)
    if not fits_in_chunks(model):
        tables = [
            cast_to_schema(open_parquet(file).read(columns=columns), schema, name)
            for file, name in zip(files, names, strict=True)
        ]
        table = pa.concat_tables(tables)
        del tables
        return fit(table.to_pandas(split_blocks=True, self_destruct=True), config)
    try:
        if encode is not None:
            categorical = [c.name for c in config.schema.features if c.kind == "categorical"]
            _fit_encoder(encode, categorical, files, names, schema)
        inputs = list(encode.get_feature_names_out()) if encode is not None else features
        solver = LeastSquaresInChunks(inputs, model.fit_intercept)
        for file, name in zip(files, names, strict=True):
            for chunk in iter_parquet_batches(file, name, columns):
                chunk = cast_to_schema(chunk, schema, name)
                actual = chunk.column(target).to_numpy(zero_copy_only=False)
                if encode is None:
                    solver.add(_feature_matrix(chunk, features), actual)
                else:
                    solver.add(_dense(encode.transform(chunk.select(features).to_pandas())), actual)
        # Inside the pipeline the model sees the encoder's array: no feature names, as fit().
        solver.fitted(model, named_features=encode is None)
        return estimator
    except ValueError as exc:
        raise InvalidInputError(f"cannot fit {config.model.estimator}: {exc}") from None


def _encoder_and_model(estimator: Any) -> tuple[Any | None, Any]:
    """The one-hot encoding step of :func:`build_estimator`'s pipeline (None without one)
    and the model it feeds."""
    if isinstance(estimator, Pipeline):
        return estimator.named_steps["encode"], estimator.named_steps["model"]
    return None, estimator


def _fit_encoder(
    encode: Any,
    categorical: list[str],
    files: list[ParquetSource],
    sources: list[str],
    schema: pa.Schema,
) -> None:
    """Fit the one-hot encoding as on the whole training set, from each categorical
    column's distinct values (one column of one file in memory at a time): a frame holding
    every category once gives the encoder the same sorted categories as all the rows."""
    distinct: dict[str, list[pa.Array]] = {name: [] for name in categorical}
    for file, source in zip(files, sources, strict=True):
        parquet = open_parquet(file)
        for name in categorical:
            typed = pa.schema([schema.field(name)])
            column = cast_to_schema(parquet.read(columns=[name]), typed, source).column(0)
            distinct[name].append(pc.unique(column.combine_chunks()))
    uniques = {name: pc.unique(pa.concat_arrays(parts)) for name, parts in distinct.items()}
    rows = max(len(values) for values in uniques.values())
    sample = {
        # The other features hold ones: only the categories matter to the encoder.
        name: _repeated(uniques[name], rows)
        if name in uniques
        else pa.array(np.ones(rows)).cast(schema.field(name).type)
        for name in schema.names[:-1]  # the features, without the target
    }
    encode.fit(pa.table(sample).to_pandas())


def _repeated(values: pa.Array, rows: int) -> pa.Array:
    return values.take(pa.array(np.arange(rows) % len(values)))


def _dense(matrix: Any) -> np.ndarray:
    return matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)


def describe(estimator: Any, schema: SchemaConfig) -> str:
    """Explain a fitted model as the course does: ``y = a*x + b``, ``a = …``, ``b = …``.

    Linear models print their equation; any other estimator prints its parameters.
    """
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if not hasattr(final, "coef_"):
        return f"{type(final).__name__}({final.get_params()})"
    names = (
        list(estimator[:-1].get_feature_names_out())
        if isinstance(estimator, Pipeline)
        else schema.feature_names
    )
    target = schema.target.name
    coefficients = [float(value) for value in final.coef_]
    if len(names) == 1:
        lines = [f"{target} = a*{names[0]} + b", f"a = {coefficients[0]}"]
    else:
        terms = " + ".join(f"a{i}*{name}" for i, name in enumerate(names, start=1))
        lines = [f"{target} = {terms} + b"]
        lines += [
            f"a{i} = {value}  ({name})"
            for i, (name, value) in enumerate(zip(names, coefficients, strict=True), 1)
        ]
    lines.append(f"b = {float(final.intercept_)}")
    return "\n".join(lines)


def hyperparameters(estimator: Any) -> dict[str, Any]:
    """The estimator's parameters, JSON-safe."""
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    return {
        name: value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        for name, value in final.get_params(deep=False).items()
    }


def train(
    store: Store,
    config: LifecycleConfig,
    training_keys: list[str],
    test_key: str | None,
    parent_version: str | None,
    run: RunContext,
) -> tuple[ModelVersion, str]:
    """Fit on the datasets at ``training_keys`` and register the next model version.

    Args:
        store: where datasets are read and the model is registered.
        config: schema and model config.
        training_keys: store keys of the training datasets, concatenated in order.
        test_key: a dataset to score the new model on for its metadata.
        parent_version: the version this one retrains, if any.
        run: the run and task registering the version (it counts once the run commits).

    Returns:
        The new version's metadata and the model's printable description.
    """
    if not training_keys:
        raise InvalidInputError("train: no training datasets given")
    columns = config.schema.column_names
    refs = [require_columns(store, key, columns) for key in training_keys]
    if test_key:
        require_columns(store, test_key, columns)
    with ExitStack() as stack:
        # Each dataset's file (the store's own, or a download) is read where it is, in parts.
        files = [stack.enter_context(dataset_file(store, key)) for key in training_keys]
        estimator = fit_files(files, config, [f"dataset {key!r}" for key in training_keys])
        test_metrics: dict[str, float] = {}
        if test_key:
            test_file = stack.enter_context(dataset_file(store, test_key))
            test_metrics = score_parquet(
                estimator,
                config,
                test_file,
                f"test dataset {test_key}",
                source=f"dataset {test_key!r}",
            )
        # The drift suite's reference profile, so monitoring never re-reads the training data;
        # written to a scratch file a column at a time, streamed to the store with the version.
        scratch = Path(tempfile.mkdtemp(prefix="lifecycle-profile-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        profile = scratch / keys.PROFILE_FILE
        write_files_profile(profile, config, files, estimator)
        description = describe(estimator, config.schema)
        model = ModelRegistry(store, config.model.name, run.run_id, config.model).register(
            estimator,
            run,
            attachments={keys.PROFILE_FILE: profile},
            estimator=config.model.estimator,
            params=hyperparameters(estimator),
            features=config.schema.feature_names,
            target=config.schema.target.name,
            training_datasets=[{"key": ref.key, "sha256": ref.sha256} for ref in refs],
            parent_version=parent_version or None,
            test_metrics=test_metrics,
            test_dataset=test_key,
            description=description,
        )
    log_training(model)  # to MLflow when MLFLOW_TRACKING_URI is set; never fails the stage
    return model, description
