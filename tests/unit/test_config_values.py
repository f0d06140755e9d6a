"""Config values that would pass the type check and then misbehave are refused when the config
is loaded, naming the key: non-finite numbers, min > max, blank column names, too few rows
for R², a drift policy that can never fire, an estimator or hyperparameter sklearn refuses.
A metric undefined on a batch never enters the history."""

from __future__ import annotations

import numpy as np
import pytest

from components.detect_drift.logic import detect_drift
from components.evaluate.logic import UndefinedMetricError, compute_metrics, evaluate
from components.ingest.logic import ingest
from components.train.logic import train
from lifecycle.config import DriftConfig, LifecycleConfig, ModelConfig, load_config
from lifecycle.errors import InvalidInputError
from lifecycle.estimators import check_estimator
from lifecycle.history import evaluation_log
from lifecycle.store import LocalStore
from pipelines.scenarios import scenario
from tests.helpers import COURSE, committed, course_model_in_production, store_listing

RIDGE = "model: {estimator: sklearn.linear_model.Ridge, params: "
REFUSED = {
    # Non-finite numbers, wherever a float is read.
    "sigmas inf": ("drift: {param_sigmas: .inf}", "drift.param_sigmas", "finite"),
    "iqr nan": ("drift: {iqr_factor: .nan}", "drift.iqr_factor", "finite"),
    "p-value nan": ("drift: {p_value: .nan}", "drift.p_value", "finite"),
    "psi inf": ("drift: {psi_threshold: .inf}", "drift.psi_threshold", "finite"),
    "wasserstein inf": ("drift: {wasserstein_threshold: .inf}", "drift.wasserstein", "finite"),
    "fixed inf": ("drift: {fixed_thresholds: {RMSE: .inf}}", "fixed_thresholds.RMSE", "finite"),
    "fixed -inf": ("drift: {fixed_thresholds: {r2: -.inf}}", "fixed_thresholds.r2", "finite"),
    "tolerance inf": ("promotion: {tolerance: .inf}", "promotion.tolerance", "finite"),
    "min -inf": ("schema: {features: [{name: x, min: -.inf}]}", "features.0.min", "finite"),
    "max nan": ("schema: {target: {name: y, max: .nan}}", "schema.target.max", "finite"),
    "share nan": ("drift: {drift_share: .nan}", "drift.drift_share", "finite"),
    # Ranges and names.
    "min above max": ("schema: {features: [{name: x, min: 5, max: 1}]}", "0.max", "below min"),
    "empty name": ("schema: {features: [{name: ''}]}", "features.0.name", "empty"),
    "blank target": ("schema: {target: {name: '  '}}", "schema.target.name", "blank"),
    "no features": ("schema: {features: []}", "schema.features", "at least one"),
    "one row": ("schema: {min_rows: 1}", "schema.min_rows", "R²"),
    "threshold of no metric": ("drift: {fixed_thresholds: {rmse: 1}}", "fixed_thresholds", "rmse"),
    # Drift that could never fire.
    "empty subset": ("drift: {policy: subset}", "drift.subset", "never fire"),
    "unknown subset test": (
        "drift: {policy: subset, subset: [ks_test_z]}",
        "drift.subset",
        "'ks_test_z'",
    ),
    "at_least above the tests": ("drift: {policy: at_least, at_least: 9}", "drift.at_least", "8"),
    "at_least of unfireable fixed tests": (
        "drift: {history_tests: [fixed], data_tests: [], fixed_thresholds: {}, policy: at_least}",
        "drift.at_least",
        "0 enabled tests",
    ),
    # The estimator, checked by scikit-learn at load.
    "abstract estimator": (
        "model: {estimator: sklearn.ensemble._forest.ForestRegressor}",
        "model.estimator",
        "abstract",
    ),
    "not a regressor": (
        "model: {estimator: sklearn.preprocessing.StandardScaler}",
        "model.estimator",
        "not a regressor",
    ),
    "no such estimator": ("model: {estimator: sklearn.linear_model.Nope}", "model.estimator", "no"),
    "refused value": (RIDGE + "{alpha: -1}}", "model.params", "'alpha'"),
    "refused type": (RIDGE + "{alpha: abc}}", "model.params", "'alpha'"),
    "refused choice": (RIDGE + "{solver: magic}}", "model.params", "'solver'"),
    "unknown hyperparameter": ("model: {params: {alhpa: 1}}", "model.params", "'alhpa'"),
    "missing argument": (
        "model: {estimator: sklearn.ensemble.StackingRegressor}",
        "model.params",
        "estimators",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_bad_values_are_refused_at_load_naming_the_key(tmp_path, name):
    text, key, reason = REFUSED[name]
    path = tmp_path / "config.yaml"
    path.write_text(text + "\n")
    with pytest.raises(InvalidInputError) as refused:
        load_config(path)
    message = str(refused.value)
    assert str(path) in message and key in message and reason in message, message
    assert "\n" not in message


ACCEPTED = [
    "drift: {policy: at_least, at_least: 8}",
    "drift: {policy: subset, subset: [ks_test_x, hard_test_r2]}",
    "schema: {features: [{name: x, min: 1, max: 1}]}",
    "model: {estimator: sklearn.ensemble.RandomForestRegressor, params: {n_estimators: 5}}",
    "drift: {history_tests: [fixed], fixed_thresholds: {RMSE: 2.0}, policy: at_least, at_least: 3}",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_values_at_the_edge_are_accepted(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text + "\n")
    assert load_config(path)


def test_the_built_in_and_scenario_configs_pass_the_estimator_check(tmp_path):
    # load_config() skips the check for the built-in default: this is its check.
    check_estimator(LifecycleConfig().model)
    check_estimator(load_config(COURSE.parent / "course.yaml").model)
    check_estimator(scenario("diabetes", tmp_path).config.model)
    check_estimator(ModelConfig(estimator="sklearn.linear_model.Ridge", params={"alpha": 0.1}))


FLAG_CONFIGS = {
    "course": {},
    "suite flags": {
        "data_tests": ("ks", "psi", "wasserstein", "chi2"),
        "suite_tests": ("ks",),
        "numeric_decision": "wasserstein",
        "prediction_flags": True,
        "dataset_flag": True,
    },
    "fixed without thresholds": {
        "history_tests": ("fixed", "worst"),
        "fixed_thresholds": {"RMSE": 1.0},
    },
}


@pytest.mark.parametrize("name", sorted(FLAG_CONFIGS))
def test_the_config_knows_every_flag_a_drift_check_computes(tmp_path, name):
    """``drift_flags()`` (what subset and at_least are checked against) names exactly the
    flags the detect-drift stage computes."""
    config = LifecycleConfig(drift=DriftConfig(**FLAG_CONFIGS[name]))
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)

    def check(tx):
        batch = ingest(store, str(COURSE / "batch_6.csv"), "batch_6", config.schema, tx.run)
        evaluation = evaluate(store, config, "production", batch.key, "batch_6", "monitor", tx.run)
        return detect_drift(
            store, config, "1.0", batch.key, "batch_6", evaluation.time_stamp, tx.run
        )

    decision = committed(store, check, config)
    assert list(config.drift_flags()) == list(decision.flags)


def test_the_config_knows_the_flags_of_categorical_columns(tmp_path):
    plan = scenario("diabetes", tmp_path)
    config = plan.config
    store = LocalStore(tmp_path / "store")
    batch_id, path = plan.batches[0]

    def check(tx):
        training = ingest(store, str(plan.training_file), "data_init", config.schema, tx.run)
        model, _ = train(store, config, [training.key], None, None, tx.run)
        batch = ingest(store, str(path), batch_id, config.schema, tx.run)
        evaluation = evaluate(store, config, model.version, batch.key, batch_id, "monitor", tx.run)
        return detect_drift(
            store, config, model.version, batch.key, batch_id, evaluation.time_stamp, tx.run
        )

    decision = committed(store, check, config)
    assert list(config.drift_flags()) == list(decision.flags)
    assert "chi2_test_sex" in decision.flags


@pytest.mark.parametrize(
    ("actual", "predicted", "reason"),
    [
        ([3.0], [2.0], "on 1 row"),
        ([2.0, 2.0, 2.0], [2.0, 2.0, 2.0], "constant"),
        ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], "constant"),
    ],
)
def test_an_undefined_metric_is_an_error_naming_batch_and_metric(actual, predicted, reason):
    with pytest.raises(UndefinedMetricError, match=f"batch 'b7'.*metric r2.*{reason}"):
        compute_metrics(np.array(actual), np.array(predicted), "batch 'b7'")


def test_evaluate_refuses_a_constant_target_and_writes_nothing(tmp_path):
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)
    path = tmp_path / "constant.csv"
    path.write_text("x,y\n1,5\n2,5\n3,5\n")
    config = LifecycleConfig()
    batch = committed(store, lambda tx: ingest(store, str(path), "batch_7", config.schema, tx.run))
    before, records = store_listing(store), len(evaluation_log(store).records())
    with pytest.raises(UndefinedMetricError, match="batch 'batch_7'.*metric r2"):
        committed(
            store,
            lambda tx: evaluate(store, config, "production", batch.key, "batch_7", "m", tx.run),
        )
    assert store_listing(store) == before
    assert len(evaluation_log(store).records()) == records
    history = [r["score"] for r in evaluation_log(store).records()]
    assert all(np.isfinite(history))
