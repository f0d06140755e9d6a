"""KFP adapter of the select-data stage."""

from kfp import dsl
from kfp.dsl import Dataset, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("select_data"), install_kfp_package=False)
def select_data(model_version: str, config_json: str, dataset: Output[Dataset]):
    """Assemble the retraining set for a successor of ``model_version`` by the retrain policy."""
    from components.artifacts import write_dataset_artifact
    from components.select_data.logic import select_data as select
    from lifecycle.config import config_from_json
    from lifecycle.store import open_store

    ref = select(open_store(), config_from_json(config_json), model_version)
    write_dataset_artifact(dataset, ref)
    print(f"retraining set {ref.key}: {ref.rows} rows from {ref.source}")
