"""The course's history tests and the retraining policy, on small inline data."""

from __future__ import annotations

import pytest

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
from components.detect_drift.logic import (
    history_bounds,
    history_flags,
    retraining_signal,
    split_history,
)
from lifecycle.config import DriftConfig
from lifecycle.errors import InvalidInputError

PREVIOUS = [1.0, 2.0, 3.0, 4.0]  # mean 2.5, std 1.118, Q1 1.75, Q3 3.25, IQR 1.5


@pytest.mark.parametrize(
    ("last", "higher_is_worse", "expected"),
    [(2.6, True, True), (2.5, True, False), (2.4, False, True), (2.5, False, False)],
)
def test_hard_test_compares_with_the_mean(last, higher_is_worse, expected):
    assert hard_test(PREVIOUS, last, higher_is_worse) is expected


@pytest.mark.parametrize(
    ("last", "higher_is_worse", "expected"),
    [(4.74, True, True), (4.73, True, False), (0.26, False, True), (0.27, False, False)],
)
def test_parametric_test_uses_two_population_sigmas(last, higher_is_worse, expected):
    # mean 2.5 ± 2 * 1.1180 (ddof=0) = [0.264, 4.736]
    assert parametric_test(PREVIOUS, last, higher_is_worse) is expected


@pytest.mark.parametrize(
    ("last", "higher_is_worse", "expected"),
    [(5.51, True, True), (5.5, True, False), (-0.51, False, True), (-0.5, False, False)],
)
def test_iqr_test_uses_numpy_linear_quartiles(last, higher_is_worse, expected):
    # Q3 + 1.5 IQR = 3.25 + 2.25 = 5.5 ; Q1 - 1.5 IQR = 1.75 - 2.25 = -0.5
    assert iqr_test(PREVIOUS, last, higher_is_worse) is expected


def test_worst_ever_and_fixed_threshold():
    assert worst_ever_test(PREVIOUS, 4.1, True) and not worst_ever_test(PREVIOUS, 4.0, True)
    assert worst_ever_test(PREVIOUS, 0.9, False) and not worst_ever_test(PREVIOUS, 1.0, False)
    assert fixed_threshold_test(2.1, 2.0, True) and not fixed_threshold_test(0.9, 0.8, False)


@pytest.mark.parametrize("test", [hard_test, parametric_test, iqr_test, worst_ever_test])
def test_no_history_test_fires_without_previous_values(test):
    assert test([], 1e9, True) is False


def test_history_flags_are_named_as_in_the_course_drift_log():
    config = DriftConfig(history_tests=("hard", "param", "iqr", "fixed", "worst"))
    flags = history_flags({"RMSE": PREVIOUS, "r2": [0.9, 0.95]}, {"RMSE": 6.0, "r2": 0.97}, config)
    assert flags == {
        "hard_test_RMSE": True,
        "hard_test_r2": False,
        "param_test_RMSE": True,
        "param_test_r2": False,
        "iqr_test_RMSE": True,
        "iqr_test_r2": False,
        "fixed_test_RMSE": True,
        "fixed_test_r2": False,
        "worst_test_RMSE": True,
        "worst_test_r2": False,
    }


def test_each_bound_is_where_its_test_starts_to_fire():
    assert hard_bound(PREVIOUS) == 2.5
    assert parametric_bound(PREVIOUS, True) == pytest.approx(2.5 + 2 * 1.118034)
    assert parametric_bound(PREVIOUS, False) == pytest.approx(2.5 - 2 * 1.118034)
    assert (iqr_bound(PREVIOUS, True), iqr_bound(PREVIOUS, False)) == (5.5, -0.5)
    assert (worst_ever_bound(PREVIOUS, True), worst_ever_bound(PREVIOUS, False)) == (4.0, 1.0)
    assert hard_bound([]) is None and iqr_bound([], True) is None


def test_history_bounds_are_the_enabled_tests_only():
    config = DriftConfig(history_tests=("param", "fixed"), fixed_thresholds={"RMSE": 7.0})
    bounds = history_bounds(PREVIOUS, "RMSE", config)
    assert bounds == {"param": pytest.approx(2.5 + 2 * 1.118034), "fixed": 7.0}
    assert history_bounds(PREVIOUS, "r2", config) == {
        "param": pytest.approx(2.5 - 2 * 1.118034)
    }  # no fixed threshold for r2
    assert history_bounds([], "RMSE", DriftConfig()) == {}  # hard, param, iqr: no history yet
    everything = DriftConfig(history_tests=("hard", "param", "iqr", "fixed", "worst"))
    for metric, higher in (("RMSE", True), ("r2", False)):
        for test, bound in history_bounds(PREVIOUS, metric, everything).items():
            step = 1e-9 if higher else -1e-9
            flags = history_flags({metric: PREVIOUS}, {metric: bound + step}, everything)
            assert flags[f"{test}_test_{metric}"], (test, metric)
            flags = history_flags({metric: PREVIOUS}, {metric: bound - step}, everything)
            assert not flags[f"{test}_test_{metric}"], (test, metric)


@pytest.mark.parametrize(
    ("policy", "extra", "flags", "expected"),
    [
        ("any", {}, {"a": False, "b": True}, True),
        ("any", {}, {"a": False, "b": False}, False),
        ("subset", {"subset": ("a",)}, {"a": False, "b": True}, False),
        ("subset", {"subset": ("b",)}, {"a": False, "b": True}, True),
        ("at_least", {"at_least": 2}, {"a": True, "b": False}, False),
        ("at_least", {"at_least": 2}, {"a": True, "b": True}, True),
    ],
)
def test_retraining_policy(policy, extra, flags, expected):
    assert retraining_signal(flags, DriftConfig(policy=policy, **extra)) is expected


def test_a_subset_naming_an_unknown_test_is_refused():
    config = DriftConfig(policy="subset", subset=("ks_test_X",))
    with pytest.raises(InvalidInputError, match="drift.subset: no test named ks_test_X"):
        retraining_signal({"ks_test_x": True}, config)


def _record(stamp: str, version: str, metric: str, score: float) -> dict:
    return {"time_stamp": stamp, "version": version, "metric": metric, "score": score}


def test_split_history_scopes_previous_values_to_the_model_version_by_default():
    records = [
        _record("t1", "1.0", "RMSE", 1.0),
        _record("t2", "1.1", "RMSE", 2.0),
        _record("t3", "1.1", "RMSE", 3.0),
        _record("t4", "1.1", "RMSE", 9.0),  # a later run is never "previous"
    ]
    previous, last, runs = split_history(records, "1.1", "t3", DriftConfig(metrics=("RMSE",)))
    assert previous == {"RMSE": [2.0]} and last == {"RMSE": 3.0} and runs == 1
    previous, _, runs = split_history(
        records, "1.1", "t3", DriftConfig(metrics=("RMSE",), history_scope="all")
    )
    assert previous == {"RMSE": [1.0, 2.0]} and runs == 2
