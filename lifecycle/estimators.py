"""The configured scikit-learn estimator: found, checked and built in one place.

:func:`check_estimator` runs when a config file is loaded, so an abstract class, a class
that is not a regressor or a hyperparameter the estimator refuses ends the command before
any task runs; :func:`build_estimator` builds what the train stage fits and what the model
file's trusted types are derived from (:mod:`lifecycle.model_files`). scikit-learn is
imported only when one of them is called.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from lifecycle.config import ModelConfig, SchemaConfig
from lifecycle.errors import InvalidInputError


class EstimatorConfigError(InvalidInputError):
    """The ``model:`` section names an estimator or hyperparameter that cannot be fitted."""

    def __init__(self, key: str, problem: str):
        self.key = key
        self.problem = problem
        super().__init__(f"config {key}: {problem}")


def estimator_class(path: str) -> type:
    """The class a dotted ``model.estimator`` path names, once it is a concrete regressor.

    Args:
        path: e.g. ``sklearn.linear_model.Ridge`` (the config admits only ``sklearn.*``).

    Returns:
        The class.

    Raises:
        EstimatorConfigError: no such class, an abstract class, or not a regressor (naming
            ``model.estimator``).
    """
    from sklearn.base import BaseEstimator, RegressorMixin

    module_name, _, class_name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise EstimatorConfigError("model.estimator", f"no estimator {path!r}") from None
    if not (
        isinstance(found, type)
        and issubclass(found, RegressorMixin)
        and issubclass(found, BaseEstimator)
    ):
        raise EstimatorConfigError("model.estimator", f"{path!r} is not a regressor")
    if inspect.isabstract(found):
        missing = ", ".join(sorted(getattr(found, "__abstractmethods__", ())))
        raise EstimatorConfigError(
            "model.estimator",
            f"{path!r} is an abstract class (it lacks {missing}); "
            "name a concrete regressor, e.g. sklearn.linear_model.Ridge",
        )
    return found


def instantiate(model: ModelConfig) -> Any:
    """``model.estimator`` with ``model.params``, each hyperparameter checked by the estimator.

    The class's constructor refuses unknown names; ``set_params`` and scikit-learn's own
    parameter constraints (``_validate_params``, where the estimator declares them) refuse
    values of the wrong type or range, as ``fit`` would, but before any task runs.

    Args:
        model: the ``model:`` section of the config.

    Returns:
        An unfitted estimator.

    Raises:
        EstimatorConfigError: the class is unusable (see :func:`estimator_class`) or a
            hyperparameter is refused, naming ``model.params``.
    """
    cls = estimator_class(model.estimator)
    known = cls._get_param_names()
    unknown = sorted(set(model.params) - set(known))
    if unknown:
        raise EstimatorConfigError(
            "model.params",
            f"{model.estimator} has no hyperparameter {', '.join(map(repr, unknown))}; "
            f"its hyperparameters: {', '.join(known) or 'none'}",
        )
    try:
        estimator = cls(**model.params)
        # What clone() does to every estimator (a grid search, a refit): it must hold.
        estimator.set_params(**estimator.get_params(deep=False))
        validate = getattr(estimator, "_validate_params", None)
        if callable(validate):
            validate()
    except (TypeError, ValueError) as exc:  # sklearn's InvalidParameterError is both
        raise EstimatorConfigError("model.params", " ".join(str(exc).split())) from None
    return estimator


def check_estimator(model: ModelConfig) -> None:
    """Refuse a ``model:`` section the train stage could not fit (see :func:`instantiate`).

    Raises:
        EstimatorConfigError: naming ``model.estimator`` or ``model.params``.
    """
    instantiate(model)


def build_estimator(model: ModelConfig, schema: SchemaConfig) -> Any:
    """The estimator to fit: ``model.estimator`` with its hyperparameters, behind a one-hot
    encoding of the categorical features when the schema has any.

    Args:
        model: the ``model:`` section of the config.
        schema: which features are categorical.

    Returns:
        An unfitted estimator or ``Pipeline([("encode", …), ("model", …)])``.

    Raises:
        InvalidInputError: unknown or abstract estimator, not a regressor, or a bad
            hyperparameter.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    estimator = instantiate(model)
    categorical = [column.name for column in schema.features if column.kind == "categorical"]
    if not categorical:
        return estimator
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore"), categorical)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    return Pipeline([("encode", encode), ("model", estimator)])
