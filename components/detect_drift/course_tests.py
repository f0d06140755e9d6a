"""The course's drift tests on a metric's history, as pure functions of explicit thresholds.

Each compares the last value of a metric with its previous values; ``higher_is_worse``
says which side is bad (RMSE: higher, r2: lower). With no previous value, no history test
fires. The data tests (KS, chi-squared, …) are the suite in :mod:`components.detect_drift.suite`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _worse(value: float, bound: float, higher_is_worse: bool) -> bool:
    return bool(value > bound) if higher_is_worse else bool(value < bound)


def hard_test(previous: Sequence[float], last: float, higher_is_worse: bool) -> bool:
    """Worse than the mean of the previous values."""
    if len(previous) == 0:
        return False
    return _worse(last, float(np.mean(previous)), higher_is_worse)


def parametric_test(
    previous: Sequence[float], last: float, higher_is_worse: bool, sigmas: float = 2.0
) -> bool:
    """Outside mean ± ``sigmas``·std of the previous values (population std, ddof=0)."""
    if len(previous) == 0:
        return False
    mean, std = float(np.mean(previous)), float(np.std(previous))
    bound = mean + sigmas * std if higher_is_worse else mean - sigmas * std
    return _worse(last, bound, higher_is_worse)


def iqr_test(
    previous: Sequence[float], last: float, higher_is_worse: bool, factor: float = 1.5
) -> bool:
    """Beyond Q3 + ``factor``·IQR (or below Q1 − ``factor``·IQR), numpy's linear quantiles."""
    if len(previous) == 0:
        return False
    q1, q3 = (float(q) for q in np.quantile(previous, [0.25, 0.75]))
    bound = q3 + factor * (q3 - q1) if higher_is_worse else q1 - factor * (q3 - q1)
    return _worse(last, bound, higher_is_worse)


def worst_ever_test(previous: Sequence[float], last: float, higher_is_worse: bool) -> bool:
    """Worse than every previous value."""
    if len(previous) == 0:
        return False
    bound = float(np.max(previous)) if higher_is_worse else float(np.min(previous))
    return _worse(last, bound, higher_is_worse)


def fixed_threshold_test(last: float, threshold: float, higher_is_worse: bool) -> bool:
    """Worse than a fixed threshold (max RMSE, min r2)."""
    return _worse(last, threshold, higher_is_worse)
