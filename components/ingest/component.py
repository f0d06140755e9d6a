"""KFP adapter of the ingest stage."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("ingest"), install_kfp_package=False)
def ingest(
    source: str,
    name: str,
    config_json: str,
    dataset: Output[Dataset],
    identify_batch: bool = False,
    schedule_time: str = "",
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> NamedTuple("IngestOutputs", batch_id=str, production=str):
    """Store a CSV or Parquet file (path or store key) as a versioned, content-hashed dataset.

    With ``identify_batch`` (monitoring), the file is a labelled batch: named ``name``, or after
    the run's ``schedule_time`` when ``name`` is empty, refused when its id was monitored with
    other content, and recorded with its content hash in the run's commit. ``production`` is
    then the version the run monitors.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from collections import namedtuple

    from components.artifacts import write_dataset_artifact
    from components.ingest.logic import ingest as ingest_dataset
    from lifecycle import batches
    from lifecycle.config import config_from_json
    from lifecycle.datasets import DatasetRef
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = open_store()
    config = config_from_json(config_json)
    run = RunContext.for_task(run_id, task_name)

    def work() -> dict:
        if not identify_batch:
            ref = ingest_dataset(store, source, name, config.schema, run)
            return {"dataset": ref.to_json(), "batch_id": name, "production": ""}
        batch_id = batches.batch_id_from_schedule(name, schedule_time)
        sha256 = batches.source_sha256(store, source)
        # Forced: whether the batch is new was validate's to decide; here the id is checked
        # again and the production version pinned for the whole run.
        identity = batches.identify_batch(store, config.model.name, batch_id, sha256, force=True)
        ref = ingest_dataset(store, source, batch_id, config.schema, run)
        return {
            "dataset": ref.to_json(),
            "batch_id": batch_id,
            "production": identity.production,
            "commit": {"batch": identity.commit_fields()},
        }

    outputs = run_once(store, run, work)
    ref = DatasetRef.from_json(outputs["dataset"])
    write_dataset_artifact(dataset, ref)
    print(f"ingested {source} as {ref.key} ({ref.rows} rows, sha256 {ref.sha256[:12]})")
    result = namedtuple("IngestOutputs", ["batch_id", "production"])
    return result(outputs["batch_id"], outputs["production"])
