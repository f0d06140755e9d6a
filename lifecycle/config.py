"""The one typed configuration of the lifecycle, with the course scenario's defaults.

Validated once at each entry point (CLI, component, pipeline); overridable by a
YAML file and by the pipelines' ``config_json`` parameter.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lifecycle.data_tests import DATA_TESTS_BY_KIND, DataTest
from lifecycle.errors import InvalidInputError

ColumnKind = Literal["numeric", "categorical"]
HistoryTest = Literal["hard", "param", "iqr", "fixed", "worst"]

# Direction of each metric: True when a higher score is worse.
METRIC_HIGHER_IS_WORSE: dict[str, bool] = {"RMSE": True, "MAE": True, "r2": False}
# The model's predictions are profiled and tested as a column of this name (or with "_"
# appended until no schema column has it).
PREDICTION_COLUMN = "prediction"


class KeyedError(ValueError):
    """A value refused by a check that spans several keys, naming the key at fault
    (relative to the section whose check raised it)."""

    def __init__(self, key: str, problem: str):
        self.key = key
        super().__init__(problem)


class _Frozen(BaseModel):
    # Every float of the config is finite: an .inf or .nan threshold would pass here and
    # fail, or never fire, in the first task.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ColumnSpec(_Frozen):
    """One column of the dataset schema."""

    name: str
    kind: ColumnKind = "numeric"
    min: float | None = None
    max: float | None = None

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a column name must not be empty or blank")
        return value

    @field_validator("max")
    @classmethod
    def _max_not_below_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("min")
        if value is not None and low is not None and value < low:
            raise ValueError(f"max {value:g} is below min {low:g}: no value could pass")
        return value


class SchemaConfig(_Frozen):
    """What every dataset of the scenario must look like."""

    features: tuple[ColumnSpec, ...] = (ColumnSpec(name="x"),)
    target: ColumnSpec = ColumnSpec(name="y")
    # Two rows at least: R², recorded for every evaluation, is undefined on one.
    min_rows: int = 2
    extra_columns: Literal["reject", "ignore"] = "reject"

    @field_validator("features")
    @classmethod
    def _some_features(cls, value: tuple[ColumnSpec, ...]) -> tuple[ColumnSpec, ...]:
        if not value:
            raise ValueError("no features: a model needs at least one")
        return value

    @field_validator("min_rows")
    @classmethod
    def _r2_is_defined(cls, value: int) -> int:
        if value < 2:
            raise ValueError(
                f"{value} is too few: at least 2 rows, since R² (recorded for every "
                "evaluation and watched by the drift tests) is undefined on one"
            )
        return value

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

    @property
    def column_names(self) -> list[str]:
        """Features, then the target."""
        return [column.name for column in self.columns]

    @property
    def prediction_column(self) -> str:
        """The predictions' column in the drift suite: ``prediction`` unless a column of the
        schema already has that name (then ``_`` is appended until none has)."""
        names = {column.name for column in self.columns}
        name = PREDICTION_COLUMN
        while name in names:
            name += "_"
        return name


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
    at_least: int = Field(default=1, ge=1)  # checked against the tests that can fire
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

    @field_validator("fixed_thresholds")
    @classmethod
    def _thresholds_of_known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(METRIC_HIGHER_IS_WORSE))
        if unknown:
            raise ValueError(
                f"unknown metrics {unknown} (their threshold would never be used); "
                f"known: {sorted(METRIC_HIGHER_IS_WORSE)}"
            )
        return value

    @model_validator(mode="after")
    def _subset_names_a_test(self) -> DriftConfig:
        if self.policy == "subset" and not self.subset:
            raise KeyedError(
                "subset",
                "empty with policy: subset, so drift could never fire; name the tests "
                "(e.g. [hard_test_RMSE, ks_test_x]) or use policy: any",
            )
        return self


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


# Kubernetes quantities (the forms kfp's set_cpu_*/set_memory_* accept): CPU in cores or
# millicores, memory in bytes with a decimal or binary suffix.
_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(|K|M|G|T|Ki|Mi|Gi|Ti)$")
_MEMORY_FACTORS = {
    "": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}  # fmt: skip


def cpu_cores(quantity: str) -> float:
    """``"500m"`` -> 0.5, ``"2"`` -> 2.0.

    Raises:
        ValueError: not a CPU quantity.
    """
    match = _CPU.match(quantity)
    if not match:
        raise ValueError(f"CPU {quantity!r}: use cores or millicores, e.g. 2, 0.5 or 500m")
    return float(match[1]) / (1000 if match[2] else 1)


def memory_bytes(quantity: str) -> float:
    """``"1Gi"`` -> 1073741824.0, ``"500M"`` -> 5e8.

    Raises:
        ValueError: not a memory quantity.
    """
    match = _MEMORY.match(quantity)
    if not match:
        raise ValueError(f"memory {quantity!r}: use bytes with a suffix, e.g. 512Mi, 2Gi or 500M")
    return float(match[1]) * _MEMORY_FACTORS[match[2]]


class StageResources(_Frozen):
    """What one stage's pod asks for and may use on a cluster, and how long it may run."""

    cpu_request: str = "100m"
    cpu_limit: str = "1"
    memory_request: str = "256Mi"
    memory_limit: str = "1Gi"
    # The pod's activeDeadlineSeconds: a hung stage fails instead of holding its run forever.
    timeout_seconds: int = Field(default=1800, ge=1)

    @field_validator("cpu_request", "cpu_limit")
    @classmethod
    def _cpu(cls, value: str) -> str:
        cpu_cores(value)
        return value

    @field_validator("memory_request", "memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        memory_bytes(value)
        return value

    @model_validator(mode="after")
    def _requests_within_limits(self) -> StageResources:
        if cpu_cores(self.cpu_request) > cpu_cores(self.cpu_limit):
            raise ValueError(f"cpu_request {self.cpu_request} exceeds cpu_limit {self.cpu_limit}")
        if memory_bytes(self.memory_request) > memory_bytes(self.memory_limit):
            raise ValueError(
                f"memory_request {self.memory_request} exceeds memory_limit {self.memory_limit}"
            )
        return self


class TaskRetry(_Frozen):
    """Every task's retry policy on a cluster: ``num_retries`` more attempts, the first
    ``backoff_seconds`` later, each next one ``backoff_factor`` times later, at most
    ``backoff_max_seconds``. Safe for every stage: a task's writes are keyed by its run and
    task, so a second attempt writes nothing twice (lifecycle/runs.py). 0 turns retries off."""

    num_retries: int = Field(default=2, ge=0, le=10)
    backoff_seconds: int = Field(default=15, ge=1)
    backoff_factor: float = Field(default=3.0, ge=1, allow_inf_nan=False)
    backoff_max_seconds: int = Field(default=120, ge=1)


class StageResourcesOverride(_Frozen):
    """One stage's departures from ``cluster.defaults``; unset fields keep the default."""

    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    timeout_seconds: int | None = Field(default=None, ge=1)


def _default_stage_overrides() -> dict[str, StageResourcesOverride]:
    # The drift suite holds a batch and the reference profile in memory (bench-drift: 258 MB
    # at 1M rows, 661 MB at 10M); training holds every batch seen since the last training.
    return {
        "detect_drift": StageResourcesOverride(memory_limit="2Gi"),
        "train": StageResourcesOverride(memory_limit="2Gi"),
        "select_data": StageResourcesOverride(memory_limit="2Gi"),
    }


class ClusterConfig(_Frozen):
    """How the stages run on a Kubeflow cluster: compiled into the pipeline's spec.

    Read when a pipeline is compiled (``make compile``, and ``make upload``, ``submit`` and
    ``schedule`` with ``CONFIG=``), not when a run starts: the platform spec is fixed at
    upload. The local runner ignores it.
    """

    defaults: StageResources = Field(default_factory=StageResources)
    retry: TaskRetry = Field(default_factory=TaskRetry)
    # A config file's `stages:` replaces this whole mapping (pipelines/scenarios/course.yaml
    # spells the defaults out).
    stages: dict[str, StageResourcesOverride] = Field(default_factory=_default_stage_overrides)

    @field_validator("stages")
    @classmethod
    def _known_stages(
        cls, value: dict[str, StageResourcesOverride]
    ) -> dict[str, StageResourcesOverride]:
        from lifecycle.images import STAGES

        unknown = sorted(set(value) - set(STAGES))
        if unknown:
            raise ValueError(f"unknown stages {unknown}; known: {list(STAGES)}")
        return value

    @model_validator(mode="after")
    def _every_stage_is_consistent(self) -> ClusterConfig:
        for stage in self.stages:
            self.for_stage(stage)
        return self

    def for_stage(self, stage: str) -> StageResources:
        """The defaults with the stage's overrides applied.

        Raises:
            ValueError: the merged requests exceed the merged limits.
        """
        override = self.stages.get(stage)
        if override is None:
            return self.defaults
        changes = override.model_dump(exclude_none=True)
        try:
            return StageResources(**{**self.defaults.model_dump(), **changes})
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise ValueError(f"stage {stage}: {problem}") from None


class LifecycleConfig(_Frozen):
    """Everything a run of the lifecycle needs to know besides its data and store."""

    schema_: SchemaConfig = Field(default_factory=SchemaConfig, alias="schema")
    model: ModelConfig = Field(default_factory=ModelConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    retrain: RetrainConfig = Field(default_factory=RetrainConfig)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @property
    def schema(self) -> SchemaConfig:  # type: ignore[override]
        return self.schema_

    def drift_flags(self) -> dict[str, bool]:
        """Every flag a drift check of this config computes, by name, and whether it can
        fire at all (a ``fixed`` test of a metric without a threshold cannot).

        The names are the detect-drift stage's: ``<test>_test_<metric>`` for the history
        tests, ``<test>_test_<column>`` for the data tests (features, target, and the
        predictions when ``prediction_flags``), and ``dataset_drift`` when ``dataset_flag``.
        """
        drift = self.drift
        flags: dict[str, bool] = {}
        for test in drift.history_tests:
            for metric in drift.metrics:
                fires = test != "fixed" or metric in drift.fixed_thresholds
                flags[f"{test}_test_{metric}"] = fires
        columns = [(column.name, column.kind) for column in self.schema.columns]
        if drift.prediction_flags:
            columns.append((self.schema.prediction_column, "numeric"))
        decision = {"numeric": drift.numeric_decision, "categorical": drift.categorical_decision}
        for name, kind in columns:
            run = {*drift.suite_tests, decision[kind]} & set(DATA_TESTS_BY_KIND[kind])
            for test in drift.data_tests:
                if test in run:
                    flags[f"{test}_test_{name}"] = True
        if drift.dataset_flag:
            flags["dataset_drift"] = True
        return flags

    @model_validator(mode="after")
    def _drift_can_fire(self) -> LifecycleConfig:
        drift = self.drift
        flags = self.drift_flags()
        if drift.policy == "subset":
            unknown = [name for name in drift.subset if name not in flags]
            if unknown:
                raise KeyedError(
                    "drift.subset",
                    f"no test named {', '.join(map(repr, unknown))}; the tests of this "
                    f"config: {', '.join(flags) or 'none'}",
                )
        firing = sum(flags.values())
        if drift.policy == "at_least" and drift.at_least > firing:
            raise KeyedError(
                "drift.at_least",
                f"{drift.at_least} is above the {firing} enabled tests that can fire, so "
                "drift could never fire",
            )
        return self

    def to_json(self) -> str:
        """Serialise for the pipelines' ``config_json`` parameter."""
        return self.model_dump_json(by_alias=True)


# The course scenario's config as the pipelines' default ``config_json``.
DEFAULT_CONFIG_JSON = LifecycleConfig().to_json()


def _problem(error: Any) -> str:
    """``key: what is wrong`` of one pydantic error (a check across keys names its key)."""
    cause = (error.get("ctx") or {}).get("error")
    where = [str(part) for part in error["loc"]]
    if isinstance(cause, KeyedError):
        return f"{'.'.join([*where, cause.key])}: {cause}"
    return f"{'.'.join(where) or '(root)'}: {error['msg'].removeprefix('Value error, ')}"


def _parse(data: Any, source: str) -> LifecycleConfig:
    try:
        return LifecycleConfig.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
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


# The typed parameters of the components and pipelines, beside ``config_json``: what users set
# most often, each standing for one key of the config.
PARAMETER_KEYS: dict[str, tuple[str, str]] = {
    "model_name": ("model", "name"),
    "promotion_metric": ("promotion", "metric"),
    "promotion_tolerance": ("promotion", "tolerance"),
    "drift_p_value": ("drift", "p_value"),
    "drift_param_sigmas": ("drift", "param_sigmas"),
}


def is_given(value: Any) -> bool:
    """Whether a typed parameter was given: not None, not an empty string (0 is a value)."""
    return value is not None and value != ""


def config_with_parameters(config_json: str, **parameters: Any) -> LifecycleConfig:
    """The config of ``config_json``, with each typed parameter that was given in place of its
    key (:data:`PARAMETER_KEYS`): a parameter wins over ``config_json``, which wins over the
    defaults. A parameter left empty (``""`` or None) leaves its key as the config has it.

    Args:
        config_json: the full config as JSON (empty: the defaults).
        **parameters: typed parameters by name, e.g. ``model_name="diabetes"``.

    Returns:
        The config, validated whole.

    Raises:
        InvalidInputError: ``config_json`` is invalid, or a given parameter is refused (naming
            the parameter, its value and the config key's check).
        ValueError: a parameter that is not one of :data:`PARAMETER_KEYS` (a programming error).
    """
    config = config_from_json(config_json)
    given = {name: value for name, value in parameters.items() if is_given(value)}
    unknown = sorted(set(parameters) - set(PARAMETER_KEYS))
    if unknown:
        raise ValueError(f"no config key for parameters {unknown}; known: {list(PARAMETER_KEYS)}")
    if not given:
        return config
    data = config.model_dump(by_alias=True)
    for name, value in given.items():
        section, key = PARAMETER_KEYS[name]
        data[section][key] = value
    try:
        return LifecycleConfig.model_validate(data)
    except ValidationError as exc:
        shown = ", ".join(f"{name}={value!r}" for name, value in given.items())
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise InvalidInputError(f"invalid parameter {shown}: {problems}") from None


def load_config(path: str | Path | None = None) -> LifecycleConfig:
    """Load a YAML config file over the defaults (no file: the course scenario's config).

    A file's estimator is checked too (:func:`lifecycle.estimators.check_estimator`): an
    abstract class or a hyperparameter the estimator refuses ends the command here, before
    any task runs. The built-in default needs no check (a test holds it valid), so commands
    without ``--config`` do not import scikit-learn for it.

    Raises:
        InvalidInputError: unreadable file, bad YAML, unknown key, wrong type or refused
            value, naming the file and the key.
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
    config = _parse(data, f"file {path}")
    from lifecycle.estimators import EstimatorConfigError, check_estimator

    try:
        check_estimator(config.model)
    except EstimatorConfigError as exc:
        raise InvalidInputError(f"invalid config file {path}: {exc.key}: {exc.problem}") from None
    return config
