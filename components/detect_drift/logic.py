"""Detect-drift stage: decide from the evaluation history and the data whether to retrain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from components.detect_drift.course_tests import (
    fixed_threshold_test,
    hard_bound,
    hard_test,
    iqr_bound,
    iqr_test,
    parametric_bound,
    parametric_test,
    worst_ever_bound,
    worst_ever_test,
)
from lifecycle.config import METRIC_HIGHER_IS_WORSE, DriftConfig, LifecycleConfig
from lifecycle.errors import InvalidInputError
from lifecycle.history import decision_log, drift_log, evaluation_log
from lifecycle.objects import now_stamp
from lifecycle.runs import RunContext
from lifecycle.store import Store


def history_flags(
    previous: dict[str, list[float]], last: dict[str, float], config: DriftConfig
) -> dict[str, bool]:
    """Every enabled history test for every watched metric, named ``<test>_test_<metric>`` as
    in the course's drift log (hard_test_RMSE, param_test_r2, …)."""
    flags: dict[str, bool] = {}
    for test in config.history_tests:
        for metric in config.metrics:
            if metric not in last:
                continue
            higher = METRIC_HIGHER_IS_WORSE[metric]
            before, value = previous.get(metric, []), last[metric]
            if test == "hard":
                fired = hard_test(before, value, higher)
            elif test == "param":
                fired = parametric_test(before, value, higher, config.param_sigmas)
            elif test == "iqr":
                fired = iqr_test(before, value, higher, config.iqr_factor)
            elif test == "worst":
                fired = worst_ever_test(before, value, higher)
            else:
                threshold = config.fixed_thresholds.get(metric)
                fired = threshold is not None and fixed_threshold_test(value, threshold, higher)
            flags[f"{test}_test_{metric}"] = fired
    return flags


def history_bounds(previous: list[float], metric: str, config: DriftConfig) -> dict[str, float]:
    """The bound of each enabled history test for ``metric``: the value beyond which it fires
    (a test with no bound, e.g. without previous values, is left out).

    Args:
        previous: the metric's previous values, oldest first.
        metric: the metric (its worse side from ``METRIC_HIGHER_IS_WORSE``).
        config: which tests, and their parameters.
    """
    higher = METRIC_HIGHER_IS_WORSE[metric]
    bounds = {
        "hard": hard_bound(previous),
        "param": parametric_bound(previous, higher, config.param_sigmas),
        "iqr": iqr_bound(previous, higher, config.iqr_factor),
        "worst": worst_ever_bound(previous, higher),
        "fixed": config.fixed_thresholds.get(metric),
    }
    return {
        test: float(bound)
        for test, bound in bounds.items()
        if test in config.history_tests and bound is not None
    }


def profile_tests(
    store: Store, config: LifecycleConfig, version: str, batch_key: str, own_run: str | None = None
) -> tuple[dict[str, bool], dict[str, dict[str, float]], dict[str, dict[str, list]]]:
    """The drift suite: the batch (features, target, the model's predictions) against the
    version's stored reference profile, one column at a time; the training data is not read.

    Returns:
        (flags of the tests in ``data_tests``, named ``<test>_test_<column>``; every test's
        statistic, p-value and threshold; plot data of the drifted columns).

    Raises:
        InvalidInputError: a column has no values to test, or an infinite value, or the
            stored profile is not one (the message names the batch and the column).
    """
    from components.detect_drift.suite import ParquetColumns, SuiteSettings, WithColumns, run_suite
    from components.detect_drift.suite.reference import (
        load_reference_profile,
        prediction_column,
    )
    from components.evaluate.logic import load_estimator, predict_parquet
    from lifecycle.datasets import dataset_file

    drift = config.drift
    settings = SuiteSettings.from_config(drift)
    estimator = load_estimator(store, config, version, own_run)

    # The batch's file (the store's own, or a download streamed to a temporary file) is read
    # one column at a time.
    with dataset_file(store, batch_key) as batch_file:

        def predictions():
            # The features read a chunk at a time into one array: the column the suite tests.
            features = config.schema.feature_names
            return predict_parquet(estimator, batch_file, features, source=f"dataset {batch_key!r}")

        current = WithColumns(ParquetColumns(batch_file), {prediction_column(config): predictions})
        try:
            profile = load_reference_profile(store, config, version, own_run)
            result = run_suite(profile, current, settings)
        except ValueError as exc:
            raise InvalidInputError(f"drift suite on {batch_key}: {exc}") from None
    flags: dict[str, bool] = {}
    statistics: dict[str, dict[str, float]] = {}
    for column in result.columns:
        for test, outcome in column.tests.items():
            name = f"{test}_test_{column.name}"
            statistics[name] = {
                "statistic": outcome.statistic,
                # The threshold the test was decided at (after the multiple-testing correction).
                "threshold": result.thresholds[test],
            }
            if outcome.p_value is not None:
                statistics[name]["p_value"] = outcome.p_value
            if test in drift.data_tests and (column.role != "prediction" or drift.prediction_flags):
                flags[name] = outcome.drifted
    statistics["dataset_drift"] = {
        "share": result.drifted_share,
        "threshold": result.drift_share,
        "drifted": float(result.dataset_drift),
    }
    if drift.dataset_flag:
        flags["dataset_drift"] = result.dataset_drift
    distributions = {c.name: c.distribution for c in result.columns if c.distribution}
    return flags, statistics, distributions


def retraining_signal(flags: dict[str, bool], config: DriftConfig) -> bool:
    """Whether the flags call for a retrain under the configured policy.

    Raises:
        InvalidInputError: ``policy: subset`` names a flag this check does not compute (a typo
            would otherwise never fire).
    """
    if config.policy == "subset":
        unknown = sorted(set(config.subset) - set(flags))
        if unknown:
            raise InvalidInputError(
                f"config drift.subset: no test named {', '.join(unknown)}; "
                f"this check's tests: {', '.join(flags)}"
            )
        return any(flags[name] for name in config.subset)
    if config.policy == "at_least":
        return sum(flags.values()) >= config.at_least
    return any(flags.values())


@dataclass(frozen=True)
class DriftDecision:
    """The outcome of one drift check."""

    model_version: str
    batch: str
    time_stamp: str
    flags: dict[str, bool]
    drift: bool
    statistics: dict[str, dict[str, float]] = field(default_factory=dict)
    previous_runs: int = 0
    # Plot data of the drifted columns (reference vs current), for the HTML report.
    distributions: dict[str, dict[str, list]] = field(default_factory=dict)
    # The time stamp of the evaluation tested (its records in the evaluation history).
    evaluation_time: str = ""


def split_history(
    records: list[dict], version: str, last_time: str, config: DriftConfig
) -> tuple[dict[str, list[float]], dict[str, float], int]:
    """Previous values per metric (in scope) and the last run's values.

    Args:
        records: evaluation records (``time_stamp``, ``version``, ``metric``, ``score``).
        version: the model version under test.
        last_time: the time stamp of the last run.
        config: which metrics, and whether previous values are this version's or all.

    Returns:
        (previous values per metric, last values per metric, number of previous runs).
    """
    previous: dict[str, list[float]] = {metric: [] for metric in config.metrics}
    last: dict[str, float] = {}
    previous_runs = set()
    for record in records:
        metric = record["metric"]
        if metric not in previous:
            continue
        if record["time_stamp"] == last_time and record["version"] == version:
            last[metric] = float(record["score"])
        elif record["time_stamp"] < last_time and (
            config.history_scope == "all" or record["version"] == version
        ):
            previous[metric].append(float(record["score"]))
            previous_runs.add(record["time_stamp"])
    return previous, last, len(previous_runs)


def detect_drift(
    store: Store,
    config: LifecycleConfig,
    version: str,
    batch_key: str,
    batch: str,
    evaluation_time: str,
    run: RunContext,
) -> DriftDecision:
    """Run every enabled test for the run evaluated at ``evaluation_time`` and log the decision.

    The decision goes to the decision log; when the retraining signal fires it also
    goes to the course-format drift log. Both count once ``run`` commits.
    """
    # This model's history only: another model in the same store has versions of its own.
    records = [
        r
        for r in evaluation_log(store).records(own_run=run.run_id)
        if r["model_name"] == config.model.name
    ]
    previous, last, previous_runs = split_history(records, version, evaluation_time, config.drift)
    if not last:
        raise InvalidInputError(
            f"no evaluation of model {version} at {evaluation_time} in the history; evaluate first"
        )
    flags = history_flags(previous, last, config.drift)
    statistics: dict[str, dict[str, float]] = {}
    distributions: dict[str, dict[str, list]] = {}
    if config.drift.data_tests:
        suite_flags, statistics, distributions = profile_tests(
            store, config, version, batch_key, run.run_id
        )
        flags.update(suite_flags)
    drift = retraining_signal(flags, config.drift)
    decision = DriftDecision(
        version,
        batch,
        now_stamp(),
        flags,
        drift,
        statistics,
        previous_runs,
        distributions,
        evaluation_time,
    )
    decision_log(store).append(
        [
            {
                "time_stamp": decision.time_stamp,
                "kind": "drift",
                "model_name": config.model.name,
                "version": version,
                "batch": batch,
                "evaluation_time": evaluation_time,
                "decision": "retrain" if drift else "keep",
                "reason": ", ".join(name for name, fired in flags.items() if fired)
                or "no test fired",
                "flags": flags,
                "metrics": last,
                "statistics": statistics,
            }
        ],
        run,
    )
    if drift:
        drift_log(store).append(
            [
                {
                    "time_stamp": decision.time_stamp,
                    "model_name": version,
                    "flags": flags,
                    "drift": drift,
                }
            ],
            run,
        )
    return decision


COURSE_TIME_FORMAT = "%d-%m-%Y %H:%M:%S"


def parse_time_stamp(value: str, source: str) -> datetime:
    """Parse a course (``dd-mm-YYYY HH:MM:SS``) or ISO 8601 time stamp.

    Raises:
        InvalidInputError: neither format, naming ``source`` and the value.
    """
    text = str(value).strip()
    for parse in (lambda t: datetime.strptime(t, COURSE_TIME_FORMAT), datetime.fromisoformat):
        try:
            stamp = parse(text)
        except ValueError:
            continue
        return (
            stamp.replace(tzinfo=None)
            if stamp.tzinfo is None
            else stamp.astimezone().replace(tzinfo=None)
        )
    raise InvalidInputError(
        f"{source}: column 'time_stamp': {text!r} is neither dd-mm-YYYY HH:MM:SS nor ISO 8601"
    )


def flags_from_history_table(
    frame: pd.DataFrame, config: DriftConfig, source: str
) -> dict[str, bool]:
    """The course's drift check on an evaluation history in its CSV format.

    The run with the latest ``time_stamp`` is the last run, wherever its rows stand;
    previous values are the other rows of the same model version (or all, by config).

    Returns:
        Every history test's flag, named as in the course's drift log, and ``drift``.
    """
    required = ["time_stamp", "version", "metric", "score"]
    for column in required:
        if column not in frame.columns:
            raise InvalidInputError(
                f"{source}: missing column {column!r} (needs {', '.join(required)})"
            )
    if frame.empty:
        raise InvalidInputError(f"{source}: the history has no rows")
    stamps = [parse_time_stamp(value, source).isoformat() for value in frame["time_stamp"]]
    scores = pd.to_numeric(frame["score"], errors="coerce")
    if scores.isna().any():
        raise InvalidInputError(
            f"{source}: column 'score': {int(scores.isna().sum())} rows are not numbers"
        )
    unknown = sorted(set(frame["metric"].astype(str)) - set(METRIC_HIGHER_IS_WORSE))
    if unknown:
        raise InvalidInputError(
            f"{source}: column 'metric': unknown metric(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(METRIC_HIGHER_IS_WORSE))})"
        )
    last_time = max(stamps)
    versions = frame["version"].astype(str)
    last_version = versions[[stamp == last_time for stamp in stamps]].iloc[0]
    records = [
        {"time_stamp": stamp, "version": version, "metric": str(metric), "score": float(score)}
        for stamp, version, metric, score in zip(
            stamps, versions, frame["metric"], scores, strict=True
        )
    ]
    previous, last, _ = split_history(records, last_version, last_time, config)
    flags = history_flags(previous, last, config)
    return {**flags, "drift": retraining_signal(flags, config)}
