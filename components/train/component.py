"""KFP adapter of the train stage."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("train"), install_kfp_package=False)
def train(
    training_data: Input[Dataset],
    test_data: Input[Dataset],
    parent_version: str,
    config_json: str,
    model: Output[Model],
) -> str:
    """Fit the configured estimator, print its parameters and register the next version.

    Returns the new version (1.0 first, then 1.1, 1.2, …). The Model artifact is its skops
    file, which cannot run code when loaded (``lifecycle export-model`` writes a pickle).
    """
    from pathlib import Path

    from components.artifacts import dataset_key_of
    from components.train.logic import train as train_model
    from lifecycle.config import config_from_json
    from lifecycle.model_files import FORMAT
    from lifecycle.registry import ModelRegistry
    from lifecycle.store import open_store

    store = open_store()
    config = config_from_json(config_json)
    registered, description = train_model(
        store, config, [dataset_key_of(training_data)], dataset_key_of(test_data), parent_version
    )
    print(description)
    artifact = ModelRegistry(store, config.model.name, config.model).artifact(registered.version)
    Path(model.path).write_bytes(artifact)
    model.metadata.update(
        {
            "version": registered.version,
            "sha256": registered.artifact_sha256,
            "format": FORMAT,
            **registered.test_metrics,
        }
    )
    print(f"registered {config.model.name} {registered.version}")
    return registered.version
