"""KFP adapter of the validate stage."""

from kfp import dsl
from kfp.dsl import Markdown, Metrics, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("validate"), install_kfp_package=False)
def validate(
    source: str,
    config_json: str,
    report: Output[Metrics],
    summary: Output[Markdown],
    identify_batch: bool = False,
    batch_id: str = "",
    force: bool = False,
    schedule_time: str = "",
) -> bool:
    """Check a CSV or Parquet file (path or store key) against the scenario's schema.

    Fails the run, naming the file, column and offending row count, when the data breaks the
    schema; writes nothing but its report. With ``identify_batch`` (monitoring) it also checks
    the batch's identity: a batch id monitored before with other content fails the run, and
    the same content already monitored for the current production version returns False (the
    run then skips the batch), unless ``force``. Returns whether the run goes on.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from pathlib import Path

    from components.ingest.logic import local_source
    from components.validate.logic import validate_file
    from lifecycle import batches
    from lifecycle.config import config_from_json
    from lifecycle.store import open_store

    store = open_store()
    config = config_from_json(config_json)
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
