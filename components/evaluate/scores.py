"""RMSE, R² and MAE summed chunk by chunk: a batch of any size is scored in bounded memory.

R² needs the target's variance; summing ``y`` and ``y²`` would lose it to cancellation on a
large batch far from zero, so each chunk's mean and sum of squared deviations are combined
with the running ones (Chan, Golub and LeVeque's pairwise update), which is as accurate as
scoring the whole batch at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lifecycle.errors import InvalidInputError

# Names as in the course's evaluation history.
RMSE, R2, MAE = "RMSE", "r2", "MAE"


class UndefinedMetricError(InvalidInputError):
    """A metric has no finite value on a batch (R² on one row or on a constant target)."""


@dataclass
class RunningScores:
    """The sums RMSE, R² and MAE are made of, over the chunks :meth:`add` has seen."""

    rows: int = 0
    target_mean: float = 0.0
    # Sum of the target's squared deviations from its mean (R²'s denominator).
    target_deviations: float = 0.0
    squared_error: float = 0.0
    absolute_error: float = 0.0
    target_low: float = math.inf
    target_high: float = -math.inf

    def add(self, actual: np.ndarray, predicted: np.ndarray) -> None:
        """Count one chunk: the target's values and the model's predictions for them."""
        actual = np.asarray(actual, dtype=np.float64)
        predicted = np.asarray(predicted, dtype=np.float64)
        if actual.size == 0:
            return
        with np.errstate(invalid="ignore", over="ignore"):  # a non-finite score is refused later
            residuals = actual - predicted
            self.squared_error += float(np.dot(residuals, residuals))
            self.absolute_error += float(np.abs(residuals).sum())
            chunk_mean = float(actual.mean())
            deviations = actual - chunk_mean
            chunk_deviations = float(np.dot(deviations, deviations))
        rows = self.rows + actual.size
        delta = chunk_mean - self.target_mean
        self.target_deviations += chunk_deviations + delta * delta * self.rows * actual.size / rows
        self.target_mean += delta * actual.size / rows
        self.rows = rows
        self.target_low = min(self.target_low, float(actual.min()))
        self.target_high = max(self.target_high, float(actual.max()))

    def _why_undefined(self, metric: str) -> str:
        if metric == R2 and self.rows < 2:
            return f"R² is undefined on {self.rows} row(s)"
        if metric == R2 and self.target_low == self.target_high:
            return "R² is undefined when the target is constant (it divides by its variance)"
        return "its value is not a finite number"

    def metrics(self, batch: str = "the data") -> dict[str, float]:
        """RMSE, R² and MAE of everything added.

        A metric without a finite value never enters a history: a NaN R² would make every
        later R² test of the model silently never fire.

        Args:
            batch: what was scored, for the error message (e.g. ``batch 'batch_7'``).

        Returns:
            The scores by metric name, all finite.

        Raises:
            UndefinedMetricError: a metric is NaN or infinite (R² on fewer than 2 rows or on
                a constant target), naming ``batch`` and the metric.
        """
        rows = self.rows or math.nan
        constant = self.rows < 2 or self.target_low == self.target_high
        scores = {
            RMSE: math.sqrt(self.squared_error / rows),
            R2: math.nan if constant else 1.0 - self.squared_error / self.target_deviations,
            MAE: self.absolute_error / rows,
        }
        for metric, score in scores.items():
            if not math.isfinite(score):
                raise UndefinedMetricError(
                    f"{batch}: metric {metric} is undefined ({self._why_undefined(metric)}); "
                    "nothing was recorded"
                )
        return scores


def compute_metrics(
    actual: np.ndarray, predicted: np.ndarray, batch: str = "the data"
) -> dict[str, float]:
    """RMSE, R² and MAE of ``predicted`` against ``actual`` (one chunk of :class:`RunningScores`).

    Args:
        actual: the target's values.
        predicted: the model's predictions.
        batch: what was scored, for the error message (e.g. ``batch 'batch_7'``).

    Returns:
        The scores by metric name, all finite.

    Raises:
        UndefinedMetricError: a metric is NaN or infinite, naming ``batch`` and the metric.
    """
    scores = RunningScores()
    scores.add(actual, predicted)
    return scores.metrics(batch)
