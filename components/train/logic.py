"""Train stage: fit the configured scikit-learn estimator and register it as a new version."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from components.detect_drift.suite.reference import frame_profile_bytes
from components.evaluate.logic import compute_metrics
from lifecycle import keys
from lifecycle.config import LifecycleConfig, SchemaConfig
from lifecycle.datasets import dataset_ref, read_dataset
from lifecycle.errors import InvalidInputError
from lifecycle.estimators import build_estimator
from lifecycle.registry import ModelRegistry, ModelVersion
from lifecycle.runs import RunContext
from lifecycle.store import Store
from lifecycle.tracking import log_training


def fit(frame: pd.DataFrame, config: LifecycleConfig) -> Any:
    """Fit a fresh estimator on ``frame``'s features and target."""
    estimator = build_estimator(config.model, config.schema)
    try:
        estimator.fit(frame[config.schema.feature_names], frame[config.schema.target.name])
    except ValueError as exc:
        raise InvalidInputError(f"cannot fit {config.model.estimator}: {exc}") from None
    return estimator


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
    frame = pd.concat(
        [read_dataset(store, key, columns) for key in training_keys], ignore_index=True
    )
    estimator = fit(frame, config)
    test_metrics: dict[str, float] = {}
    if test_key:
        test = read_dataset(store, test_key, columns)
        predictions = estimator.predict(test[config.schema.feature_names])
        test_metrics = compute_metrics(
            test[config.schema.target.name].to_numpy(), predictions, f"test dataset {test_key}"
        )
    refs = [dataset_ref(store, key) for key in training_keys]
    description = describe(estimator, config.schema)
    model = ModelRegistry(store, config.model.name, run.run_id, config.model).register(
        estimator,
        run,
        # The drift suite's reference profile, so monitoring never re-reads the training data.
        attachments={keys.PROFILE_FILE: frame_profile_bytes(config, frame, estimator)},
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
