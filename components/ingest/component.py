"""KFP adapter of the ingest stage."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("ingest"), install_kfp_package=False)
def ingest(
    name: str,
    dataset: Output[Dataset],
    source: str = "",
    data: Input[Dataset] = None,
    config_json: str = "",
    model_name: str = "",
    identify_batch: bool = False,
    schedule_time: str = "",
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> NamedTuple("IngestOutputs", batch_id=str, production=str):
    """Validate a CSV or Parquet file and store it as a versioned, content-hashed dataset.

    Equal content is stored once, under the same key. With identify_batch (monitoring) the file
    is a labelled batch: named name, or after the run's schedule_time when name is empty,
    refused when its id was monitored with other content, and recorded with its content hash in
    the run's commit; production is then the version the run monitors. The dataset counts once
    the run is committed (the finalize component).

    Args:
        name: The dataset's name (a batch id for a batch), e.g. batch_1.
        source: The file to store: a path the task can read, or a key in the store (e.g.
            incoming/latest.csv). Leave empty when data is given.
        data: The file as another component's Dataset artifact (CSV, or Parquet by its
            content), instead of source.
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults); its schema is what the data must match.
        model_name: The model a batch is monitored for; overrides model.name of config_json
            when not empty.
        identify_batch: The file is a labelled batch of a monitoring run.
        schedule_time: A scheduled run's time (KFP's placeholder), naming a batch without name.
        run_id: The run this task writes for (KFP's run id).
        task_name: This task's name in its run; a second attempt with the same run and task
            returns the first attempt's outputs and writes nothing.

    Returns:
        dataset: The stored dataset's Parquet file; metadata store_key, sha256, rows, name,
            columns.
        batch_id: The batch's id (name, or made from schedule_time).
        production: The production version the run monitors (identify_batch), else empty.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from collections import namedtuple
    from pathlib import Path

    from components.artifacts import chosen_source, write_dataset_artifact
    from components.ingest.logic import ingest as ingest_dataset
    from lifecycle import batches
    from lifecycle.config import config_with_parameters
    from lifecycle.datasets import DatasetRef
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = open_store()
    config = config_with_parameters(config_json, model_name=model_name)
    run = RunContext.for_task(run_id, task_name)
    stored = chosen_source(source, data)

    def work() -> dict:
        if not identify_batch:
            ref = ingest_dataset(store, stored, name, config.schema, run, Path(dataset.path))
            return {"dataset": ref.to_json(), "batch_id": name, "production": ""}
        batch_id = batches.batch_id_from_schedule(name, schedule_time)
        sha256 = batches.source_sha256(store, stored)
        # Forced: whether the batch is new was validate's to decide; here the id is checked
        # again and the production version pinned for the whole run.
        identity = batches.identify_batch(store, config.model.name, batch_id, sha256, force=True)
        ref = ingest_dataset(store, stored, batch_id, config.schema, run, Path(dataset.path))
        return {
            "dataset": ref.to_json(),
            "batch_id": batch_id,
            "production": identity.production,
            "commit": {"batch": identity.commit_fields()},
        }

    outputs = run_once(store, run, work)
    ref = DatasetRef.from_json(outputs["dataset"])
    write_dataset_artifact(dataset, store, ref)
    print(f"ingested {stored} as {ref.key} ({ref.rows} rows, sha256 {ref.sha256[:12]})")
    result = namedtuple("IngestOutputs", ["batch_id", "production"])
    return result(outputs["batch_id"], outputs["production"])
