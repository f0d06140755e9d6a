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
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> str:
    """Fit the configured estimator, print its parameters and register the next version.

    Returns the new version (1.0 first, then 1.1, 1.2, …); it counts once the run commits.
    The Model artifact is its skops file, which cannot run code when loaded
    (``lifecycle export-model`` writes a pickle).
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from pathlib import Path

    from components.artifacts import dataset_key_of
    from components.train.logic import train as train_model
    from lifecycle.config import config_from_json
    from lifecycle.model_files import FORMAT
    from lifecycle.registry import ModelRegistry
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = open_store()
    config = config_from_json(config_json)
    run = RunContext.for_task(run_id, task_name)

    def work() -> dict:
        registered, description = train_model(
            store,
            config,
            [dataset_key_of(training_data)],
            dataset_key_of(test_data),
            parent_version,
            run,
        )
        return {
            "version": registered.version,
            "sha256": registered.artifact_sha256,
            "test_metrics": registered.test_metrics,
            "description": description,
            "commit": {"registered": [registered.version]},
        }

    outputs = run_once(store, run, work)
    print(outputs["description"])
    version = outputs["version"]
    artifact = ModelRegistry(store, config.model.name, run.run_id, config.model).artifact(version)
    Path(model.path).write_bytes(artifact)
    model.metadata.update({"version": version, "sha256": outputs["sha256"], "format": FORMAT})
    model.metadata.update(outputs["test_metrics"])
    print(f"registered {config.model.name} {version}")
    return version
