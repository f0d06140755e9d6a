# ruff: noqa: E501 - the evidently cases are a script in a string, run in .venv-bench
"""The drift suite agrees with scipy to 1e-9, and its decisions with evidently's.

evidently does not import under our pandas 3, so its cases run in ``.venv-bench``
(``make bench-venv``; ``make test`` builds it first) as a subprocess. Without that venv
the evidently tests skip locally, and fail when CI or REQUIRE_SERVICES is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

from components.detect_drift.suite import (
    FrameColumns,
    SuiteSettings,
    TableColumns,
    align_counts,
    chi2_test,
    jensenshannon_test,
    ks_test,
    profile_bytes,
    psi_categorical,
    quantile_edges,
    read_profile,
    run_suite,
    wasserstein_test,
    write_profile,
)
from components.detect_drift.suite.kolmogorov import kstwo_sf, smirnov_sf
from components.detect_drift.suite.numeric import (
    KS_GRID_MIN_N,
    bin_shares,
    ks_statistic,
    ks_statistic_from_ranks,
    psi,
    ranks,
)

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-9


def _sample(rng: np.random.Generator, kind: str, size: int, shift: float) -> np.ndarray:
    if kind == "continuous":
        return rng.normal(shift, 1.0, size)
    if kind == "ties":  # rounded: many values shared within and across samples
        return np.round(rng.normal(shift, 1.0, size), 1)
    if kind == "integers":
        return rng.integers(0, 8, size).astype(float) + np.round(shift)
    return rng.exponential(1.0 + shift, size)


SIZES = [
    (1, 1),
    (3, 8),
    (20, 20),
    (57, 300),
    (1000, 999),
    (4000, 3000),
    (10_000, 10_001),
    (30_000, 12_000),
    (KS_GRID_MIN_N, 5_000),
    (200_000, 150_000),
]
KINDS = ["continuous", "ties", "integers", "skewed"]


@pytest.mark.parametrize(("n", "m"), SIZES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shift", [0.0, 0.05, 0.5])
def test_ks_matches_scipy_ks_2samp(n, m, kind, shift):
    rng = np.random.default_rng(n * 7 + m + len(kind) + int(shift * 100))
    reference, current = _sample(rng, kind, n, 0.0), _sample(rng, kind, m, shift)
    expected = stats.ks_2samp(reference, current)
    outcome = ks_test(np.sort(reference), np.sort(current), 0.05)
    assert outcome.statistic == pytest.approx(float(expected.statistic), abs=TOLERANCE)
    assert outcome.p_value == pytest.approx(float(expected.pvalue), abs=TOLERANCE)
    assert outcome.drifted == (expected.pvalue < 0.05)


@pytest.mark.parametrize("kind", KINDS)
def test_ks_ranking_only_candidate_segments_gives_the_full_statistic(kind):
    rng = np.random.default_rng(len(kind))
    for m in (1, 17, 4096, 90_000):
        reference = np.sort(_sample(rng, kind, KS_GRID_MIN_N * 2 + 3, 0.0))
        current = np.sort(_sample(rng, kind, m, 0.02))
        full = ks_statistic_from_ranks(ranks(reference, current), reference.size, current.size)
        assert ks_statistic(reference, current) == full


@pytest.mark.parametrize(("n", "m"), [(1, 1), (5, 9), (300, 200), (5000, 7000), (100_000, 80_000)])
@pytest.mark.parametrize("kind", KINDS)
def test_wasserstein_matches_scipy_divided_by_the_reference_std(n, m, kind):
    rng = np.random.default_rng(n + m + len(kind))
    reference, current = _sample(rng, kind, n, 0.0), _sample(rng, kind, m, 0.3)
    std = float(np.std(reference))
    expected = stats.wasserstein_distance(reference, current) / max(std, 1e-3)
    outcome = wasserstein_test(np.sort(reference), np.sort(current), std, 0.1)
    assert outcome.statistic == pytest.approx(expected, rel=TOLERANCE, abs=TOLERANCE)
    assert outcome.p_value is None and outcome.drifted == (expected >= 0.1)


def _categories(rng, levels: list[str], size: int, skew: float) -> pd.Series:
    weights = np.linspace(1.0, 1.0 + skew, len(levels))
    return pd.Series(rng.choice(levels, size, p=weights / weights.sum()))


CATEGORY_CASES = [
    (list("abc"), list("abc"), 50, 60, 0.0),
    (list("abcde"), list("abcdefg"), 500, 400, 1.0),  # unseen in the reference
    (list("abcdefg"), list("cde"), 2000, 3000, 0.5),  # unseen in the current batch
    ([f"v{i}" for i in range(40)], [f"v{i}" for i in range(5, 45)], 100_000, 80_000, 0.2),
    (list("ab"), list("ab"), 10, 12, 3.0),
]


@pytest.mark.parametrize(("ref_levels", "cur_levels", "n", "m", "skew"), CATEGORY_CASES)
def test_categorical_tests_match_scipy(ref_levels, cur_levels, n, m, skew):
    rng = np.random.default_rng(n + m)
    reference, current = _categories(rng, ref_levels, n, 0.0), _categories(rng, cur_levels, m, skew)
    counts = pd.concat([reference.value_counts(), current.value_counts()], axis=1).fillna(0)
    table = counts.to_numpy().T
    ref_counts, cur_counts = reference.value_counts(), current.value_counts()
    names, aligned_ref, aligned_cur = align_counts(
        list(ref_counts.index), ref_counts.to_numpy(), list(cur_counts.index), cur_counts.to_numpy()
    )
    assert names == sorted(counts.index)

    statistic, p, _, _ = stats.chi2_contingency(table, correction=False)
    chi2 = chi2_test(aligned_ref, aligned_cur, 0.05)
    assert chi2.statistic == pytest.approx(statistic, rel=TOLERANCE)
    assert chi2.p_value == pytest.approx(p, abs=TOLERANCE)
    assert chi2.drifted == (p < 0.05)

    expected_js = jensenshannon(counts.loc[names].iloc[:, 0], counts.loc[names].iloc[:, 1])
    js = jensenshannon_test(aligned_ref, aligned_cur, 0.1)
    assert js.statistic == pytest.approx(expected_js, abs=TOLERANCE) and js.p_value is None

    shares_ref, shares_cur = aligned_ref / n, aligned_cur / m
    shares_ref[shares_ref == 0], shares_cur[shares_cur == 0] = 1e-4, 1e-4
    expected_psi = float(np.sum((shares_cur - shares_ref) * np.log(shares_cur / shares_ref)))
    assert psi_categorical(aligned_ref, aligned_cur, 0.1).statistic == pytest.approx(
        expected_psi, rel=1e-12
    )


@pytest.mark.parametrize("statistic", [0.0, 1e-9, 0.3, 7.5, 80.0, 2000.0])
@pytest.mark.parametrize("degrees", [1, 2, 49])
def test_the_chi2_p_value_is_scipys_chi2_sf_exactly(statistic, degrees):
    """chi2_test's p-value comes from scipy.special (scipy.stats is not imported for it)."""
    from scipy.special import chdtrc

    ours = float(chdtrc(degrees, statistic)) if statistic > 0 else 1.0
    assert ours == float(stats.chi2.sf(statistic, degrees))


def test_chi2_with_a_single_category_does_not_fire():
    assert chi2_test(np.array([5.0]), np.array([7.0]), 0.05) == (0.0, 1.0, False)


def test_psi_on_reference_quantile_bins():
    rng = np.random.default_rng(1)
    reference = np.sort(rng.normal(size=10_000))
    edges = quantile_edges(reference, 10)
    assert edges == pytest.approx(np.quantile(reference, np.linspace(0, 1, 11)[1:-1]))
    shares = bin_shares(reference, edges)
    assert shares == pytest.approx(np.full(10, 0.1), abs=1e-3)
    same = psi(shares, bin_shares(np.sort(rng.normal(size=10_000)), edges), 0.1)
    moved = psi(shares, bin_shares(np.sort(rng.normal(0.5, size=10_000)), edges), 0.1)
    assert same.statistic < 0.01 and not same.drifted and moved.drifted and moved.p_value is None


# (n, n·d²) in scipy's slow Smirnov case of kstwo.sf (2.2 <= n·d² < 370), and around it.
SMIRNOV_CASES = [
    (141, 2.2),
    (1_000, 3.0),
    (20_000, 2.2),
    (85_714, 30.0),
    (85_714, 369.0),
    (500_000, 2.2000001),
    (500_000, 40.0),
    (1_000_000, 12.0),
]


@pytest.mark.parametrize(("n", "ndd"), SMIRNOV_CASES)
def test_the_vectorised_smirnov_sum_is_scipys(n, ndd):
    d = float(np.sqrt(ndd / n))
    expected = float(special.smirnov(n, d))
    assert smirnov_sf(n, d) == pytest.approx(expected, rel=1e-11, abs=1e-300)
    assert kstwo_sf(d, n) == pytest.approx(
        float(stats.distributions.kstwo.sf(d, n)), rel=1e-11, abs=1e-300
    )


# (n, n·d²) below scipy's Smirnov case: one minus the Pelz–Good series (scipy's branch there),
# at the edges of the branch and of the series' underflow.
PELZ_GOOD_CASES = [
    (141, 2.19),
    (1_000, 2.1),
    (20_000, 0.3),
    (100_001, 1e-3),
    (500_000, 1.0),
    (500_000, 0.05),
    (500_000, 2.1999999),
    (2_500_000, 0.5),
    (50_000_000, 1.7),
]


@pytest.mark.parametrize(("n", "ndd"), PELZ_GOOD_CASES)
def test_kstwo_sf_without_drift_is_scipys_pelz_good_branch(n, ndd):
    d = float(np.sqrt(ndd / n))
    assert kstwo_sf(d, n) == pytest.approx(
        float(stats.distributions.kstwo.sf(d, n)), rel=1e-12, abs=1e-300
    )


def test_kstwo_sf_on_large_samples_needs_no_scipy_stats():
    """The data-drift command's p-values on big files come without importing scipy.stats
    (about a second): drifted, undrifted and strongly drifted columns alike."""
    code = (
        "import sys; from components.detect_drift.suite.kolmogorov import kstwo_sf; "
        "[kstwo_sf((ndd / n) ** 0.5, n) for n in (500_000, 2_500_000) for ndd in (0.3, 9, 400)]; "
        "print('scipy.stats' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("n", "ndd"),
    [
        (140, 3.0),
        # scipy's exact small-D branch (Durbin's matrix).
        (1_000, 0.05),
        (100_000, 1e-3),
        (500_000, 371.0),
        (1_000_001, 9.0),
        # Strong drifts: scipy's 0.0, answered without importing scipy.stats; but not at d >= 0.5.
        (141, 370.0),
        (2_500_000, 5000.0),
        (2_000, 500.0),
        (2_000, 499.0),
    ],
)
def test_kstwo_sf_outside_the_smirnov_case_is_scipys_own_call(n, ndd):
    d = float(np.sqrt(ndd / n))
    assert kstwo_sf(d, n) == float(stats.distributions.kstwo.sf(d, n))


def _suite(reference: pd.DataFrame, current: pd.DataFrame, **settings):
    profile = read_profile(profile_bytes(FrameColumns(reference)))
    result = run_suite(profile, FrameColumns(current), SuiteSettings(**settings))
    return {column.name: column for column in result.columns}


def test_the_suites_numeric_tests_on_large_samples_are_scipys():
    """The production path (profile, pruned KS ranks, the Smirnov p-value) against scipy: a
    mild drift whose p-value is in scipy's slow case, a strong one, and none."""
    rng = np.random.default_rng(6)
    n, m = 200_000, 150_000
    reference = pd.DataFrame({k: rng.normal(size=n) for k in ("mild", "strong", "none")})
    current = pd.DataFrame(
        {
            "mild": rng.normal(0.03, size=m),
            "strong": rng.normal(0.3, size=m),
            "none": rng.normal(size=m),
        }
    )
    columns = _suite(reference, current)
    effective = n * m / (n + m)
    for name in ("mild", "strong", "none"):
        ref, cur = reference[name].to_numpy(), current[name].to_numpy()
        expected = stats.ks_2samp(ref, cur)
        ks = columns[name].tests["ks"]
        assert ks.statistic == pytest.approx(float(expected.statistic), abs=TOLERANCE)
        assert ks.p_value == pytest.approx(float(expected.pvalue), abs=TOLERANCE, rel=1e-9)
        std = float(np.std(ref))
        assert columns[name].tests["wasserstein"].statistic == pytest.approx(
            stats.wasserstein_distance(ref, cur) / std, rel=TOLERANCE
        )
        edges = np.quantile(ref, np.linspace(0, 1, 11)[1:-1])
        shares_ref = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=10) / n
        shares_cur = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=10) / m
        expected_psi = float(np.sum((shares_cur - shares_ref) * np.log(shares_cur / shares_ref)))
        assert columns[name].tests["psi"].statistic == pytest.approx(expected_psi, rel=1e-9)
    assert 2.2 <= effective * columns["mild"].tests["ks"].statistic ** 2 < 370
    assert columns["mild"].drifted and columns["strong"].drifted and not columns["none"].drifted


def test_missing_values_are_dropped_on_both_sides():
    rng = np.random.default_rng(3)
    reference = rng.normal(size=5_000)
    current = rng.normal(0.1, size=4_000)
    reference[::7], current[::5] = np.nan, np.nan
    labels = pd.Series(rng.choice(list("abc"), 4_000))
    columns = _suite(
        pd.DataFrame({"x": reference, "c": rng.choice(list("abc"), 5_000)}),
        pd.DataFrame({"x": current, "c": labels.where(np.arange(4_000) % 9 > 0)}),
    )
    kept_ref, kept_cur = reference[~np.isnan(reference)], current[~np.isnan(current)]
    expected = stats.ks_2samp(kept_ref, kept_cur)
    x = columns["x"]
    assert (x.reference_rows, x.current_rows) == (kept_ref.size, kept_cur.size)
    assert x.tests["ks"].p_value == pytest.approx(float(expected.pvalue), abs=TOLERANCE)
    assert x.tests["wasserstein"].statistic == pytest.approx(
        stats.wasserstein_distance(kept_ref, kept_cur) / float(np.std(kept_ref)), rel=TOLERANCE
    )
    assert np.isfinite(x.tests["psi"].statistic)
    # A missing category is a category ("null"), counted like any other.
    assert columns["c"].current_rows == 4_000


@pytest.mark.parametrize("side", ["reference", "current data"])
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_an_infinite_value_is_an_error_naming_the_column(side, value):
    values = np.array([1.0, 2.0, np.nan, value, 3.0])
    reference = pd.DataFrame({"ok": [1.0, 2.0, 3.0, 4.0, 5.0], "x": values})
    current = pd.DataFrame({"ok": [1.0, 2.0, 3.0, 4.0, 5.0], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    frames = (reference, current) if side == "reference" else (current, reference)
    with pytest.raises(ValueError, match=f"column 'x' has 1 infinite value\\(s\\) in the {side}"):
        _suite(*frames)


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
@pytest.mark.parametrize("side", ["reference", "current data"])
def test_an_empty_column_is_the_same_error_for_both_kinds(kind, side):
    full = [1.0, 2.0, 3.0] if kind == "numeric" else ["a", "b", "a"]
    empty = pd.Series([], dtype=float if kind == "numeric" else object)
    frames = [pd.DataFrame({"x": full}), pd.DataFrame({"x": empty})]  # (reference, current)
    if side == "reference":
        frames.reverse()
    with pytest.raises(ValueError, match=f"column 'x' has no values in the {side}"):
        _suite(*frames)


def test_every_test_refuses_an_empty_side():
    some, none = np.array([3.0, 1.0]), np.array([0.0, 0.0])
    for test in (chi2_test, jensenshannon_test, psi_categorical):
        with pytest.raises(ValueError, match="at least one value on each side"):
            test(some, none, 0.1)
    with pytest.raises(ValueError):
        ks_test(np.array([1.0]), np.array([]), 0.05)
    with pytest.raises(ValueError):
        wasserstein_test(np.array([]), np.array([1.0]), 1.0, 0.1)


def _frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame(
        {
            "stable": rng.normal(size=rows),
            "moved": rng.normal(size=rows),
            "level": rng.choice(list("abcd"), rows),
            "new_level": rng.choice(list("ab"), rows),
        }
    )
    current = pd.DataFrame(
        {
            "stable": rng.normal(size=rows),
            "moved": rng.normal(0.5, size=rows),
            "level": rng.choice(list("abcd"), rows),
            "new_level": rng.choice(list("abc"), rows),
        }
    )
    return reference, current


def test_run_suite_from_a_stored_profile_matches_scipy_column_by_column(tmp_path):
    reference, current = _frames(3000)
    path = tmp_path / "profile.npz"
    write_profile(path, FrameColumns(reference))
    current.to_parquet(tmp_path / "current.parquet")
    for profile in (read_profile(path), read_profile(profile_bytes(FrameColumns(reference)))):
        result = run_suite(profile, TableColumns(pa.Table.from_pandas(current)), SuiteSettings())
        by_name = {column.name: column for column in result.columns}
        for name in ("stable", "moved"):
            expected = stats.ks_2samp(reference[name], current[name])
            assert by_name[name].tests["ks"].p_value == pytest.approx(
                expected.pvalue, abs=TOLERANCE
            )
            assert set(by_name[name].tests) == {"ks", "psi", "wasserstein"}
        assert set(by_name["level"].tests) == {"chi2", "jensenshannon", "psi"}
        assert [c.name for c in result.columns if c.drifted] == ["moved", "new_level"]
        assert result.drifted_share == 0.5 and not result.dataset_drift  # drifts when share > 0.5
        assert by_name["moved"].distribution["reference"] and not by_name["stable"].distribution


def test_read_profile_refuses_other_files(tmp_path):
    bogus = tmp_path / "x.npz"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a reference profile"):
        read_profile(bogus)


# evidently, in its own venv --------------------------------------------------------------

BENCH_PYTHON = Path(os.environ.get("BENCH_PYTHON", ROOT / ".venv-bench" / "bin" / "python"))

# Runs in .venv-bench: evidently's own stat tests (with their decisions) and ours on the
# same generated cases and thresholds; prints one JSON record per (case, test).
EVIDENTLY_CASES = r"""
import json, warnings
import numpy as np, pandas as pd
warnings.filterwarnings("ignore")
from evidently.legacy.calculations.stattests import get_stattest
from evidently.legacy.core import ColumnType
from components.detect_drift.suite import (align_counts, chi2_test, jensenshannon_test, ks_test,
    psi_categorical, psi_numeric, quantile_edges, wasserstein_test)
from components.detect_drift.suite.numeric import bin_shares

rng = np.random.default_rng(2024)
out = []
numeric = [("none", 0.0, 1.0), ("shift", 0.3, 1.0), ("big shift", 1.0, 1.0), ("scale", 0.0, 1.6),
           ("tiny shift", 0.01, 1.0)]
for size in (200, 2000, 20000):
    for name, shift, scale in numeric:
        ref = pd.Series(rng.normal(0, 1, size)); cur = pd.Series(rng.normal(shift, scale, size))
        r, c = np.sort(ref.to_numpy()), np.sort(cur.to_numpy())
        ours = {
            "ks": ks_test(r, c, 0.05),
            "wasserstein": wasserstein_test(r, c, float(np.std(r)), 0.1),
            "psi": psi_numeric(bin_shares(r, quantile_edges(r, 10)), quantile_edges(r, 10), c, 0.2),
        }
        thresholds = {"ks": 0.05, "wasserstein": 0.1, "psi": 0.2}
        for test, outcome in ours.items():
            theirs = get_stattest(ref, cur, ColumnType.Numerical, test)(ref, cur, ColumnType.Numerical, thresholds[test])
            out.append({"case": f"numeric {name} n={size}", "test": test, "ours": outcome.drifted,
                        "theirs": bool(theirs.drifted), "ours_value": outcome.statistic if outcome.p_value is None else outcome.p_value,
                        "theirs_value": float(theirs.drift_score)})
categorical = [("same", list("abcd"), list("abcd"), 0.0), ("reweighted", list("abcd"), list("abcd"), 2.0),
               ("new category", list("abcd"), list("abcde"), 0.0), ("many levels", [f"v{i}" for i in range(30)],
               [f"v{i}" for i in range(30)], 4.0)]
for size in (300, 3000, 30000):
    for name, ref_levels, cur_levels, skew in categorical:
        w = np.linspace(1.0, 1.0 + skew, len(cur_levels))
        ref = pd.Series(rng.choice(ref_levels, size)); cur = pd.Series(rng.choice(cur_levels, size, p=w / w.sum()))
        rc, cc = ref.value_counts(), cur.value_counts()
        _, a, b = align_counts(list(rc.index), rc.to_numpy(), list(cc.index), cc.to_numpy())
        ours = {"chisquare": chi2_test(a, b, 0.05), "jensenshannon": jensenshannon_test(a, b, 0.1),
                "psi": psi_categorical(a, b, 0.1)}
        thresholds = {"chisquare": 0.05, "jensenshannon": 0.1, "psi": 0.1}
        for test, outcome in ours.items():
            theirs = get_stattest(ref, cur, ColumnType.Categorical, test)(ref, cur, ColumnType.Categorical, thresholds[test])
            out.append({"case": f"categorical {name} n={size}", "test": test, "ours": outcome.drifted,
                        "theirs": bool(theirs.drifted), "ours_value": outcome.statistic if outcome.p_value is None else outcome.p_value,
                        "theirs_value": float(theirs.drift_score)})
print(json.dumps(out))
"""


def _bench_python() -> Path:
    if not BENCH_PYTHON.exists():
        message = f"{BENCH_PYTHON} missing: run `make bench-venv` (make test does)"
        if os.environ.get("CI") or os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return BENCH_PYTHON


@pytest.fixture(scope="module")
def evidently_cases() -> list[dict]:
    done = subprocess.run(
        [str(_bench_python()), "-c", EVIDENTLY_CASES],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_decisions_agree_with_evidently(evidently_cases):
    """Same test, same threshold, same decision; one documented exception.

    evidently's ``chisquare`` is a goodness-of-fit test of the current counts against the
    reference shares taken as exact, ours (the course's) the homogeneity test of
    ``chi2_contingency``, which also counts the reference's sampling noise. They agree when
    there is drift; with none, evidently's fires more often than its alpha (on "same n=30000"
    here: p = 0.017), so on the no-drift cases we check only that ours does not fire.
    """
    assert len(evidently_cases) == 3 * 5 * 3 + 3 * 4 * 3
    no_drift = [
        c for c in evidently_cases if c["test"] == "chisquare" and " same " in f" {c['case']} "
    ]
    assert no_drift and not any(case["ours"] for case in no_drift)
    compared = [case for case in evidently_cases if case not in no_drift]
    disagreements = [case for case in compared if case["ours"] != case["theirs"]]
    assert not disagreements, json.dumps(disagreements, indent=1)
    # Both sides do find drift in some cases and not in others.
    assert {case["ours"] for case in evidently_cases} == {True, False}


def test_ks_and_wasserstein_values_equal_evidently(evidently_cases):
    for case in evidently_cases:
        if case["test"] in ("ks", "wasserstein", "jensenshannon") or (
            case["test"] == "psi" and case["case"].startswith("categorical")
        ):
            assert case["ours_value"] == pytest.approx(case["theirs_value"], rel=1e-9, abs=1e-12), (
                case
            )
