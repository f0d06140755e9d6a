"""KFP adapter of the validate stage."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Markdown, Metrics, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("validate"), install_kfp_package=False)
def validate(
    report: Output[Metrics],
    summary: Output[Markdown],
    source: str = "",
    data: Input[Dataset] = None,
    config_json: str = "",
    model_name: str = "",
    identify_batch: bool = False,
    batch_id: str = "",
    force: bool = False,
    schedule_time: str = "",
) -> bool:
    """Check a CSV or Parquet file against the scenario's schema; writes nothing to the store.

    Fails the task, naming the file, the column and the offending row count, when the data
    breaks the schema (names, types, nulls, finite values, ranges, minimum rows). With
    identify_batch (monitoring) it also checks the batch's identity: a batch id monitored before
    with other content fails the task, and content already monitored for the current production
    version returns False (the run then skips the batch), unless force.

    Args:
        source: The file to check: a path the task can read, or a key in the store (e.g.
            incoming/latest.csv). Leave empty when data is given.
        data: The file as another component's Dataset artifact (CSV, or Parquet by its
            content), instead of source.
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults); its schema is what the data must match.
        model_name: The model whose production version a batch is identified against;
            overrides model.name of config_json when not empty.
        identify_batch: Also check the batch's identity (the monitoring pipeline does).
        batch_id: The batch's id; empty names it after schedule_time.
        force: Go on with a batch already monitored for the production version.
        schedule_time: A scheduled run's time (KFP's placeholder), naming a batch without id.

    Returns:
        Output: Whether the run goes on (False only for a batch already monitored).
        report: The number of rows and the mean of each numeric column.
        summary: The verdict, and with identify_batch what is known of the batch.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from pathlib import Path

    from components.artifacts import chosen_source
    from components.ingest.logic import local_source
    from components.validate.logic import validate_file
    from lifecycle import batches
    from lifecycle.config import config_with_parameters
    from lifecycle.store import open_store

    store = open_store()
    config = config_with_parameters(config_json, model_name=model_name)
    source = chosen_source(source, data)
    with local_source(store, source) as path:
        checked = validate_file(path, config.schema, source)
    report.log_metric("rows", checked.rows)
    for name, mean in checked.means.items():
        report.log_metric(f"{name}_mean", mean)
    text = f"{source}: valid, {checked.rows} rows"
    go_on = True
    if identify_batch:
        name = batches.batch_id_from_schedule(batch_id, schedule_time)
        sha256 = batches.source_sha256(store, source)
        identity = batches.identify_batch(store, config.model.name, name, sha256, force)
        text += f"\n\n{identity.describe()}"
        go_on = identity.is_new
    Path(summary.path).parent.mkdir(parents=True, exist_ok=True)
    Path(summary.path).write_text(text + "\n", encoding="utf-8")
    print(text)
    return go_on
