"""KFP adapter of the predict stage (batch scoring)."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("predict"), install_kfp_package=False)
def predict(
    batch_id: str,
    predictions: Output[Dataset],
    source: str = "",
    data: Input[Dataset] = None,
    model_version: str = "production",
    config_json: str = "",
    model_name: str = "",
) -> NamedTuple("PredictOutputs", version=str, rows=int):
    """Score a CSV or Parquet file of any size with a model version, streamed in batches.

    The predictions (the features, prediction, model_version) go to the store as Parquet parts
    under predictions/batch/<model>/<version>/<batch_id>/, then a manifest that makes them
    visible; the artifact holds the same parts.

    Args:
        batch_id: The name of this scoring, in the predictions' keys.
        source: The file to score: a path the task can read, or a key in the store. Leave
            empty when data is given.
        data: The file as another component's Dataset artifact (CSV, or Parquet by its
            content), instead of source.
        model_version: A version (e.g. 1.0) or production, the version the production alias
            names when the task runs.
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults): the model's name and features.
        model_name: The model; overrides model.name of config_json when not empty.

    Returns:
        predictions: The predictions as a folder of Parquet parts; metadata store_key (the
            manifest), rows, version and each part's store_key, sha256 and rows.
        version: The version that scored (production resolved).
        rows: The number of rows scored.
    """
    import tempfile
    from collections import namedtuple
    from pathlib import Path

    from components.artifacts import chosen_source, write_parts_artifact
    from components.predict.logic import predict_to_store
    from lifecycle.config import config_with_parameters
    from lifecycle.store import open_store

    store = open_store()
    scored_file = chosen_source(source, data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(scored_file)
        if not path.is_file():  # a store key: fetched once, then streamed from disk
            path = Path(folder) / Path(scored_file).name
            store.get_file(scored_file, path)
        scored = predict_to_store(
            store,
            config_with_parameters(config_json, model_name=model_name),
            path,
            batch_id,
            model_version,
        )
    write_parts_artifact(predictions, store, scored.parts)
    predictions.metadata.update(
        {"store_key": scored.output, "rows": scored.rows, "version": scored.version}
    )
    print(f"scored {scored.rows} rows with {scored.model_name} {scored.version} -> {scored.output}")
    return namedtuple("PredictOutputs", ["version", "rows"])(scored.version, scored.rows)
