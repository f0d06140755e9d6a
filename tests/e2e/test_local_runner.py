"""Whole pipelines on KFP's local runner (subprocess runner, this environment)."""

from __future__ import annotations

import contextlib
import io

import pytest

from cli.main import main
from lifecycle import keys
from lifecycle.config import LifecycleConfig
from lifecycle.history import decision_log, drift_log, evaluation_log
from lifecycle.registry import ModelRegistry
from lifecycle.store import LocalStore
from pipelines.summary import batch_outcomes
from tests.helpers import PNG_SIGNATURE, assert_docs_quote, docs_results, store_listing

pytestmark = pytest.mark.e2e


def run_cli(*argv: str) -> tuple[int, str]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(list(argv))
    return code, output.getvalue()


@pytest.fixture(scope="module")
def course_run(tmp_path_factory) -> tuple[LocalStore, str]:
    """The course scenario as `make run` plays it (the served segment too), once per module."""
    folder = tmp_path_factory.mktemp("course")
    root = folder / "store"
    code, printed = run_cli(
        "scenario", "course", "--store", str(root), "--report", str(folder / "report.html")
    )
    assert code == 0, printed[-3000:]
    return LocalStore(root), printed


def test_the_scenario_prints_one_row_per_batch(course_run):
    _, printed = course_run
    table = printed[printed.index("Scenario 'course'") :].splitlines()
    header = next(line for line in table if line.startswith("batch "))
    assert header.split()[:10] == [
        "batch",
        "model",
        "RMSE",
        "R2",
        "hard_test_RMSE",
        "hard_test_r2",
        "param_test_RMSE",
        "param_test_r2",
        "iqr_test_RMSE",
        "iqr_test_r2",
    ]
    rows = [line for line in table if line.startswith("batch_")]
    assert [row.split()[0] for row in rows] == [f"batch_{i}" for i in range(1, 7)]


def test_model_1_0_scores_batch_1_as_in_the_course(course_run):
    store, _ = course_run
    first = batch_outcomes(store, "course")[0]
    assert first.model_version == "1.0"
    assert first.rmse == pytest.approx(0.46799902069353716, abs=1e-9)
    assert first.r2 == pytest.approx(0.9918701843976986, abs=1e-9)


def test_each_drift_retrains_the_next_minor_version_and_promotes_it(course_run):
    store, _ = course_run
    outcomes = batch_outcomes(store, "course")
    registry = ModelRegistry(store, "course")
    assert registry.versions() == [f"1.{i}" for i in range(7)]
    for number, outcome in enumerate(outcomes):
        assert outcome.drift  # the KS test on x fires on every batch: x keeps growing
        assert outcome.model_version == f"1.{number}"
        assert outcome.new_version == f"1.{number + 1}" and outcome.promoted
        assert registry.get(outcome.new_version).parent_version == outcome.model_version
    assert registry.alias() == "1.6"


def test_histories_hold_every_record_and_their_views(course_run):
    store, _ = course_run
    evaluations = evaluation_log(store).records()
    # test set: 3 metrics; each batch: champion and challenger, 3 metrics each.
    assert len(evaluations) == 3 + 6 * 2 * 3
    view = store.get_bytes(keys.EVALUATION_VIEW).decode().strip().splitlines()
    assert len(view) == 1 + len(evaluations)
    assert len(drift_log(store).records()) == 6
    kinds = [record["kind"] for record in decision_log(store).records()]
    assert kinds.count("drift") == 6 and kinds.count("promotion") == 7


def test_retraining_uses_the_training_data_and_every_batch_since(course_run):
    store, _ = course_run
    registry = ModelRegistry(store, "course")
    last = registry.get("1.6")
    from lifecycle.datasets import dataset_ref

    # The datasets themselves, referenced in order (select_data copies nothing).
    refs = [dataset_ref(store, key) for key in last.training_keys]
    assert [ref.name for ref in refs] == ["train"] + [f"batch_{i}" for i in range(1, 7)]
    assert sum(ref.rows for ref in refs) == 10 + 6 * 10


def test_the_docs_quote_this_run(course_run, tmp_path):
    """docs/ quotes the numbers of a fresh run, and every picture draws from it."""
    store, _ = course_run
    assert_docs_quote(store)
    results = docs_results()
    for draw in (results.plot_data_and_models, results.plot_report):
        assert draw(store, LifecycleConfig(), tmp_path).read_bytes().startswith(PNG_SIGNATURE)


def test_a_second_scenario_needs_reset(course_run):
    store, _ = course_run
    code, _ = run_cli("scenario", "course", "--store", store.uri, "--report", "unused.html")
    assert code == 1


def test_a_bad_batch_fails_the_run_and_changes_nothing(course_run, tmp_path):
    store, _ = course_run
    bad = tmp_path / "batch_bad.csv"
    bad.write_text("x,y\n1,2\n2,not-a-number\n")
    before = store_listing(store)
    code, _ = run_cli(
        "monitor", "--batch-file", str(bad), "--batch-id", "batch_7", "--store", store.uri
    )
    assert code != 0
    assert store_listing(store) == before


def test_the_diabetes_scenario_runs_through_the_same_pipelines(tmp_path):
    from pipelines.local import run_monitoring, run_training
    from pipelines.scenarios.diabetes import diabetes_scenario

    plan = diabetes_scenario(tmp_path)
    store = LocalStore(tmp_path / "store")
    run_training(str(plan.training_file), str(plan.test_file), store.uri, plan.config)
    calm_id, calm = plan.batches[0]
    drifted_id, drifted = plan.batches[-1]
    run_monitoring(str(calm), calm_id, store.uri, plan.config)
    run_monitoring(str(drifted), drifted_id, store.uri, plan.config)
    first, last = batch_outcomes(store, "diabetes")
    assert not first.drift and first.new_version is None
    assert last.drift and last.flags["ks_test_bmi"] and last.new_version
    assert ModelRegistry(store, "diabetes").get("1.0").features[:3] == ["age", "sex", "bmi"]
