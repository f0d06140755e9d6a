"""Each stage's logic on a temporary local store with the course data."""

from __future__ import annotations

import pytest

from components.detect_drift.logic import detect_drift
from components.evaluate.logic import evaluate
from components.ingest.logic import ingest
from components.promote.logic import challenger_wins, promote
from components.select_data.logic import select_data, select_keys
from components.train.logic import build_estimator, train
from lifecycle import keys
from lifecycle.config import LifecycleConfig, ModelConfig, PromotionConfig, RetrainConfig
from lifecycle.datasets import read_dataset
from lifecycle.errors import DataValidationError, InvalidInputError
from lifecycle.history import decision_log, drift_log, evaluation_log
from lifecycle.registry import ModelRegistry
from lifecycle.store import LocalStore
from tests.helpers import COURSE, course_model_in_production, store_listing

CONFIG = LifecycleConfig()


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


@pytest.fixture
def trained(store):
    """The course's model 1.0, trained on data_init and in production."""
    return course_model_in_production(store)


def test_ingest_is_content_addressed_and_idempotent(store):
    first = ingest(store, str(COURSE / "batch_1.csv"), "batch_1", CONFIG.schema)
    again = ingest(store, str(COURSE / "batch_1.csv"), "batch_1", CONFIG.schema)
    assert first == again and first.rows == 10 and len(first.sha256) == 64
    assert read_dataset(store, first.key)["y"].iloc[0] == pytest.approx(21.9319483)


def test_ingest_reads_a_store_key_as_source(store):
    store.put_bytes("incoming/batch_2.csv", (COURSE / "batch_2.csv").read_bytes())
    assert ingest(store, "incoming/batch_2.csv", "batch_2", CONFIG.schema).rows == 10


def test_invalid_data_writes_nothing(store, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,oops\n")
    before = store_listing(store)
    with pytest.raises(DataValidationError, match="bad.csv: column 'y': non-numeric"):
        ingest(store, str(bad), "batch_1", CONFIG.schema)
    assert store_listing(store) == before


@pytest.mark.parametrize("name", ["../up", "a/b", "with space", "tab\there", ""])
def test_unsafe_dataset_names_are_refused(store, name):
    with pytest.raises(InvalidInputError, match="dataset name"):
        ingest(store, str(COURSE / "batch_1.csv"), name, CONFIG.schema)


def test_train_registers_metadata(trained):
    model, training, test = trained
    assert model.version == "1.0" and model.parent_version is None
    assert model.training_datasets == [{"key": training.key, "sha256": training.sha256}]
    assert model.test_metrics["RMSE"] == pytest.approx(0.14980651432944148, abs=1e-12)
    assert model.description.startswith("y = a*x + b")
    assert len(model.artifact_sha256) == 64


def test_estimator_and_hyperparameters_come_from_config(store, trained):
    _, training, _ = trained
    config = CONFIG.model_copy(
        update={
            "model": ModelConfig(
                name="course", estimator="sklearn.linear_model.Ridge", params={"alpha": 3.0}
            )
        }
    )
    model, description = train(store, config, [training.key])
    assert model.params["alpha"] == 3.0 and model.version == "1.1"
    with pytest.raises(InvalidInputError, match="model.params"):
        build_estimator(ModelConfig(params={"no_such": 1}), CONFIG.schema)
    with pytest.raises(InvalidInputError, match="not a regressor"):
        build_estimator(
            ModelConfig(estimator="sklearn.preprocessing.StandardScaler"), CONFIG.schema
        )


def test_evaluate_appends_records_experiences_and_views(store, trained):
    _, _, _ = trained
    batch = ingest(store, str(COURSE / "batch_3.csv"), "batch_3", CONFIG.schema)
    result = evaluate(store, CONFIG, "production", batch.key, "batch_3")
    assert result.version == "1.0"
    assert result.metrics["RMSE"] == pytest.approx(2.2681566497747356, abs=1e-9)
    records = [r for r in evaluation_log(store).records() if r["batch"] == "batch_3"]
    assert sorted(r["metric"] for r in records) == ["MAE", "RMSE", "r2"]
    experiences = store.list_keys(keys.experience_prefix("course", "1.0", "batch_3"))
    assert len(experiences) == 1
    view = store.get_bytes(keys.EVALUATION_VIEW).decode().splitlines()
    assert len(view) == 1 + 6 and view[0] == "time_stamp,version,batch,metric,score"


def test_detect_drift_logs_decisions_and_the_course_drift_log(store, trained):
    batch = ingest(store, str(COURSE / "batch_1.csv"), "batch_1", CONFIG.schema)
    evaluation = evaluate(store, CONFIG, "production", batch.key, "batch_1")
    decision = detect_drift(store, CONFIG, "1.0", batch.key, "batch_1", evaluation.time_stamp)
    # batch_1's RMSE 0.468 is worse than data_test's 0.150: the hard test fires.
    assert decision.flags["hard_test_RMSE"] and decision.drift and decision.previous_runs == 1
    assert decision.flags["ks_test_x"]  # x = 11..20 against 1..10
    assert [d["kind"] for d in decision_log(store).records()] == ["drift"]
    drift_view = store.get_bytes(keys.DRIFT_VIEW).decode().splitlines()
    assert drift_view[0].startswith(
        "time_stamp,model_name,hard_test_RMSE,hard_test_r2,param_test_RMSE,param_test_r2,iqr_test_RMSE,iqr_test_r2"
    )
    assert len(drift_log(store).records()) == 1


def test_without_previous_values_no_history_test_fires(store, trained):
    config = CONFIG.model_copy(update={"drift": CONFIG.drift.model_copy(update={"data_tests": ()})})
    registry = ModelRegistry(store, config.model.name)
    _, training, _ = trained
    fresh, _ = train(store, config, [training.key])
    registry.set_alias(fresh.version)
    batch = ingest(store, str(COURSE / "batch_1.csv"), "batch_1", config.schema)
    evaluation = evaluate(store, config, "production", batch.key, "batch_1")
    decision = detect_drift(
        store, config, fresh.version, batch.key, "batch_1", evaluation.time_stamp
    )
    assert not any(decision.flags.values()) and not decision.drift


def test_select_data_policies(store, trained):
    model, training, _ = trained
    batches = [
        ingest(store, str(COURSE / f"batch_{i}.csv"), f"batch_{i}", CONFIG.schema)
        for i in (1, 2, 3)
    ]
    for batch in batches:
        evaluate(store, CONFIG, "production", batch.key, batch.name)
    records = evaluation_log(store).records()
    assert select_keys(model, records, RetrainConfig()) == [training.key] + [b.key for b in batches]
    assert select_keys(model, records, RetrainConfig(policy="last_n", last_n=2)) == [
        b.key for b in batches[1:]
    ]
    selected = select_data(store, CONFIG, model.version)
    assert selected.rows == 40


def test_select_data_ignores_another_models_batches(store, trained):
    model, training, _ = trained
    other = CONFIG.model_copy(update={"model": CONFIG.model.model_copy(update={"name": "other"})})
    other_training = ingest(store, str(COURSE / "batch_5.csv"), "other_train", other.schema)
    other_model, _ = train(store, other, [other_training.key])
    ModelRegistry(store, "other").set_alias(other_model.version)
    foreign = ingest(store, str(COURSE / "batch_6.csv"), "batch_6", other.schema)
    evaluate(store, other, "production", foreign.key, "batch_6")
    own = ingest(store, str(COURSE / "batch_1.csv"), "batch_1", CONFIG.schema)
    evaluate(store, CONFIG, "production", own.key, "batch_1")
    selected = select_data(store, CONFIG, model.version)
    assert selected.source == f"{training.key} + {own.key}"


def test_promote_keeps_a_worse_challenger_out(store, trained):
    model, training, _ = trained
    batch = ingest(store, str(COURSE / "batch_6.csv"), "batch_6", CONFIG.schema)
    retrained = select_data(store, CONFIG, model.version)
    evaluate(store, CONFIG, "production", batch.key, "batch_6")
    challenger, _ = train(store, CONFIG, [retrained.key, batch.key], parent_version=model.version)
    better = promote(store, CONFIG, challenger.version, model.version, batch.key, "batch_6")
    assert better.promoted and ModelRegistry(store, "course").alias() == challenger.version
    # Now 1.0 challenges 1.1 on batch_6: far worse, so 1.1 stays.
    worse = promote(store, CONFIG, model.version, challenger.version, batch.key, "batch_6")
    assert not worse.promoted and worse.production == challenger.version
    assert "worse than" in worse.reason
    kinds = [d["decision"] for d in decision_log(store).records() if d["kind"] == "promotion"]
    assert kinds == ["promoted", "kept champion"]


@pytest.mark.parametrize(
    ("challenger", "champion", "metric", "tolerance", "expected"),
    [
        (1.0, 1.0, "RMSE", 0.0, True),
        (1.05, 1.0, "RMSE", 0.0, False),
        (1.05, 1.0, "RMSE", 0.1, True),
        (0.9, 0.95, "r2", 0.0, False),
        (0.96, 0.95, "r2", 0.0, True),
    ],
)
def test_challenger_wins_when_not_worse(challenger, champion, metric, tolerance, expected):
    assert (
        challenger_wins(challenger, champion, PromotionConfig(metric=metric, tolerance=tolerance))
        is expected
    )
