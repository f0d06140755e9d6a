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
):
    # Streams the file through the model and writes Parquet parts and their manifest.
    configure_task(
        predict(
            source=source,
            batch_id=batch_id,
            model_version=model_version,
            config_json=config_json,
        ),
        "predict",
    )
