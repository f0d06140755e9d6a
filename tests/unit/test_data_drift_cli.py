"""`lifecycle data-drift` on files: input checks (one line, exit 2), times compared as times,
profiles written and reused, the multiple-testing correction, and lazy imports."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli.main import main

ROWS = 3000


def tables(seed: int = 7, drift: float = 0.0):
    """Reference and current: numbers, a category, a time; drift shifts x and the times."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 1, 1)

    def table(shift: float) -> pa.Table:
        days = rng.integers(0, 30, ROWS) + int(shift * 20)
        return pa.table(
            {
                "x": rng.normal(size=ROWS) + shift,
                "n": rng.integers(0, 100, ROWS),
                "c": rng.choice(["a", "b", "c"], ROWS),
                "t": pa.array([start + dt.timedelta(days=int(d)) for d in days], pa.timestamp("s")),
            }
        )

    return table(0.0), table(drift)


def write(path, table: pa.Table) -> str:
    if str(path).endswith(".csv"):
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    else:
        pq.write_table(table, path)
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["data-drift", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "", (out, err)
    assert err.startswith("error: data-drift: ") and err.count("\n") == 1, err
    return err


@pytest.fixture(params=["csv", "parquet"])
def files(request, tmp_path):
    reference, current = tables(drift=0.5)
    suffix = request.param
    return (
        write(tmp_path / f"reference.{suffix}", reference),
        write(tmp_path / f"current.{suffix}", current),
    )


def test_kinds_and_drift_are_found_in_both_formats(files, capsys):
    reference, current = files
    code, out, _ = run(capsys, "--reference", reference, "--current", current, "--json")
    assert code == 0
    result = json.loads(out)
    kinds = {c["name"]: c["kind"] for c in result["columns"]}
    assert kinds == {"x": "numeric", "n": "numeric", "c": "categorical", "t": "numeric"}
    drifted = {c["name"] for c in result["columns"] if c["drifted"]}
    assert drifted == {"x", "t"}  # the times are compared as times: shifted by 10 days


def test_different_columns_are_named_and_refused_unless_shared_columns(tmp_path, capsys):
    reference, current = tables()
    ref = write(tmp_path / "r.parquet", reference)
    changed = current.drop_columns(["n"]).append_column("z", current["x"])
    cur = write(tmp_path / "c.parquet", changed)
    error = refused(capsys, "--reference", ref, "--current", cur)
    assert f"{cur} lacks 'n'" in error and f"{cur} has 'z', not in {ref}" in error
    assert "--shared-columns" in error
    code, out, _ = run(capsys, "--reference", ref, "--current", cur, "--shared-columns", "--json")
    assert code == 0 and [c["name"] for c in json.loads(out)["columns"]] == ["x", "c", "t"]


@pytest.mark.parametrize("side", ["reference", "current"])
@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_column_without_values_is_named(tmp_path, capsys, side, suffix):
    reference, current = tables()
    empty = pa.nulls(ROWS, pa.float64())
    if side == "reference":
        reference = reference.set_column(0, "x", empty)
    else:
        current = current.set_column(0, "x", empty)
    ref = write(tmp_path / f"r.{suffix}", reference)
    cur = write(tmp_path / f"c.{suffix}", current)
    error = refused(capsys, "--reference", ref, "--current", cur)
    assert "column 'x'" in error and "no values" in error
    assert (ref if side == "reference" else cur) in error


def test_a_column_of_nan_only_is_named(tmp_path, capsys):
    reference, current = tables()
    current = current.set_column(0, "x", pa.array(np.full(ROWS, np.nan)))
    cur = write(tmp_path / "c.parquet", current)
    error = refused(
        capsys, "--reference", write(tmp_path / "r.parquet", reference), "--current", cur
    )
    assert f"column 'x' of {cur} has no values (all missing)" in error


@pytest.mark.parametrize(
    ("replacement", "kinds"),
    [
        (pa.array(["v"] * ROWS), "number in {ref} but text in {cur}"),
        (
            pa.array([dt.datetime(2026, 1, 1)] * ROWS, pa.timestamp("s", tz="UTC")),
            "datetime in {ref} but datetime (timezone-aware) in {cur}",
        ),
    ],
)
def test_a_column_holding_another_kind_of_values_is_named(tmp_path, capsys, replacement, kinds):
    reference, current = tables()
    column = "x" if pa.types.is_string(replacement.type) else "t"
    index = current.column_names.index(column)
    current = current.set_column(index, column, replacement)
    ref = write(tmp_path / "r.parquet", reference)
    cur = write(tmp_path / "c.parquet", current)
    error = refused(capsys, "--reference", ref, "--current", cur)
    assert f"column {column!r}: {kinds.format(ref=ref, cur=cur)}" in error


def test_missing_files_and_bad_arguments_are_one_line(tmp_path, capsys):
    reference = write(tmp_path / "r.parquet", tables()[0])
    assert "no such file" in refused(
        capsys, "--reference", reference, "--current", str(tmp_path / "none.csv")
    )
    refused(capsys, "--reference", reference)  # neither --current nor --write-profile
    assert "one of --reference and --reference-profile" in refused(capsys, "--current", reference)
    profile = str(tmp_path / "p.npz")
    run(capsys, "--reference", reference, "--write-profile", profile)
    assert "--write-profile writes the profile of a --reference file" in refused(
        capsys, "--reference-profile", profile, "--current", reference, "--write-profile", "x"
    )
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    assert "not a readable" in refused(
        capsys, "--reference", reference, "--current", str(tmp_path / "bad.parquet")
    )


def test_a_written_profile_gives_the_same_result_as_the_file(files, tmp_path, capsys):
    reference, current = files
    profile = str(tmp_path / "reference.npz")
    code, _, err = run(capsys, "--reference", reference, "--write-profile", profile)
    assert code == 0 and f"wrote the reference profile to {profile}" in err
    _, from_file, _ = run(capsys, "--reference", reference, "--current", current, "--json")
    _, from_profile, _ = run(capsys, "--reference-profile", profile, "--current", current, "--json")
    assert json.loads(from_profile) == json.loads(from_file)


def test_a_profile_keeps_the_kinds_of_values_it_saw(tmp_path, capsys):
    reference, current = tables()
    profile = str(tmp_path / "p.npz")
    run(capsys, "--reference", write(tmp_path / "r.parquet", reference), "--write-profile", profile)
    current = current.set_column(3, "t", pa.array(np.arange(ROWS, dtype=float)))
    error = refused(
        capsys, "--reference-profile", profile, "--current", write(tmp_path / "c.parquet", current)
    )
    assert f"column 't': datetime in {profile} but number in" in error


def wide_files(tmp_path, columns: int = 200, seed: int = 1):
    rng = np.random.default_rng(seed)
    names = [f"u{i:03d}" for i in range(columns)]
    reference = pa.table({name: rng.normal(size=2000) for name in names})
    current = pa.table({name: rng.normal(size=2000) for name in names})
    return write(tmp_path / "r.parquet", reference), write(tmp_path / "c.parquet", current)


def test_bh_is_the_default_and_the_threshold_is_shown(tmp_path, capsys):
    ref, cur = wide_files(tmp_path)
    code, out, _ = run(capsys, "--reference", ref, "--current", cur, "--json")
    result = json.loads(out)
    assert code == 0 and result["correction"] == "bh" and result["p_value_tests"] == 200
    assert not any(c["drifted"] for c in result["columns"])
    assert result["thresholds"]["ks"] == pytest.approx(0.05 / 200)
    _, plain, _ = run(
        capsys, "--reference", ref, "--current", cur, "--json", "--correction", "none"
    )
    assert sum(c["drifted"] for c in json.loads(plain)["columns"]) >= 3  # about 10 = 5% of 200
    _, table, _ = run(capsys, "--reference", ref, "--current", cur)
    assert "threshold" in table.splitlines()[0]
    summary = "multiple testing: Benjamini-Hochberg over 200 p-value tests at 0.05: ks p < 0.00025"
    assert summary in table


def test_a_config_file_that_sets_the_correction_is_followed(tmp_path, capsys):
    ref, cur = wide_files(tmp_path, columns=20)
    config = tmp_path / "c.yaml"
    config.write_text("drift:\n  correction: bonferroni\n")
    _, out, _ = run(capsys, "--reference", ref, "--current", cur, "--json", "--config", str(config))
    assert json.loads(out)["correction"] == "bonferroni"
    config.write_text("drift:\n  p_value: 0.01\n")  # no correction key: data-drift's default
    _, out, _ = run(capsys, "--reference", ref, "--current", cur, "--json", "--config", str(config))
    assert json.loads(out)["correction"] == "bh"
    assert json.loads(out)["thresholds"]["ks"] == pytest.approx(0.01 / 20)


def test_the_command_imports_neither_pandas_nor_the_model_or_pipeline_stack(tmp_path):
    ref, cur = wide_files(tmp_path, columns=3)
    code = (
        "import sys, contextlib, io\n"
        "from cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['data-drift', '--reference', {ref!r}, '--current', {cur!r}]) == 0\n"
        "heavy = ('pandas', 'matplotlib', 'sklearn', 'kfp', 'minio')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_columns_in_parallel_threads_give_the_same_result(files):
    from components.detect_drift.suite import SuiteSettings, build_profile, run_suite
    from components.detect_drift.suite.files import open_data_file

    reference, current = (open_data_file(path) for path in files)
    results = []
    for workers in (1, 2, 4):
        profile = build_profile(reference.columns, reference.kinds, workers=workers)
        results.append(
            run_suite(profile, current.columns, SuiteSettings(), workers=workers).to_dict()
        )
    assert results[0] == results[1] == results[2]
