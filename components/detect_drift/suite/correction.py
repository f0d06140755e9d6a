"""Multiple-testing control for the suite's p-value tests (KS, chi-squared), across columns.

With one test per column at p < 0.05, 2,000 unchanged columns raise about 100 false
alarms. The p-values of every column and every p-value test form one family, and the
correction lowers each test's threshold by one common factor:

- ``none``: each test at its own alpha (the course's per-column p < 0.05);
- ``bonferroni``: alpha / m (m tests): the chance of any false alarm is at most alpha;
- ``bh``: Benjamini–Hochberg's step-up: alpha · k / m, k the largest rank whose p-value is
  below its step (the expected share of false alarms among the alarms is at most alpha;
  with no real drift, the chance of any alarm is at most alpha).

Tests with different alphas are put on one scale first (p / alpha), which is the plain
procedure when, as in the config, every alpha is the same. A decision is ``p < threshold``
(strict, as the uncorrected test always was).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

Correction = Literal["none", "bh", "bonferroni"]
CORRECTIONS: tuple[Correction, ...] = ("none", "bh", "bonferroni")


def correction_factor(
    p_values: Sequence[float], alphas: Sequence[float], correction: Correction
) -> float:
    """The factor f that turns each test's alpha into its corrected threshold alpha · f.

    Args:
        p_values: every p-value of the family.
        alphas: each test's own significance level, in the same order.
        correction: ``none``, ``bonferroni`` or ``bh``.

    Returns:
        1 for ``none`` (or no tests); 1/m for Bonferroni; k/m for Benjamini–Hochberg, k the
        largest rank with p_(k)/alpha_(k) < k/m, or 1/m when there is none (then no p-value
        is below its threshold: the smallest would have had to be below alpha/m).

    Raises:
        ValueError: an unknown correction, or lengths that differ.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; use one of {', '.join(CORRECTIONS)}")
    if len(p_values) != len(alphas):
        raise ValueError("one alpha per p-value")
    m = len(p_values)
    if correction == "none" or m == 0:
        return 1.0
    if correction == "bonferroni":
        return 1.0 / m
    scaled = np.sort(np.asarray(p_values, dtype=np.float64) / np.asarray(alphas, dtype=np.float64))
    steps = np.arange(1, m + 1) / m
    below = np.flatnonzero(scaled < steps)
    return float(steps[below[-1]]) if below.size else 1.0 / m


def cramers_v(statistic: float, total: int) -> float:
    """Cramér's V of a 2×K chi-squared statistic over ``total`` counts: sqrt(chi² / total),
    an effect size in [0, 1] that, unlike the p-value, does not grow with the sample."""
    return float(np.sqrt(statistic / total)) if total > 0 else 0.0
