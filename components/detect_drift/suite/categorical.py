"""Drift tests of a categorical column, on category counts (the reference's come from the profile).

Categories are aligned first (:func:`align_counts`): the union of both sides, a category
unseen on one side counting zero there, so a new category in the batch is a change to
detect, never a crash. Each test returns ``(statistic, p_value or None, drifted)`` and
raises ValueError when a side has no values (as the numeric tests do).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from components.detect_drift.suite.numeric import TestOutcome, psi


def _require_values(*sides: np.ndarray, test: str) -> None:
    if not all(np.sum(counts) > 0 for counts in sides):
        raise ValueError(f"the {test} test needs at least one value on each side")


def _shares(counts: np.ndarray, test: str) -> np.ndarray:
    _require_values(counts, test=test)
    counts = np.asarray(counts, dtype=np.float64)
    return counts / counts.sum()


def align_counts(
    reference_categories: Sequence[str],
    reference_counts: np.ndarray,
    current_categories: Sequence[str],
    current_counts: np.ndarray,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Counts of both sides over the sorted union of their categories (zero where unseen).

    Returns:
        (categories, reference counts, current counts), categories sorted as strings.
    """
    reference = dict(zip(reference_categories, np.asarray(reference_counts).tolist(), strict=True))
    current = dict(zip(current_categories, np.asarray(current_counts).tolist(), strict=True))
    categories = sorted(
        c for c in set(reference) | set(current) if reference.get(c, 0) or current.get(c, 0)
    )
    return (
        categories,
        np.array([reference.get(c, 0) for c in categories], dtype=np.float64),
        np.array([current.get(c, 0) for c in categories], dtype=np.float64),
    )


def chi2_test(
    reference_counts: np.ndarray, current_counts: np.ndarray, alpha: float
) -> TestOutcome:
    """Pearson's chi-squared test of homogeneity of the 2×K table of aligned counts.

    The same statistic and p-value as ``scipy.stats.chi2_contingency(table,
    correction=False)``; drifted when the p-value is below ``alpha``. With fewer than two
    categories there is nothing to compare: (0, 1, False), as the course's test does.

    Raises:
        ValueError: a side has no values.
    """
    _require_values(reference_counts, current_counts, test="chi-squared")
    table = np.vstack([reference_counts, current_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return TestOutcome(0.0, 1.0, False)
    rows = table.sum(axis=1, keepdims=True)
    columns = table.sum(axis=0, keepdims=True)
    expected = rows * columns / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    # scipy.stats.chi2.sf(x, df) is scipy.special.chdtrc(df, x) for x > 0 (and 1 at x = 0):
    # the same number without importing scipy.stats.
    from scipy.special import chdtrc

    p = float(chdtrc(table.shape[1] - 1, statistic)) if statistic > 0 else 1.0
    return TestOutcome(statistic, p, bool(p < alpha))


def jensenshannon_test(
    reference_counts: np.ndarray, current_counts: np.ndarray, threshold: float
) -> TestOutcome:
    """Jensen–Shannon distance (natural log, as ``scipy.spatial.distance.jensenshannon``)
    between the category shares; drifted when >= ``threshold``.

    Raises:
        ValueError: a side has no values.
    """
    from scipy.special import rel_entr

    p = _shares(reference_counts, "Jensen-Shannon")
    q = _shares(current_counts, "Jensen-Shannon")
    mid = (p + q) / 2.0
    divergence = float(np.sum(rel_entr(p, mid)) + np.sum(rel_entr(q, mid)))
    value = float(np.sqrt(max(divergence, 0.0) / 2.0))
    return TestOutcome(value, None, bool(value >= threshold))


def psi_categorical(
    reference_counts: np.ndarray, current_counts: np.ndarray, threshold: float
) -> TestOutcome:
    """PSI over the aligned categories' shares (empty ones count 1e-4, as in evidently).

    Drifted when >= ``threshold``.

    Raises:
        ValueError: a side has no values.
    """
    return psi(_shares(reference_counts, "PSI"), _shares(current_counts, "PSI"), threshold)
