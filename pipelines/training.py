"""The training pipeline: the first model of a scenario."""

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
    ):
        # Commits the run when every task succeeded, rolls it back otherwise.
        with run_transaction(PIPELINE_NAME, config_json, retry):
            # Refuses data that breaks the schema before anything is stored.
            check_training = configure_task(
                validate(source=training_source, config_json=config_json), "validate", retry
            )
            check_test = configure_task(
                validate(source=test_source, config_json=config_json), "validate", retry
            )
            # Versions both datasets in the store by content hash.
            training_data = configure_task(
                ingest(
                    source=training_source,
                    name=training_name,
                    config_json=config_json,
                    **run_identity(),
                ).after(check_training),
                "ingest",
                retry,
            )
            test_data = configure_task(
                ingest(
                    source=test_source, name=test_name, config_json=config_json, **run_identity()
                ).after(check_test),
                "ingest",
                retry,
            )
            # Fits the estimator and registers version 1.0 (or the next free one).
            model = configure_task(
                train(
                    training_data=training_data.outputs["dataset"],
                    test_data=test_data.outputs["dataset"],
                    parent_version="",
                    config_json=config_json,
                    **run_identity(),
                ),
                "train",
                retry,
            )
            # Starts the evaluation history with the test score.
            evaluation = configure_task(
                evaluate(
                    model_version=model.outputs["Output"],
                    data=test_data.outputs["dataset"],
                    batch_id=test_name,
                    role="test",
                    config_json=config_json,
                    **run_identity(),
                ),
                "evaluate",
                retry,
            )
            # Decides whether the model becomes production (it does when none is yet).
            promotion = configure_task(
                promote(
                    challenger_version=model.outputs["Output"],
                    champion_version="production",
                    data=test_data.outputs["dataset"],
                    batch_id=test_name,
                    config_json=config_json,
                    **run_identity(),
                ).after(evaluation),
                "promote",
                retry,
            )
            # Makes sure the InferenceService serving production exists (on a cluster;
            # idempotent, so it runs whatever promote decided: the server follows the alias).
            configure_task(serve(config_json=config_json).after(promotion), "serve", retry)

    return training_pipeline


training_pipeline = build_training_pipeline()
