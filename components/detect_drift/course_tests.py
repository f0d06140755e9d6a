"""The course's drift tests on a metric's history, as pure functions of explicit thresholds.

Each compares the last value of a metric with its previous values; ``higher_is_worse``
says which side is bad (RMSE: higher, r2: lower). With no previous value, no history test
fires. Each test's bound (the value beyond which it fires) is its own function, so the
report draws the very lines the tests compare with. The data tests (KS, chi-squared, …)
are the suite in :mod:`components.detect_drift.suite`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _worse(value: float, bound: float | None, higher_is_worse: bool) -> bool:
    if bound is None:
        return False
    return bool(value > bound) if higher_is_worse else bool(value < bound)


def hard_bound(previous: Sequence[float]) -> float | None:
    """The mean of the previous values (None without any)."""
    return float(np.mean(previous)) if len(previous) else None


def parametric_bound(
    previous: Sequence[float], higher_is_worse: bool, sigmas: float = 2.0
) -> float | None:
    """mean + ``sigmas``·std of the previous values (mean − when lower is worse; population
    std, ddof=0); None without any."""
    if len(previous) == 0:
        return None
    mean, std = float(np.mean(previous)), float(np.std(previous))
    return mean + sigmas * std if higher_is_worse else mean - sigmas * std


def iqr_bound(
    previous: Sequence[float], higher_is_worse: bool, factor: float = 1.5
) -> float | None:
    """Q3 + ``factor``·IQR (Q1 − ``factor``·IQR when lower is worse), numpy's linear
    quantiles; None without previous values."""
    if len(previous) == 0:
        return None
    q1, q3 = (float(q) for q in np.quantile(previous, [0.25, 0.75]))
    return q3 + factor * (q3 - q1) if higher_is_worse else q1 - factor * (q3 - q1)


def worst_ever_bound(previous: Sequence[float], higher_is_worse: bool) -> float | None:
    """The worst previous value (None without any)."""
    if len(previous) == 0:
        return None
    return float(np.max(previous)) if higher_is_worse else float(np.min(previous))


def hard_test(previous: Sequence[float], last: float, higher_is_worse: bool) -> bool:
    """Worse than the mean of the previous values."""
    return _worse(last, hard_bound(previous), higher_is_worse)


def parametric_test(
    previous: Sequence[float], last: float, higher_is_worse: bool, sigmas: float = 2.0
) -> bool:
    """Outside mean ± ``sigmas``·std of the previous values (population std, ddof=0)."""
    return _worse(last, parametric_bound(previous, higher_is_worse, sigmas), higher_is_worse)


def iqr_test(
    previous: Sequence[float], last: float, higher_is_worse: bool, factor: float = 1.5
) -> bool:
    """Beyond Q3 + ``factor``·IQR (or below Q1 − ``factor``·IQR), numpy's linear quantiles."""
    return _worse(last, iqr_bound(previous, higher_is_worse, factor), higher_is_worse)


def worst_ever_test(previous: Sequence[float], last: float, higher_is_worse: bool) -> bool:
    """Worse than every previous value."""
    return _worse(last, worst_ever_bound(previous, higher_is_worse), higher_is_worse)


def fixed_threshold_test(last: float, threshold: float, higher_is_worse: bool) -> bool:
    """Worse than a fixed threshold (max RMSE, min r2)."""
    return _worse(last, threshold, higher_is_worse)
