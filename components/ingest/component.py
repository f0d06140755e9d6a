"""KFP adapter of the ingest stage."""

from kfp import dsl
from kfp.dsl import Dataset, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("ingest"), install_kfp_package=False)
def ingest(source: str, name: str, config_json: str, dataset: Output[Dataset]):
    """Store a CSV or Parquet file (path or store key) as a versioned, content-hashed dataset."""
    from components.artifacts import write_dataset_artifact
    from components.ingest.logic import ingest as ingest_dataset
    from lifecycle.config import config_from_json
    from lifecycle.store import open_store

    ref = ingest_dataset(open_store(), source, name, config_from_json(config_json).schema)
    write_dataset_artifact(dataset, ref)
    print(f"ingested {source} as {ref.key} ({ref.rows} rows, sha256 {ref.sha256[:12]})")
