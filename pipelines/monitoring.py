"""The monitoring pipeline: one run per new labelled batch; retrains only on drift."""

from kfp import dsl

from components.detect_drift.component import detect_drift
from components.evaluate.component import evaluate
from components.ingest.component import ingest
from components.promote.component import promote
from components.select_data.component import select_data
from components.train.component import train
from components.validate.component import validate
from lifecycle.config import DEFAULT_CONFIG_JSON
from pipelines.cluster import CLUSTER, Backend, configure_task
from pipelines.transaction import run_identity, run_transaction

PIPELINE_NAME = "lifecycle-monitoring"
# The dsl.If branches: the batch is new (else the run skips it); drift was detected (retrain).
NEW_BATCH_BRANCH = "new-batch"
RETRAIN_BRANCH = "drift-detected"


def build_monitoring_pipeline(backend: Backend = CLUSTER):
    """The monitoring pipeline as ``backend`` (a cluster, or the local runner) runs it."""
    retry = backend.retries

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="Evaluate production on a new batch; on drift, retrain and promote.",
    )
    def monitoring_pipeline(
        batch_source: str,
        batch_id: str = "",
        config_json: str = DEFAULT_CONFIG_JSON,
        force: bool = False,
    ):
        # Commits the run when every task succeeded, rolls it back otherwise.
        with run_transaction(PIPELINE_NAME, config_json, retry):
            # Refuses a batch that breaks the schema or reuses a batch id for other content;
            # says whether the batch is new for the production version (else: skipped).
            check_batch = configure_task(
                validate(
                    source=batch_source,
                    config_json=config_json,
                    identify_batch=True,
                    batch_id=batch_id,
                    force=force,
                    schedule_time=backend.schedule_time,
                ),
                "validate",
                retry,
            )
            with dsl.If(check_batch.outputs["Output"] == True, name=NEW_BATCH_BRANCH):  # noqa: E712
                # Versions the batch in the store and pins the production version it scores.
                batch = configure_task(
                    ingest(
                        source=batch_source,
                        name=batch_id,
                        config_json=config_json,
                        identify_batch=True,
                        schedule_time=backend.schedule_time,
                        **run_identity(),
                    ),
                    "ingest",
                    retry,
                )
                # Scores the production model on the batch: the history the drift tests read.
                champion = configure_task(
                    evaluate(
                        model_version=batch.outputs["production"],
                        data=batch.outputs["dataset"],
                        batch_id=batch.outputs["batch_id"],
                        role="monitor",
                        config_json=config_json,
                        **run_identity(),
                    ),
                    "evaluate",
                    retry,
                )
                # Decides whether the model drifted (history tests and data tests).
                drift = configure_task(
                    detect_drift(
                        model_version=champion.outputs["version"],
                        data=batch.outputs["dataset"],
                        batch_id=batch.outputs["batch_id"],
                        evaluation_time=champion.outputs["evaluation_time"],
                        config_json=config_json,
                        **run_identity(),
                    ),
                    "detect_drift",
                    retry,
                )
                with dsl.If(drift.outputs["Output"] == True, name=RETRAIN_BRANCH):  # noqa: E712
                    _retrain(batch, champion, config_json, retry)

    return monitoring_pipeline


def _retrain(
    batch: dsl.PipelineTask,
    champion: dsl.PipelineTask,
    config_json: str,
    retry: bool,
) -> None:
    """The drift branch: a challenger trained, scored and compared with the champion."""
    # Builds the challenger's training set by the retrain policy.
    retraining_data = configure_task(
        select_data(
            model_version=champion.outputs["version"],
            config_json=config_json,
            **run_identity(),
        ),
        "select_data",
        retry,
    )
    # Fits the challenger as the next version.
    challenger = configure_task(
        train(
            training_data=retraining_data.outputs["dataset"],
            test_data=batch.outputs["dataset"],
            parent_version=champion.outputs["version"],
            config_json=config_json,
            **run_identity(),
        ),
        "train",
        retry,
    )
    # Records the challenger's score on the batch in the history.
    challenger_evaluation = configure_task(
        evaluate(
            model_version=challenger.outputs["Output"],
            data=batch.outputs["dataset"],
            batch_id=batch.outputs["batch_id"],
            role="challenger",
            config_json=config_json,
            **run_identity(),
        ),
        "evaluate",
        retry,
    )
    # Decides the promotion; production moves when the run commits, if the champion still is.
    configure_task(
        promote(
            challenger_version=challenger.outputs["Output"],
            champion_version=champion.outputs["version"],
            data=batch.outputs["dataset"],
            batch_id=batch.outputs["batch_id"],
            config_json=config_json,
            **run_identity(),
        ).after(challenger_evaluation),
        "promote",
        retry,
    )


monitoring_pipeline = build_monitoring_pipeline()
