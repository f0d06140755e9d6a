"""KFP adapter of the select-data stage."""

from kfp import dsl
from kfp.dsl import Dataset, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("select_data"), install_kfp_package=False)
def select_data(
    model_version: str,
    config_json: str,
    dataset: Output[Dataset],
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
):
    """Assemble the retraining set for a successor of ``model_version`` by the retrain policy."""
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from components.artifacts import write_dataset_artifact
    from components.select_data.logic import select_data as select
    from lifecycle.config import config_from_json
    from lifecycle.datasets import DatasetRef
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = open_store()
    run = RunContext.for_task(run_id, task_name)

    def work() -> dict:
        ref = select(store, config_from_json(config_json), model_version, run)
        return {"dataset": ref.to_json()}

    ref = DatasetRef.from_json(run_once(store, run, work)["dataset"])
    write_dataset_artifact(dataset, ref)
    print(f"retraining set {ref.key}: {ref.rows} rows from {ref.source}")
