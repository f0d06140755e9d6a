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
from pipelines.cluster import configure_task


@dsl.pipeline(
    name="lifecycle-monitoring",
    description="Evaluate production on a new batch; on drift, retrain and promote.",
)
def monitoring_pipeline(
    batch_source: str,
    batch_id: str,
    config_json: str = DEFAULT_CONFIG_JSON,
):
    # Refuses a batch that breaks the schema before anything is stored.
    check_batch = configure_task(validate(source=batch_source, config_json=config_json), "validate")
    # Versions the batch in the store.
    batch = configure_task(
        ingest(source=batch_source, name=batch_id, config_json=config_json).after(check_batch),
        "ingest",
    )
    # Scores the production model on the batch: the history the drift tests read.
    champion = configure_task(
        evaluate(
            model_version="production",
            data=batch.outputs["dataset"],
            batch_id=batch_id,
            role="monitor",
            config_json=config_json,
        ),
        "evaluate",
    )
    # Decides whether the model drifted (history tests and data tests).
    drift = configure_task(
        detect_drift(
            model_version=champion.outputs["version"],
            data=batch.outputs["dataset"],
            batch_id=batch_id,
            evaluation_time=champion.outputs["evaluation_time"],
            config_json=config_json,
        ),
        "detect_drift",
    )
    with dsl.If(drift.outputs["Output"] == True, name="drift-detected"):  # noqa: E712 - KFP condition
        # Builds the challenger's training set by the retrain policy.
        retraining_data = configure_task(
            select_data(
                model_version=champion.outputs["version"],
                config_json=config_json,
            ),
            "select_data",
        )
        # Fits the challenger as the next version.
        challenger = configure_task(
            train(
                training_data=retraining_data.outputs["dataset"],
                test_data=batch.outputs["dataset"],
                parent_version=champion.outputs["version"],
                config_json=config_json,
            ),
            "train",
        )
        # Records the challenger's score on the batch in the history.
        challenger_evaluation = configure_task(
            evaluate(
                model_version=challenger.outputs["Output"],
                data=batch.outputs["dataset"],
                batch_id=batch_id,
                role="challenger",
                config_json=config_json,
            ),
            "evaluate",
        )
        # Promotes the challenger only when it is not worse than the champion.
        configure_task(
            promote(
                challenger_version=challenger.outputs["Output"],
                champion_version=champion.outputs["version"],
                data=batch.outputs["dataset"],
                batch_id=batch_id,
                config_json=config_json,
            ).after(challenger_evaluation),
            "promote",
        )
