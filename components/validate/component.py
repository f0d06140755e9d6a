"""KFP adapter of the validate stage."""

from kfp import dsl
from kfp.dsl import Metrics, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("validate"), install_kfp_package=False)
def validate(source: str, config_json: str, report: Output[Metrics]):
    """Check a CSV or Parquet file (path or store key) against the scenario's schema.

    Fails the run, naming the file, column and offending row count, when the data
    breaks the schema; writes nothing but its report.
    """
    from components.ingest.logic import local_source
    from components.validate.logic import validate_file
    from lifecycle.config import config_from_json
    from lifecycle.store import open_store

    config = config_from_json(config_json)
    with local_source(open_store(), source) as path:
        summary = validate_file(path, config.schema, source)
    report.log_metric("rows", summary.rows)
    for name, mean in summary.means.items():
        report.log_metric(f"{name}_mean", mean)
    print(f"{source}: valid, {summary.rows} rows")
