"""KFP adapter of the select-data stage."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("select_data"), install_kfp_package=False)
def select_data(
    model_version: str,
    dataset: Output[Dataset],
    batch_data: Input[Dataset] = None,
    config_json: str = "",
    model_name: str = "",
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
):
    """Assemble the retraining set for a successor of a model version, by the retrain policy.

    since_training (the default): the version's own training data plus every batch monitored
    since it was trained; last_n: the last N batches monitored. Only batches of committed runs
    count, and the batch of this run. The set references the stored datasets it is made of:
    nothing is copied in the store, and the model trained on it names those datasets.

    Args:
        model_version: The version whose successor is trained (the champion).
        batch_data: The batch this run monitors (the ingest component's output): its file is
            used as it is, instead of a download from the store.
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults): its retrain section is the policy.
        model_name: The model retrained; overrides model.name of config_json when not empty.
        run_id: The run this task writes for (KFP's run id).
        task_name: This task's name in its run; a second attempt with the same run and task
            returns the first attempt's outputs and writes nothing.

    Returns:
        dataset: The retraining set: a directory of Parquet parts, one per selected dataset,
            in order; metadata parts (each one's store_key, sha256, rows, file) and rows.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from components.artifacts import reading_artifacts, write_dataset_artifact
    from components.select_data.logic import select_data as select
    from lifecycle.config import config_with_parameters
    from lifecycle.datasets import DatasetRef
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = open_store()
    if batch_data is not None:
        store = reading_artifacts(store, batch_data)
    config = config_with_parameters(config_json, model_name=model_name)
    run = RunContext.for_task(run_id, task_name)

    def work() -> dict:
        return {"datasets": [ref.to_json() for ref in select(store, config, model_version, run)]}

    refs = [DatasetRef.from_json(text) for text in run_once(store, run, work)["datasets"]]
    write_dataset_artifact(dataset, store, refs)
    print(f"retraining set: {sum(ref.rows for ref in refs)} rows from", *[r.key for r in refs])
