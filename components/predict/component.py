"""KFP adapter of the predict stage (batch scoring)."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("predict"), install_kfp_package=False)
def predict(
    source: str,
    batch_id: str,
    model_version: str,
    config_json: str,
    predictions: Output[Dataset],
) -> NamedTuple("PredictOutputs", version=str, rows=int):
    """Score a CSV or Parquet file (a path, or a key in the store) of any size with a model
    version (or ``production``), streamed in record batches; write the predictions to the store
    as Parquet parts and a manifest, which ``predictions`` points at."""
    import tempfile
    from collections import namedtuple
    from pathlib import Path

    from components.predict.logic import predict_to_store
    from lifecycle.config import config_from_json
    from lifecycle.store import open_store

    store = open_store()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(source)
        if not path.is_file():  # a store key: fetched once, then streamed from disk
            path = Path(folder) / Path(source).name
            path.write_bytes(store.get_bytes(source))
        scored = predict_to_store(
            store, config_from_json(config_json), path, batch_id, model_version
        )
    Path(predictions.path).parent.mkdir(parents=True, exist_ok=True)
    Path(predictions.path).write_text(scored.to_json(), encoding="utf-8")
    predictions.metadata.update(
        {"store_key": scored.output, "rows": scored.rows, "version": scored.version}
    )
    print(f"scored {scored.rows} rows with {scored.model_name} {scored.version} -> {scored.output}")
    return namedtuple("PredictOutputs", ["version", "rows"])(scored.version, scored.rows)
