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
    from components.ingest.logic import read_source
    from components.validate.logic import validate_frame
    from lifecycle.config import config_from_json
    from lifecycle.store import open_store

    config = config_from_json(config_json)
    frame = validate_frame(read_source(open_store(), source), config.schema, source)
    report.log_metric("rows", len(frame))
    for column in config.schema.columns:
        if column.kind == "numeric":
            report.log_metric(f"{column.name}_mean", float(frame[column.name].mean()))
    print(f"{source}: valid, {len(frame)} rows")
