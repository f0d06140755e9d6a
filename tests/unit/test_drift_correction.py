"""Multiple-testing control of the drift suite: Benjamini–Hochberg, Bonferroni or none, across
columns and tests, with the corrected thresholds reported, and the effect-size floors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import false_discovery_control

from components.detect_drift.suite import (
    SuiteSettings,
    TableColumns,
    apply_correction,
    build_profile,
    correction_factor,
    run_suite,
)
from lifecycle.config import DriftConfig


def test_bonferroni_and_none():
    p = [0.001, 0.02, 0.3, 0.9]
    assert correction_factor(p, [0.05] * 4, "none") == 1.0
    assert correction_factor(p, [0.05] * 4, "bonferroni") == 0.25
    assert correction_factor([], [], "bh") == 1.0


def test_benjamini_hochberg_on_the_textbook_example():
    # Steps k/m·0.05: 0.00625, 0.0125, 0.01875, ...; the first two p-values are below theirs.
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]
    assert correction_factor(p, [0.05] * 8, "bh") == 2 / 8
    assert correction_factor([0.2, 0.5, 0.9], [0.05] * 3, "bh") == 1 / 3  # nothing rejected


@pytest.mark.parametrize("seed", range(20))
def test_bh_rejects_what_scipys_adjusted_p_values_reject(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-3, size=rng.integers(0, 20))])
    threshold = 0.05 * correction_factor(p.tolist(), [0.05] * p.size, "bh")
    assert set(np.flatnonzero(p < threshold)) == set(
        np.flatnonzero(false_discovery_control(p) <= 0.05)
    )


def test_differing_alphas_are_put_on_one_scale():
    # p / alpha: 0.5, 0.4, 10: BH at level 1 over m = 3 rejects the two below 2/3.
    assert correction_factor([0.005, 0.02, 0.5], [0.01, 0.05, 0.05], "bh") == 2 / 3


def test_an_unknown_correction_is_refused():
    with pytest.raises(ValueError, match="unknown correction 'holm'"):
        correction_factor([0.1], [0.05], "holm")  # type: ignore[arg-type]


def wide_tables(columns: int, drifted: int, rows: int, seed: int):
    """``columns`` unchanged standard-normal columns and ``drifted`` ones shifted by 0.15 σ."""
    rng = np.random.default_rng(seed)
    names = [f"u{i:04d}" for i in range(columns)] + [f"d{i}" for i in range(drifted)]
    shifts = [0.0] * columns + [0.15] * drifted
    reference = {name: rng.normal(size=rows) for name in names}
    current = {
        name: rng.normal(size=rows) + shift for name, shift in zip(names, shifts, strict=True)
    }
    return TableColumns(pa.table(reference)), TableColumns(pa.table(current))


def test_2000_unchanged_columns_no_false_alarm_under_bh_and_every_drift_found():
    """The benchmark of issue 14 (fixed seed): 2,000 unchanged columns and 10 drifted ones,
    10,000 rows a side. Per-column p < 0.05 flags about 100 unchanged columns (5% of 2,000);
    Benjamini–Hochberg at 5% and Bonferroni flag none of them and find all 10 drifts."""
    reference, current = wide_tables(2000, 10, 10_000, seed=14)
    profile = build_profile(reference)
    result = run_suite(profile, current, SuiteSettings(tests=("ks",)), distributions=False)

    def flagged(outcome) -> tuple[int, int]:
        names = [c.name for c in outcome.columns if c.drifted]
        return sum(n.startswith("u") for n in names), sum(n.startswith("d") for n in names)

    false_alarms, found = flagged(result)
    assert 60 <= false_alarms <= 140 and found == 10 and result.thresholds == {"ks": 0.05}
    bh = apply_correction(result, SuiteSettings(tests=("ks",), correction="bh"))
    assert flagged(bh) == (0, 10)
    assert bh.correction == "bh" and bh.p_value_tests == 2010
    assert bh.thresholds["ks"] == pytest.approx(0.05 * 10 / 2010)
    bonferroni = apply_correction(result, SuiteSettings(tests=("ks",), correction="bonferroni"))
    assert flagged(bonferroni) == (0, 10)
    assert bonferroni.thresholds["ks"] == pytest.approx(0.05 / 2010)


def test_with_no_drift_at_all_bh_raises_no_alarm():
    reference, current = wide_tables(500, 0, 2000, seed=3)
    settings = SuiteSettings(tests=("ks", "psi"), correction="bh")
    result = run_suite(build_profile(reference), current, settings, distributions=False)
    assert not any(c.drifted for c in result.columns)
    assert result.thresholds["ks"] == pytest.approx(0.05 / 500)  # the bar nothing cleared
    assert result.thresholds["psi"] == settings.psi_threshold  # distances are not corrected


def categorical_tables():
    rng = np.random.default_rng(5)
    reference = {"x": rng.normal(size=5000), "c": rng.choice(list("abc"), 5000)}
    current = {
        "x": rng.normal(size=5000) + 0.1,
        "c": rng.choice(list("abc"), 5000, p=[0.4, 0.3, 0.3]),
    }
    return TableColumns(pa.table(reference)), TableColumns(pa.table(current))


def test_the_family_spans_columns_and_tests_of_both_kinds():
    reference, current = categorical_tables()
    settings = SuiteSettings(tests=("ks", "chi2", "jensenshannon"), correction="bonferroni")
    result = run_suite(build_profile(reference), current, settings)
    assert result.p_value_tests == 2
    assert result.thresholds == {"ks": 0.025, "chi2": 0.025, "jensenshannon": 0.1}
    for column in result.columns:
        for outcome in column.tests.values():
            if outcome.p_value is not None:
                assert outcome.drifted == (outcome.p_value < 0.025)
    assert result.to_dict()["thresholds"]["ks"] == 0.025


def test_effect_size_floors_are_off_by_default_and_only_ever_turn_alarms_off():
    reference, current = categorical_tables()
    profile = build_profile(reference)
    plain = run_suite(profile, current, SuiteSettings(tests=("ks", "chi2")))
    assert {c.name: c.drifted for c in plain.columns} == {"x": True, "c": True}
    d = plain.columns[0].tests["ks"].statistic
    floored = apply_correction(
        plain, SuiteSettings(tests=("ks", "chi2"), min_ks_statistic=d + 1e-9, min_cramers_v=0.5)
    )
    assert {c.name: c.drifted for c in floored.columns} == {"x": False, "c": False}
    assert floored.columns[0].tests["ks"].p_value == plain.columns[0].tests["ks"].p_value
    kept = apply_correction(plain, SuiteSettings(tests=("ks", "chi2"), min_ks_statistic=d))
    assert kept.columns[0].drifted


def test_the_config_keys_default_to_the_courses_per_column_test():
    drift = DriftConfig()
    settings = SuiteSettings.from_config(drift)
    assert (settings.correction, settings.min_ks_statistic, settings.min_cramers_v) == (
        "none",
        0,
        0,
    )
    assert SuiteSettings.from_config(DriftConfig(correction="bh")).correction == "bh"
