"""The suite over a whole table: every column against the profile, then the dataset decision.

Columns are read and tested one at a time: a numeric column is sorted once (NaN dropped),
then KS, PSI and Wasserstein (the pure functions of :mod:`.numeric`) test that one sorted
array against the profile's; a categorical column is counted once for its three tests.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from components.detect_drift.suite.categorical import (
    align_counts,
    chi2_test,
    jensenshannon_test,
    psi_categorical,
)
from components.detect_drift.suite.columns import ColumnSource, category_counts, float_values
from components.detect_drift.suite.correction import Correction, correction_factor, cramers_v
from components.detect_drift.suite.numeric import (
    TestOutcome,
    ks_test,
    psi_numeric,
    sorted_finite,
    wasserstein_test,
)
from components.detect_drift.suite.profile import NumericReference, ReferenceProfile
from lifecycle.data_tests import DATA_TESTS_BY_KIND

Test = Literal["ks", "psi", "wasserstein", "chi2", "jensenshannon"]
NUMERIC_TESTS: tuple[Test, ...] = DATA_TESTS_BY_KIND["numeric"]
CATEGORICAL_TESTS: tuple[Test, ...] = DATA_TESTS_BY_KIND["categorical"]
P_VALUE_TESTS: tuple[Test, ...] = ("ks", "chi2")
HISTOGRAM_BINS = 30
MAX_PLOTTED_CATEGORIES = 20


@dataclass(frozen=True)
class SuiteSettings:
    """Which tests run and their thresholds (p-value tests: drift when p < alpha; distances:
    drift when value >= threshold), and how columns add up to a dataset decision."""

    tests: tuple[Test, ...] = ("ks", "psi", "wasserstein", "chi2", "jensenshannon")
    ks_alpha: float = 0.05
    chi2_alpha: float = 0.05
    psi_threshold: float = 0.1
    psi_bins: int = 10
    wasserstein_threshold: float = 0.1
    jensenshannon_threshold: float = 0.1
    # The test whose decision is the column's decision (it runs even if not in ``tests``).
    numeric_decision: Literal["ks", "psi", "wasserstein"] = "ks"
    categorical_decision: Literal["chi2", "jensenshannon", "psi"] = "chi2"
    # The dataset drifts when the share of drifted columns is above this.
    drift_share: float = 0.5
    # Multiple-testing control over every p-value test of every column (see .correction).
    correction: Correction = "none"
    # Effect-size floors (0: off): a p-value test fires only when its effect is at least this
    # (KS: the statistic D; chi-squared: Cramér's V), so a tiny shift on a huge sample does not.
    min_ks_statistic: float = 0.0
    min_cramers_v: float = 0.0

    @classmethod
    def from_config(cls, drift: Any) -> SuiteSettings:
        """From a :class:`lifecycle.config.DriftConfig` (its ``p_value`` is both alphas)."""
        return cls(
            correction=drift.correction,
            min_ks_statistic=drift.min_ks_statistic,
            min_cramers_v=drift.min_cramers_v,
            tests=tuple(drift.suite_tests),
            ks_alpha=drift.p_value,
            chi2_alpha=drift.p_value,
            psi_threshold=drift.psi_threshold,
            psi_bins=drift.psi_bins,
            wasserstein_threshold=drift.wasserstein_threshold,
            jensenshannon_threshold=drift.jensenshannon_threshold,
            numeric_decision=drift.numeric_decision,
            categorical_decision=drift.categorical_decision,
            drift_share=drift.drift_share,
        )

    def threshold(self, test: Test) -> float:
        """The threshold of ``test``: its alpha (p-value tests) or its distance threshold."""
        return {
            "ks": self.ks_alpha,
            "chi2": self.chi2_alpha,
            "psi": self.psi_threshold,
            "wasserstein": self.wasserstein_threshold,
            "jensenshannon": self.jensenshannon_threshold,
        }[test]


@dataclass(frozen=True)
class ColumnResult:
    """Every test of one column, and its decision (the decision test's)."""

    name: str
    kind: str
    role: str
    tests: dict[str, TestOutcome]
    drifted: bool
    reference_rows: int
    current_rows: int
    # For plots, filled for drifted columns: numeric {"edges", "reference", "current"} counts
    # on shared bins; categorical {"categories", "reference", "current"} counts.
    distribution: dict[str, list] = field(default_factory=dict)


@dataclass(frozen=True)
class SuiteResult:
    """All columns' results, the dataset-level decision, and the thresholds the tests were
    decided at (the p-value tests' after the multiple-testing correction)."""

    columns: list[ColumnResult]
    drifted_share: float
    drift_share: float
    dataset_drift: bool
    correction: str = "none"
    p_value_tests: int = 0  # the size of the corrected family
    thresholds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: each test as {statistic, p_value, drifted}."""
        data = asdict(self)
        for column in data["columns"]:
            column["tests"] = {
                name: {"statistic": outcome[0], "p_value": outcome[1], "drifted": outcome[2]}
                for name, outcome in column["tests"].items()
            }
        return data


def _require_values(name: str, reference_rows: int, current_rows: int) -> None:
    """The same error for every kind of column with no values on a side."""
    if reference_rows == 0 or current_rows == 0:
        side = "current data" if reference_rows else "reference"
        raise ValueError(f"column {name!r} has no values in the {side}")


def _numeric_distribution(reference: np.ndarray, current: np.ndarray) -> dict[str, list]:
    low = min(reference[0], current[0])
    high = max(reference[-1], current[-1])
    edges = (
        np.linspace(low, high, HISTOGRAM_BINS + 1)
        if high > low
        else np.array([low - 0.5, low + 0.5])
    )

    def counts(values: np.ndarray) -> list[int]:
        return np.diff(
            np.searchsorted(values, edges[1:-1], side="right"), prepend=0, append=values.size
        ).tolist()

    return {"edges": edges.tolist(), "reference": counts(reference), "current": counts(current)}


def test_numeric(
    reference: NumericReference,
    current: np.ndarray,
    settings: SuiteSettings,
    tests: tuple[Test, ...],
) -> dict[str, TestOutcome]:
    """The numeric ``tests`` of sorted ``current`` against a profiled reference column.

    Raises:
        ValueError: a side has no values.
    """
    results: dict[str, TestOutcome] = {}
    if "ks" in tests:
        results["ks"] = ks_test(reference.sorted, current, settings.threshold("ks"))
    if "psi" in tests:
        results["psi"] = psi_numeric(
            reference.shares, reference.edges, current, settings.threshold("psi")
        )
    if "wasserstein" in tests:
        results["wasserstein"] = wasserstein_test(
            reference.sorted, current, reference.std, settings.threshold("wasserstein")
        )
    return results


def test_categorical(
    categories: list[str],
    counts: np.ndarray,
    current_categories: list[str],
    current_counts: np.ndarray,
    settings: SuiteSettings,
    tests: tuple[Test, ...],
) -> tuple[dict[str, TestOutcome], tuple[list[str], np.ndarray, np.ndarray]]:
    """The categorical ``tests`` of the current counts against the reference counts.

    Raises:
        ValueError: a side has no values.
    """
    aligned = align_counts(categories, counts, current_categories, current_counts)
    _, reference, current = aligned
    results: dict[str, TestOutcome] = {}
    if "chi2" in tests:
        results["chi2"] = chi2_test(reference, current, settings.threshold("chi2"))
    if "jensenshannon" in tests:
        results["jensenshannon"] = jensenshannon_test(
            reference, current, settings.threshold("jensenshannon")
        )
    if "psi" in tests:
        results["psi"] = psi_categorical(reference, current, settings.threshold("psi"))
    return results, aligned


def _test_column(
    profile: ReferenceProfile,
    current: ColumnSource,
    name: str,
    settings: SuiteSettings,
    distributions: bool,
) -> ColumnResult:
    """Every test of one column (uncorrected: :func:`apply_correction` decides again)."""
    info = profile.columns[name]
    if name not in current.names:
        raise ValueError(f"column {name!r} is in the reference profile but not in the current data")
    if info.kind == "numeric":
        tests = tuple(t for t in settings.tests if t in NUMERIC_TESTS)
        tests += (settings.numeric_decision,) if settings.numeric_decision not in tests else ()
        reference = profile.numeric(name, settings.psi_bins)
        # The column in an array of its own, sorted in place: a big batch's column is held once.
        values = sorted_finite(float_values(current, name), name, "current data", in_place=True)
        _require_values(name, reference.sorted.size, values.size)
        outcomes = test_numeric(reference, values, settings, tests)
        drifted = outcomes[settings.numeric_decision].drifted
        plot = _numeric_distribution(reference.sorted, values) if drifted and distributions else {}
        rows = (reference.sorted.size, values.size)
    else:
        tests = tuple(t for t in settings.tests if t in CATEGORICAL_TESTS)
        tests += (
            (settings.categorical_decision,) if settings.categorical_decision not in tests else ()
        )
        reference = profile.categorical(name)
        current_categories, current_counts = category_counts(current.column(name))
        _require_values(name, int(reference.counts.sum()), int(current_counts.sum()))
        outcomes, (categories, ref_counts, cur_counts) = test_categorical(
            reference.categories,
            reference.counts,
            current_categories,
            current_counts,
            settings,
            tests,
        )
        drifted = outcomes[settings.categorical_decision].drifted
        plot = {}
        if drifted and distributions:
            top = np.argsort(-(ref_counts + cur_counts), kind="stable")[:MAX_PLOTTED_CATEGORIES]
            plot = {
                "categories": [categories[i] for i in top],
                "reference": ref_counts[top].tolist(),
                "current": cur_counts[top].tolist(),
            }
        rows = (int(reference.counts.sum()), int(current_counts.sum()))
    del reference
    profile.release(name)
    return ColumnResult(name, info.kind, info.role, outcomes, drifted, rows[0], rows[1], plot)


def run_suite(
    profile: ReferenceProfile,
    current: ColumnSource,
    settings: SuiteSettings = SuiteSettings(),
    columns: list[str] | None = None,
    distributions: bool = True,
    workers: int = 1,
) -> SuiteResult:
    """Test each profiled column (or ``columns``) of ``current``, one column at a time.

    Args:
        profile: the reference profile.
        current: the new batch.
        settings: tests and thresholds.
        columns: which profiled columns (default: all that ``current`` has).
        distributions: keep plot data for drifted columns.
        workers: columns tested at once, in threads (memory: this many columns at a time).

    Raises:
        ValueError: a column is missing from ``current``, has no values on one side, or has
            an infinite value; the message names the column.
    """
    names = columns if columns is not None else [c for c in profile.columns if c in current.names]

    def test(name: str) -> ColumnResult:
        return _test_column(profile, current, name, settings, distributions)

    if workers > 1 and len(names) > 1:
        # numpy sorts and searches without the GIL: columns in parallel threads.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(test, names))
    else:
        results = [test(name) for name in names]
    share = sum(r.drifted for r in results) / len(results) if results else 0.0
    raw = SuiteResult(results, share, settings.drift_share, bool(share > settings.drift_share))
    return apply_correction(raw, settings)


def _effect_ok(test: str, outcome: TestOutcome, column: ColumnResult, settings: SuiteSettings):
    if test == "ks":
        return outcome.statistic >= settings.min_ks_statistic
    if test == "chi2" and settings.min_cramers_v > 0:
        total = column.reference_rows + column.current_rows
        return cramers_v(outcome.statistic, total) >= settings.min_cramers_v
    return True


def apply_correction(result: SuiteResult, settings: SuiteSettings) -> SuiteResult:
    """``result`` decided again under ``settings``' multiple-testing correction and effect
    floors: every p-value test at its corrected threshold (which only ever turns alarms off),
    each column's decision and the dataset's with it; distances are unchanged.

    :func:`run_suite` calls it; calling it again with another correction re-decides from the
    same p-values (plot data of columns no longer drifted is dropped).
    """
    family = [
        (outcome.p_value, settings.threshold(test))  # type: ignore[arg-type]
        for column in result.columns
        for test, outcome in column.tests.items()
        if test in P_VALUE_TESTS and outcome.p_value is not None
    ]
    factor = correction_factor([p for p, _ in family], [a for _, a in family], settings.correction)
    columns = []
    for column in result.columns:
        tests = {}
        for test, outcome in column.tests.items():
            if test in P_VALUE_TESTS and outcome.p_value is not None:
                threshold = settings.threshold(test) * factor  # type: ignore[arg-type]
                fired = outcome.p_value < threshold and _effect_ok(test, outcome, column, settings)
                outcome = TestOutcome(outcome.statistic, outcome.p_value, fired)
            tests[test] = outcome
        decision = (
            settings.numeric_decision if column.kind == "numeric" else settings.categorical_decision
        )
        drifted = tests[decision].drifted
        columns.append(
            ColumnResult(
                column.name,
                column.kind,
                column.role,
                tests,
                drifted,
                column.reference_rows,
                column.current_rows,
                column.distribution if drifted else {},
            )
        )
    share = sum(c.drifted for c in columns) / len(columns) if columns else 0.0
    thresholds = {
        test: settings.threshold(test) * (factor if test in P_VALUE_TESTS else 1.0)  # type: ignore[arg-type]
        for test in dict.fromkeys(t for c in columns for t in c.tests)
    }
    return SuiteResult(
        columns,
        share,
        settings.drift_share,
        bool(share > settings.drift_share),
        settings.correction,
        len(family),
        thresholds,
    )
