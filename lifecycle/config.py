"""The one typed configuration of the lifecycle, with the course scenario's defaults.

Validated once at each entry point (CLI, component, pipeline); overridable by a
YAML file and by the pipelines' ``config_json`` parameter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lifecycle.errors import InvalidInputError

ColumnKind = Literal["numeric", "categorical"]
HistoryTest = Literal["hard", "param", "iqr", "fixed", "worst"]
DataTest = Literal["ks", "chi2", "psi", "wasserstein", "jensenshannon"]

# Direction of each metric: True when a higher score is worse.
METRIC_HIGHER_IS_WORSE: dict[str, bool] = {"RMSE": True, "MAE": True, "r2": False}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnSpec(_Frozen):
    """One column of the dataset schema."""

    name: str
    kind: ColumnKind = "numeric"
    min: float | None = None
    max: float | None = None


class SchemaConfig(_Frozen):
    """What every dataset of the scenario must look like."""

    features: tuple[ColumnSpec, ...] = (ColumnSpec(name="x"),)
    target: ColumnSpec = ColumnSpec(name="y")
    # Two rows at least: R² is undefined on one.
    min_rows: int = Field(default=2, ge=1)
    extra_columns: Literal["reject", "ignore"] = "reject"

    @model_validator(mode="after")
    def _unique_names(self) -> SchemaConfig:
        names = [column.name for column in self.columns]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate schema columns: {', '.join(duplicates)}")
        if self.target.kind != "numeric":
            raise ValueError("the target must be numeric (the models are regressors)")
        return self

    @property
    def columns(self) -> tuple[ColumnSpec, ...]:
        return (*self.features, self.target)

    @property
    def feature_names(self) -> list[str]:
        return [column.name for column in self.features]


class ModelConfig(_Frozen):
    """The estimator to fit; any scikit-learn regressor, by dotted path."""

    name: str = "course"
    estimator: str = "sklearn.linear_model.LinearRegression"
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("estimator")
    @classmethod
    def _scikit_learn_only(cls, value: str) -> str:
        # Config must not be able to import arbitrary code.
        if not value.startswith("sklearn.") or value.count(".") < 2:
            raise ValueError(
                "must be a scikit-learn estimator path, e.g. sklearn.linear_model.Ridge"
            )
        return value


class DriftConfig(_Frozen):
    """Which drift tests run, their thresholds, and when they signal a retrain."""

    history_tests: tuple[HistoryTest, ...] = ("hard", "param", "iqr")
    data_tests: tuple[DataTest, ...] = ("ks", "chi2")
    metrics: tuple[str, ...] = ("RMSE", "r2")
    history_scope: Literal["model", "all"] = "model"
    param_sigmas: float = Field(default=2.0, gt=0)
    iqr_factor: float = Field(default=1.5, ge=0)
    fixed_thresholds: dict[str, float] = Field(default_factory=lambda: {"RMSE": 2.0, "r2": 0.8})
    p_value: float = Field(default=0.05, gt=0, lt=1)
    policy: Literal["any", "subset", "at_least"] = "any"
    subset: tuple[str, ...] = ()
    at_least: int = Field(default=1, ge=1)
    # The drift suite (issue 6): statistics computed for every column of features, target and
    # predictions and logged; only the tests in data_tests become flags (<test>_test_<column>).
    suite_tests: tuple[DataTest, ...] = ("ks", "psi", "wasserstein", "chi2", "jensenshannon")
    psi_threshold: float = Field(default=0.1, gt=0)
    psi_bins: int = Field(default=10, ge=2)
    wasserstein_threshold: float = Field(default=0.1, gt=0)  # distance / reference std
    jensenshannon_threshold: float = Field(default=0.1, gt=0, le=1)
    numeric_decision: Literal["ks", "psi", "wasserstein"] = "ks"
    categorical_decision: Literal["chi2", "jensenshannon", "psi"] = "chi2"
    drift_share: float = Field(default=0.5, ge=0, le=1)  # dataset drift: share of columns above
    # Multiple-testing control of the data tests' p-values (KS, chi-squared) across columns and
    # tests: none (each at p_value, the course's way), bh (Benjamini-Hochberg) or bonferroni.
    correction: Literal["none", "bh", "bonferroni"] = "none"
    # Effect-size floors, off (0) by default: a KS test fires only when its statistic D, a
    # chi-squared test only when its Cramér's V, is at least this (as well as p < threshold).
    min_ks_statistic: float = Field(default=0.0, ge=0, le=1)
    min_cramers_v: float = Field(default=0.0, ge=0, le=1)
    prediction_flags: bool = False  # the predictions' tests become flags too
    dataset_flag: bool = False  # the dataset-level decision becomes the flag dataset_drift

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [metric for metric in value if metric not in METRIC_HIGHER_IS_WORSE]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; known: {sorted(METRIC_HIGHER_IS_WORSE)}")
        return value


class RetrainConfig(_Frozen):
    """Which data the challenger is trained on."""

    policy: Literal["since_training", "last_n"] = "since_training"
    last_n: int = Field(default=3, ge=1)


class PromotionConfig(_Frozen):
    """When a challenger replaces the champion."""

    metric: str = "RMSE"
    # The challenger may be worse than the champion by at most this fraction.
    tolerance: float = Field(default=0.0, ge=0)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRIC_HIGHER_IS_WORSE:
            raise ValueError(f"unknown metric {value!r}; known: {sorted(METRIC_HIGHER_IS_WORSE)}")
        return value


class LifecycleConfig(_Frozen):
    """Everything a run of the lifecycle needs to know besides its data and store."""

    schema_: SchemaConfig = Field(default_factory=SchemaConfig, alias="schema")
    model: ModelConfig = Field(default_factory=ModelConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    retrain: RetrainConfig = Field(default_factory=RetrainConfig)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @property
    def schema(self) -> SchemaConfig:  # type: ignore[override]
        return self.schema_

    def to_json(self) -> str:
        """Serialise for the pipelines' ``config_json`` parameter."""
        return self.model_dump_json(by_alias=True)


# The course scenario's config as the pipelines' default ``config_json``.
DEFAULT_CONFIG_JSON = LifecycleConfig().to_json()


def _parse(data: Any, source: str) -> LifecycleConfig:
    try:
        return LifecycleConfig.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidInputError(f"invalid config {source}: {problems}") from None


def config_from_json(text: str) -> LifecycleConfig:
    """Parse the ``config_json`` pipeline parameter (empty means the defaults)."""
    if not text:
        return LifecycleConfig()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"invalid config_json: {exc}") from None
    return _parse(data, "config_json")


def load_config(path: str | Path | None = None) -> LifecycleConfig:
    """Load a YAML config file over the defaults (no file: the course scenario's config).

    Raises:
        InvalidInputError: unreadable file, bad YAML, unknown key or wrong type, naming the file.
    """
    if path is None:
        return LifecycleConfig()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "unparsable"
        raise InvalidInputError(f"config file {path} is not valid YAML: {problem}{where}") from None
    if data is not None and not isinstance(data, dict):
        raise InvalidInputError(f"config file {path} must hold a mapping at top level")
    return _parse(data, f"file {path}")
