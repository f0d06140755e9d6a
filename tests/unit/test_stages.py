"""Each stage's logic on a temporary local store with the course data.

Each stage call is a run of its own, committed when it returns (:func:`tests.helpers.committed`),
as the command line runs a stage.
"""

from __future__ import annotations

import pytest

from components.detect_drift.logic import detect_drift
from components.evaluate.logic import evaluate
from components.finalize.logic import promotion_contribution
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
from lifecycle.runs import RunContext
from lifecycle.store import LocalStore
from tests.helpers import COURSE, committed, course_model_in_production, store_listing

CONFIG = LifecycleConfig()


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


@pytest.fixture
def trained(store):
    """The course's model 1.0, trained on data_init and in production."""
    return course_model_in_production(store)


def _ingest(store, name: str, dataset: str | None = None, config: LifecycleConfig = CONFIG):
    path = str(COURSE / f"{name}.csv")
    return committed(
        store,
        lambda tx: ingest(store, path, name if dataset is None else dataset, config.schema, tx.run),
    )


def _evaluate(store, batch, config: LifecycleConfig = CONFIG, version: str = "production"):
    return committed(
        store,
        lambda tx: evaluate(store, config, version, batch.key, batch.name, "monitor", tx.run),
        config,
    )


def _train(store, config, training_keys, test_key=None, parent=None):
    def work(tx):
        model, description = train(store, config, training_keys, test_key, parent, tx.run)
        tx.contribute({"registered": [model.version]})
        return model, description

    return committed(store, work, config)


def _promote(store, challenger: str, champion: str, batch, config: LifecycleConfig = CONFIG):
    def work(tx):
        decided = promote(store, config, challenger, champion, batch.key, batch.name, tx.run)
        tx.contribute(promotion_contribution(decided))
        return tx

    return committed(store, work, config).commit.promotion


def test_ingest_is_content_addressed_and_idempotent(store):
    first = _ingest(store, "batch_1")
    again = _ingest(store, "batch_1")
    assert first == again and first.rows == 10 and len(first.sha256) == 64
    assert read_dataset(store, first.key)["y"].iloc[0] == pytest.approx(21.9319483)


def test_ingest_reads_a_store_key_as_source(store):
    store.put_bytes("incoming/batch_2.csv", (COURSE / "batch_2.csv").read_bytes())
    ref = committed(
        store, lambda tx: ingest(store, "incoming/batch_2.csv", "batch_2", CONFIG.schema, tx.run)
    )
    assert ref.rows == 10


def test_invalid_data_writes_nothing(store, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,oops\n")
    before = store_listing(store)
    with pytest.raises(DataValidationError, match="bad.csv: column 'y': non-numeric"):
        committed(store, lambda tx: ingest(store, str(bad), "batch_1", CONFIG.schema, tx.run))
    assert store_listing(store) == before


@pytest.mark.parametrize("name", ["../up", "a/b", "with space", "tab\there", ""])
def test_unsafe_dataset_names_are_refused(store, name):
    with pytest.raises(InvalidInputError, match="dataset name"):
        _ingest(store, "batch_1", dataset=name)


def test_train_registers_metadata(trained):
    model, training, test = trained
    assert model.version == "1.0" and model.parent_version is None
    assert model.training_datasets == [{"key": training.key, "sha256": training.sha256}]
    assert model.test_metrics["RMSE"] == pytest.approx(0.14980651432944148, abs=1e-12)
    assert model.description.startswith("y = a*x + b")
    assert len(model.artifact_sha256) == 64
    assert model.run_id and model.task == "train"


def test_estimator_and_hyperparameters_come_from_config(store, trained):
    _, training, _ = trained
    config = CONFIG.model_copy(
        update={
            "model": ModelConfig(
                name="course", estimator="sklearn.linear_model.Ridge", params={"alpha": 3.0}
            )
        }
    )
    model, description = _train(store, config, [training.key])
    assert model.params["alpha"] == 3.0 and model.version == "1.1"
    with pytest.raises(InvalidInputError, match="model.params"):
        build_estimator(ModelConfig(params={"no_such": 1}), CONFIG.schema)
    with pytest.raises(InvalidInputError, match="not a regressor"):
        build_estimator(
            ModelConfig(estimator="sklearn.preprocessing.StandardScaler"), CONFIG.schema
        )


def test_evaluate_appends_records_experiences_and_views(store, trained):
    batch = _ingest(store, "batch_3")
    result = _evaluate(store, batch)
    assert result.version == "1.0"
    assert result.metrics["RMSE"] == pytest.approx(2.2681566497747356, abs=1e-9)
    records = [r for r in evaluation_log(store).records() if r["batch"] == "batch_3"]
    assert sorted(r["metric"] for r in records) == ["MAE", "RMSE", "r2"]
    assert len({r["run_id"] for r in records}) == 1
    experiences = [k for k in store.list_keys(keys.EXPERIENCES) if "/batch_3/" in k]
    assert len(experiences) == 1 and records[0]["run_id"] in experiences[0]
    view = store.get_bytes(keys.EVALUATION_VIEW).decode().splitlines()
    assert len(view) == 1 + 6 and view[0] == "time_stamp,version,batch,metric,score"


def test_detect_drift_logs_decisions_and_the_course_drift_log(store, trained):
    batch = _ingest(store, "batch_1")
    evaluation = _evaluate(store, batch)
    decision = committed(
        store,
        lambda tx: detect_drift(
            store, CONFIG, "1.0", batch.key, "batch_1", evaluation.time_stamp, tx.run
        ),
    )
    # batch_1's RMSE 0.468 is worse than data_test's 0.150: the hard test fires.
    assert decision.flags["hard_test_RMSE"] and decision.drift and decision.previous_runs == 1
    assert decision.flags["ks_test_x"]  # x = 11..20 against 1..10
    kinds = [d["kind"] for d in decision_log(store).records()]
    assert kinds == ["promotion", "drift"]  # 1.0's promotion by course_model_in_production
    drift_view = store.get_bytes(keys.DRIFT_VIEW).decode().splitlines()
    assert drift_view[0].startswith(
        "time_stamp,model_name,hard_test_RMSE,hard_test_r2,param_test_RMSE,param_test_r2,iqr_test_RMSE,iqr_test_r2"
    )
    assert len(drift_log(store).records()) == 1


def test_without_previous_values_no_history_test_fires(store, trained):
    config = CONFIG.model_copy(update={"drift": CONFIG.drift.model_copy(update={"data_tests": ()})})
    _, training, test = trained
    fresh, _ = _train(store, config, [training.key])
    assert _promote(store, fresh.version, "production", test, config)["decision"] == "promoted"
    batch = _ingest(store, "batch_1")
    evaluation = _evaluate(store, batch, config)
    decision = committed(
        store,
        lambda tx: detect_drift(
            store, config, fresh.version, batch.key, "batch_1", evaluation.time_stamp, tx.run
        ),
        config,
    )
    assert not any(decision.flags.values()) and not decision.drift


def test_select_data_policies(store, trained):
    model, training, _ = trained
    batches = [_ingest(store, f"batch_{i}") for i in (1, 2, 3)]
    for batch in batches:
        _evaluate(store, batch)
    records = evaluation_log(store).records()
    assert select_keys(model, records, RetrainConfig()) == [training.key] + [b.key for b in batches]
    assert select_keys(model, records, RetrainConfig(policy="last_n", last_n=2)) == [
        b.key for b in batches[1:]
    ]
    stored = store.list_keys("datasets/")
    selected = committed(store, lambda tx: select_data(store, CONFIG, model.version, tx.run))
    # Referenced, not copied: the datasets themselves, and nothing new in the store.
    assert [ref.key for ref in selected] == [training.key] + [b.key for b in batches]
    assert sum(ref.rows for ref in selected) == 40
    assert [key for key in store.list_keys("datasets/") if "/uses/" not in key] == [
        key for key in stored if "/uses/" not in key
    ]


def test_select_data_ignores_another_models_batches(store, trained):
    model, training, _ = trained
    other = CONFIG.model_copy(update={"model": CONFIG.model.model_copy(update={"name": "other"})})
    other_training = _ingest(store, "batch_5", "other_train", other)
    other_model, _ = _train(store, other, [other_training.key])
    _promote(store, other_model.version, "production", other_training, other)
    _evaluate(store, _ingest(store, "batch_6"), other)
    own = _ingest(store, "batch_1")
    _evaluate(store, own)
    selected = committed(store, lambda tx: select_data(store, CONFIG, model.version, tx.run))
    assert [ref.key for ref in selected] == [training.key, own.key]


def test_select_data_counts_its_own_runs_batch_but_no_uncommitted_one(store, trained):
    model, training, _ = trained
    uncommitted = _ingest(store, "batch_2")
    stray = RunContext("never-committed", "evaluate")
    evaluate(store, CONFIG, "production", uncommitted.key, "batch_2", "monitor", stray)
    own = _ingest(store, "batch_1")

    def work(tx):
        evaluate(store, CONFIG, "production", own.key, "batch_1", "monitor", tx.run)
        return select_data(store, CONFIG, model.version, tx.run)

    assert [ref.key for ref in committed(store, work)] == [training.key, own.key]


def test_promote_keeps_a_worse_challenger_out(store, trained):
    model, training, _ = trained
    batch = _ingest(store, "batch_6")
    retrained = committed(store, lambda tx: select_data(store, CONFIG, model.version, tx.run))
    _evaluate(store, batch)
    training_keys = [ref.key for ref in retrained] + [batch.key]
    challenger, _ = _train(store, CONFIG, training_keys, parent=model.version)
    better = _promote(store, challenger.version, model.version, batch)
    assert better["decision"] == "promoted"
    assert ModelRegistry(store, "course").alias() == challenger.version
    # Now 1.0 challenges 1.1 on batch_6: far worse, so 1.1 stays.
    worse = _promote(store, model.version, challenger.version, batch)
    assert worse["decision"] == "kept champion" and "worse than" in worse["reason"]
    assert ModelRegistry(store, "course").alias() == challenger.version
    kinds = [d["decision"] for d in decision_log(store).records() if d["kind"] == "promotion"]
    assert kinds == ["promoted", "promoted", "kept champion"]


def test_promote_takes_the_runs_evaluations_instead_of_scoring_again(store, trained):
    model, training, _ = trained
    batch = _ingest(store, "batch_6")
    champion = _evaluate(store, batch)
    challenger, _ = _train(store, CONFIG, [training.key, batch.key], parent=model.version)
    evaluated = _evaluate(store, batch, version=challenger.version)

    def decide(known):
        return committed(
            store,
            lambda tx: promote(
                store,
                CONFIG,
                challenger.version,
                model.version,
                batch.key,
                "batch_6",
                tx.run,
                known,
            ),
        )

    scored = decide(None)
    taken = decide({model.version: champion.metrics, challenger.version: evaluated.metrics})
    assert taken == scored
    # The given scores are the ones compared (a loss here, though the challenger is better);
    # a score under "production" names no version, so the champion is scored itself.
    losing = {challenger.version: {"RMSE": 1e9}, "production": {"RMSE": 0.0}}
    lost = decide(losing)
    assert not lost.wins and lost.challenger_score == 1e9
    assert lost.champion_score == scored.champion_score


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
