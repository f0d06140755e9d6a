"""The reference profile: written by train(), read by detect_drift() instead of training data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from components.detect_drift.logic import detect_drift
from components.detect_drift.suite import read_profile
from components.detect_drift.suite.reference import PREDICTION_COLUMN, prediction_column
from components.evaluate.logic import evaluate
from components.ingest.logic import ingest
from lifecycle import keys
from lifecycle.config import ColumnSpec, LifecycleConfig, SchemaConfig
from lifecycle.datasets import read_dataset
from lifecycle.history import evaluation_log
from lifecycle.registry import ModelRegistry
from lifecycle.store import LocalStore
from tests.helpers import COURSE, committed, course_model_in_production

CONFIG = LifecycleConfig()


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


@pytest.fixture
def trained(store):
    model, training, _ = course_model_in_production(store)
    return model, training


def _check(store, batch_name: str, config: LifecycleConfig = CONFIG):
    """One monitoring run's ingest, evaluate and detect_drift, as one committed run."""

    def work(tx):
        path = str(COURSE / f"{batch_name}.csv")
        batch = ingest(store, path, batch_name, config.schema, tx.task("ingest"))
        evaluation = evaluate(
            store, config, "production", batch.key, batch_name, "monitor", tx.task("evaluate")
        )
        decision = detect_drift(
            store, config, "1.0", batch.key, batch_name, evaluation.time_stamp, tx.task("drift")
        )
        return batch, decision

    return committed(store, work, config)


def test_train_stores_the_profile_of_features_target_and_predictions(store, trained):
    model, training = trained
    profile = read_profile(store.get_bytes(keys.model_profile_key("course", model.version)))
    assert {name: info.role for name, info in profile.columns.items()} == {
        "x": "feature",
        "y": "target",
        PREDICTION_COLUMN: "prediction",
    }
    frame = read_dataset(store, training.key)
    assert profile.numeric("x").sorted.tolist() == sorted(frame["x"])
    assert profile.numeric("y").std == pytest.approx(float(np.std(frame["y"])))
    estimator, _ = ModelRegistry(store, "course").load_artifact(model.version)
    predictions = estimator.predict(frame[["x"]])
    assert profile.numeric(PREDICTION_COLUMN).sorted == pytest.approx(np.sort(predictions))


def test_the_profile_is_written_before_the_version_becomes_visible(store, monkeypatch):
    written: list[str] = []
    for method in ("put_bytes", "put_file"):  # the profile is streamed from a file
        original = getattr(store, method)
        monkeypatch.setattr(
            store,
            method,
            lambda key, data, *rest, original=original, **options: (
                written.append(key) or original(key, data, *rest, **options)
            ),
        )
    model, _, _ = course_model_in_production(store)
    prefix = keys.model_version_prefix("course", model.version)
    assert written.index(prefix + keys.PROFILE_FILE) < written.index(prefix + keys.META_FILE)


@pytest.mark.parametrize("mapped", [True, False], ids=["local-file-mapped", "bytes"])
def test_detect_drift_reads_the_profile_not_the_training_data(store, trained, monkeypatch, mapped):
    from components.detect_drift.suite import reference

    _, training = trained
    read, profiles = [], []
    original = store.get_bytes
    monkeypatch.setattr(store, "get_bytes", lambda key: read.append(key) or original(key))
    original_read_profile = reference.read_profile
    monkeypatch.setattr(
        reference,
        "read_profile",
        lambda source: profiles.append(source) or original_read_profile(source),
    )
    if not mapped:  # as on MinIO: the profile's bytes
        monkeypatch.setattr(store, "local_path", lambda key: None)
    _, decision = _check(store, "batch_1")
    assert training.key not in read
    key = keys.model_profile_key("course", "1.0")
    if mapped:  # a local store's profile file is memory-mapped, never read whole
        assert profiles == [store.root / key] and key not in read
    else:
        assert isinstance(profiles[0], bytes) and key in read
    assert "ks_test_x" in decision.flags


@pytest.mark.parametrize("batch_name", ["batch_1", "batch_3", "batch_6"])
def test_flags_are_the_course_ones_with_the_same_values_as_before(store, trained, batch_name):
    _, training = trained
    batch, decision = _check(store, batch_name)
    data_flags = {name for name in decision.flags if name.startswith(("ks_", "chi2_"))}
    assert data_flags == {"ks_test_x", "ks_test_y"}
    reference, current = read_dataset(store, training.key), read_dataset(store, batch.key)
    for column in ("x", "y"):
        expected = stats.ks_2samp(reference[column], current[column])
        name = f"ks_test_{column}"
        assert decision.flags[name] == bool(expected.pvalue < CONFIG.drift.p_value)
        assert decision.statistics[name]["p_value"] == pytest.approx(expected.pvalue, abs=1e-12)
        assert decision.statistics[name]["statistic"] == pytest.approx(
            expected.statistic, abs=1e-12
        )
    # The other statistics are logged, not flags.
    for name in (
        "psi_test_x",
        "wasserstein_test_y",
        f"ks_test_{PREDICTION_COLUMN}",
        "dataset_drift",
    ):
        assert name in decision.statistics and name not in decision.flags


def test_drifted_columns_carry_their_distributions(store, trained):
    _, decision = _check(store, "batch_6")
    assert decision.flags["ks_test_x"]
    plot = decision.distributions["x"]
    assert sum(plot["reference"]) == 10 and sum(plot["current"]) == 10
    assert len(plot["edges"]) == len(plot["reference"]) + 1


def test_a_model_without_a_profile_gets_one_computed_and_stored(store, trained):
    key = keys.model_profile_key("course", "1.0")
    store.delete(key)
    _, decision = _check(store, "batch_1")
    assert store.exists(key) and "ks_test_x" in decision.flags


def test_prediction_and_dataset_flags_are_opt_in(store, trained):
    drift = CONFIG.drift.model_copy(
        update={"prediction_flags": True, "dataset_flag": True, "data_tests": ("ks", "psi")}
    )
    _, decision = _check(store, "batch_6", CONFIG.model_copy(update={"drift": drift}))
    assert {"ks_test_prediction", "psi_test_x", "dataset_drift"} <= set(decision.flags)
    assert decision.flags["dataset_drift"]


def test_the_prediction_column_never_collides_with_the_schema():
    schema = SchemaConfig(features=(ColumnSpec(name="prediction"),), target=ColumnSpec(name="y"))
    assert prediction_column(LifecycleConfig(schema=schema)) == "prediction_"


def test_decision_and_scenario_reports_render(store, trained, tmp_path):
    from components.detect_drift.report import render_decision_html
    from pipelines.report import write_scenario_report

    _, decision = _check(store, "batch_6")
    page = render_decision_html(store, CONFIG, decision)
    assert page.count("<img") >= 3 and "x distribution" in page and "psi_test_x" in page
    path = write_scenario_report(store, CONFIG, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert "Metric history per model version" in text and "batch_6" in text and "<img" in text


def test_the_history_charts_mark_every_drift_and_draw_the_enabled_tests_only(
    store, trained, monkeypatch
):
    from components.detect_drift import report

    drift = CONFIG.drift.model_copy(update={"history_tests": ("param", "fixed", "worst")})
    config = CONFIG.model_copy(update={"drift": drift})
    decisions = [_check(store, f"batch_{i}", config)[1] for i in range(1, 7)]
    assert any(d.drift for d in decisions[:-1]), "the scenario has earlier drifts"
    charts = []
    original = report.metric_history_png
    monkeypatch.setattr(
        report,
        "metric_history_png",
        lambda *args: charts.append(args) or original(*args),
    )
    page = report.render_decision_html(store, config, decisions[-1])
    assert [chart[1] for chart in charts] == ["RMSE", "r2"] and page.count("<img") >= 2
    for scores, metric, thresholds, drift_points, labels in charts:
        # The test evaluation, then the six monitoring runs; the last is this one.
        assert labels == ["test"] + [f"batch_{i}" for i in range(1, 7)]
        assert drift_points == [i + 1 for i, d in enumerate(decisions) if d.drift]
        assert [test for test, _, _ in thresholds] == ["param", "worst", "fixed"]
        fixed = next(value for test, _, value in thresholds if test == "fixed")
        assert fixed == drift.fixed_thresholds[metric]
        assert scores[-1] == next(
            r["score"]
            for r in evaluation_log(store).records()
            if r["time_stamp"] == decisions[-1].evaluation_time and r["metric"] == metric
        )


@pytest.mark.parametrize("correction", ["none", "bh", "bonferroni"])
def test_the_corrected_thresholds_are_logged_and_shown(store, trained, correction):
    from components.detect_drift.report import render_decision_html

    config = CONFIG.model_copy(
        update={"drift": CONFIG.drift.model_copy(update={"correction": correction})}
    )
    _, decision = _check(store, "batch_6", config)
    # Three p-value tests: KS of x, y and the predictions (there is no categorical column).
    expected = {"none": 0.05, "bonferroni": 0.05 / 3, "bh": 0.05 * 3 / 3}[correction]
    for name in ("ks_test_x", "ks_test_y", "ks_test_prediction"):
        assert decision.statistics[name]["threshold"] == pytest.approx(expected)
        assert decision.flags.get(name, True) == (decision.statistics[name]["p_value"] < expected)
    assert decision.statistics["psi_test_x"]["threshold"] == config.drift.psi_threshold
    page = render_decision_html(store, config, decision)
    name = {"none": "none", "bh": "Benjamini–Hochberg", "bonferroni": "Bonferroni"}[correction]
    assert f"Multiple-testing correction of the data tests: {name}; " in page
    assert f"p &lt; {expected:.4g}" in page and "<th>threshold</th>" in page
