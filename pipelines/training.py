"""The training pipeline: the first model of a scenario."""

from typing import Optional

from kfp import dsl

from components.evaluate.component import evaluate
from components.ingest.component import ingest
from components.promote.component import promote
from components.serve.component import serve
from components.train.component import train
from components.validate.component import validate
from lifecycle.config import DEFAULT_CONFIG_JSON
from pipelines.cluster import CLUSTER, Backend, configure_task
from pipelines.transaction import run_identity, run_transaction

PIPELINE_NAME = "lifecycle-training"


def build_training_pipeline(backend: Backend = CLUSTER):
    """The training pipeline as ``backend`` (a cluster, or the local runner) runs it."""
    retry = backend.retries

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="Ingest, validate, train, evaluate and promote the first model.",
    )
    def training_pipeline(
        training_source: str,
        test_source: str,
        config_json: str = DEFAULT_CONFIG_JSON,
        training_name: str = "train",
        test_name: str = "test",
        model_name: str = "",
        promotion_metric: str = "",
        promotion_tolerance: Optional[float] = None,  # noqa: UP045 - KFP reads no X | None
    ):
        """Validate and store the training and test files, train, evaluate and promote.

        Args:
            training_source: The training file (CSV or Parquet): a path the tasks can read,
                or a key in the store, e.g. incoming/data_init.csv.
            test_source: The test file the first model is scored on, as training_source.
            config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
                default the course's): schema, estimator and promotion policy. A typed
                parameter below, when given, wins over its key here.
            training_name: The training dataset's name in the store.
            test_name: The test dataset's name in the store (and its batch id in the history).
            model_name: The model trained; overrides model.name of config_json.
            promotion_metric: The metric compared with a production model, if there is one
                (RMSE, MAE, r2); overrides promotion.metric of config_json.
            promotion_tolerance: How much worse than production the new model may be, as a
                fraction; overrides promotion.tolerance of config_json.
        """
        model = {"model_name": model_name}
        # Commits the run when every task succeeded, rolls it back otherwise.
        with run_transaction(PIPELINE_NAME, config_json, retry, model_name):
            # Refuses data that breaks the schema before anything is stored.
            check_training = configure_task(
                validate(source=training_source, config_json=config_json).set_display_name(
                    "validate training data"
                ),
                "validate",
                retry,
            )
            check_test = configure_task(
                validate(source=test_source, config_json=config_json).set_display_name(
                    "validate test data"
                ),
                "validate",
                retry,
            )
            # Versions both datasets in the store by content hash.
            training_data = configure_task(
                ingest(
                    source=training_source,
                    name=training_name,
                    config_json=config_json,
                    **model,
                    **run_identity(),
                )
                .after(check_training)
                .set_display_name("ingest training data"),
                "ingest",
                retry,
            )
            test_data = configure_task(
                ingest(
                    source=test_source,
                    name=test_name,
                    config_json=config_json,
                    **model,
                    **run_identity(),
                )
                .after(check_test)
                .set_display_name("ingest test data"),
                "ingest",
                retry,
            )
            # Fits the estimator and registers version 1.0 (or the next free one).
            trained = configure_task(
                train(
                    training_data=training_data.outputs["dataset"],
                    test_data=test_data.outputs["dataset"],
                    parent_version="",
                    config_json=config_json,
                    **model,
                    **run_identity(),
                ).set_display_name("train model"),
                "train",
                retry,
            )
            # Starts the evaluation history with the test score.
            evaluation = configure_task(
                evaluate(
                    model_version=trained.outputs["Output"],
                    data=test_data.outputs["dataset"],
                    batch_id=test_name,
                    role="test",
                    config_json=config_json,
                    **model,
                    **run_identity(),
                ).set_display_name("evaluate on test data"),
                "evaluate",
                retry,
            )
            # Decides whether the model becomes production (it does when none is yet).
            promotion = configure_task(
                promote(
                    challenger_version=trained.outputs["Output"],
                    champion_version="production",
                    data=test_data.outputs["dataset"],
                    challenger_metrics=evaluation.outputs["metrics"],
                    batch_id=test_name,
                    config_json=config_json,
                    promotion_metric=promotion_metric,
                    promotion_tolerance=promotion_tolerance,
                    **model,
                    **run_identity(),
                ).set_display_name("promote to production"),
                "promote",
                retry,
            )
            # Makes sure the InferenceService serving production exists (on a cluster;
            # idempotent, so it runs whatever promote decided: the server follows the alias).
            configure_task(
                serve(config_json=config_json, **model)
                .after(promotion)
                .set_display_name("ensure serving"),
                "serve",
                retry,
            )

    return training_pipeline


training_pipeline = build_training_pipeline()
