"""The batch-scoring pipeline: a model version's predictions for a file, written to the store."""

from kfp import dsl

from components.predict.component import predict
from lifecycle.config import DEFAULT_CONFIG_JSON
from pipelines.cluster import configure_task


@dsl.pipeline(
    name="lifecycle-batch-scoring",
    description="Score a CSV or Parquet file with the production model; predictions to the store.",
)
def batch_scoring_pipeline(
    source: str,
    batch_id: str,
    model_version: str = "production",
    config_json: str = DEFAULT_CONFIG_JSON,
    model_name: str = "",
):
    """Score a file with a model version; the predictions go to the store.

    Args:
        source: The file to score (CSV or Parquet): a path the task can read, or a key in the
            store.
        batch_id: The name of this scoring, in the predictions' keys.
        model_version: A version (e.g. 1.2) or production.
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            default the course's): the model's name and features.
        model_name: The model; overrides model.name of config_json.
    """
    # Streams the file through the model and writes Parquet parts and their manifest.
    configure_task(
        predict(
            source=source,
            batch_id=batch_id,
            model_version=model_version,
            config_json=config_json,
            model_name=model_name,
        ).set_display_name("score batch"),
        "predict",
    )
