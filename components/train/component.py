"""KFP adapter of the train stage."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("train"), install_kfp_package=False)
def train(
    training_data: Input[Dataset],
    test_data: Input[Dataset],
    model: Output[Model],
    parent_version: str = "",
    config_json: str = "",
    model_name: str = "",
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> str:
    """Fit the configured estimator, print its parameters and register the next version.

    The version is 1.0 first, then 1.1, 1.2, …, claimed exclusively, so two runs never share
    one; its model file, metadata and reference profile (for the drift tests) go to the
    registry, and it counts once the run is committed (the finalize component). The model file
    is a skops file, which cannot run code when loaded (lifecycle export-model writes a pickle).

    Args:
        training_data: The stored dataset(s) to fit on (the ingest or select_data component's
            output), read from the artifact's files.
        test_data: The stored dataset the new version is scored on for its metadata.
        parent_version: The version this one retrains (empty for a first model).
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults): the estimator, its hyperparameters, the schema.
        model_name: The model to register a version of; overrides model.name of config_json
            when not empty.
        run_id: The run this task writes for (KFP's run id).
        task_name: This task's name in its run; a second attempt with the same run and task
            returns the first attempt's outputs and writes nothing.

    Returns:
        Output: The new version, e.g. 1.1.
        model: The version's skops file; metadata model, version, store_key, sha256, format
            and its test metrics.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from components.artifacts import (
        dataset_key_of,
        dataset_keys_of,
        reading_artifacts,
        write_model_artifact,
    )
    from components.train.logic import train as train_model
    from lifecycle.config import config_with_parameters
    from lifecycle.model_files import FORMAT
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = reading_artifacts(open_store(), training_data, test_data)
    config = config_with_parameters(config_json, model_name=model_name)
    run = RunContext.for_task(run_id, task_name)

    def work() -> dict:
        registered, description = train_model(
            store,
            config,
            dataset_keys_of(training_data),
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
    write_model_artifact(model, store, config.model.name, version, outputs["sha256"])
    model.metadata.update({"format": FORMAT, **outputs["test_metrics"]})
    print(f"registered {config.model.name} {version}")
    return version
