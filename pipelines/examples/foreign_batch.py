"""An example of reusing the lifecycle's components in a pipeline of one's own.

A labelled batch comes from elsewhere: a plain KFP component of this pipeline writes it as a
``Dataset`` (here from CSV text given as a parameter; in practice an extract from a warehouse).
The lifecycle's ``ingest`` takes that artifact and stores it as a versioned dataset, and its
``evaluate`` scores the production model on it and records the scores in the evaluation history.
A second plain component reads the ingested ``Dataset``'s Parquet file the way any KFP component
reads a Dataset, with no knowledge of the lifecycle's store. The run is one transaction: its
tasks run inside ``dsl.ExitHandler`` with the lifecycle's ``finalize``, so the dataset and the
scores count once the run commits, and nothing of a failed run is kept.

``python -m pipelines.examples.foreign_batch --csv FILE --batch-id ID [--store STORE]`` runs it
on KFP's local runner (after ``lifecycle train``: it scores the production model).
"""

# No `from __future__ import annotations`: KFP reads the components' annotations as types.
import argparse
from collections.abc import Sequence
from pathlib import Path

from kfp import dsl
from kfp.dsl import Dataset, Input, Markdown, Output

from components.evaluate.component import evaluate
from components.ingest.component import ingest
from lifecycle.config import DEFAULT_CONFIG_JSON
from lifecycle.images import image_tag
from pipelines.cluster import configure_task
from pipelines.transaction import run_identity, run_transaction

PIPELINE_NAME = "lifecycle-example-foreign-batch"


# The plain components run in the project's base image, which carries pyarrow; they use neither
# the lifecycle's code nor its store.
@dsl.component(base_image=image_tag("base"), install_kfp_package=False)
def labelled_batch(rows_csv: str, batch: Output[Dataset]):
    """Write labelled rows, given as CSV text, as a Dataset.

    Args:
        rows_csv: The rows, header first (the scenario's features and target).

    Returns:
        batch: The rows as a CSV file.
    """
    from pathlib import Path

    Path(batch.path).parent.mkdir(parents=True, exist_ok=True)
    Path(batch.path).write_text(rows_csv, encoding="utf-8")
    batch.metadata["format"] = "csv"


@dsl.component(base_image=image_tag("base"), install_kfp_package=False)
def describe_batch(data: Input[Dataset], summary: Output[Markdown]) -> int:
    """Describe a Dataset's Parquet data: its rows and each numeric column's mean.

    Args:
        data: Any Dataset artifact holding Parquet (a file, or a folder of parts).

    Returns:
        Output: The number of rows.
        summary: The rows and the means, as a table.
    """
    from pathlib import Path

    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.types as pt

    table = ds.dataset(data.path, format="parquet").to_table()
    means = {
        field.name: pc.mean(table[field.name]).as_py()
        for field in table.schema
        if pt.is_floating(field.type) or pt.is_integer(field.type)
    }
    lines = [f"# {table.num_rows} rows", "", "| column | mean |", "| --- | --- |"]
    lines += [f"| {name} | {mean:.6g} |" for name, mean in means.items()]
    Path(summary.path).parent.mkdir(parents=True, exist_ok=True)
    Path(summary.path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    shown = ", ".join(f"{name}={mean:.6g}" for name, mean in means.items())
    print(f"described {table.num_rows} rows: {shown}")
    return table.num_rows


@dsl.pipeline(
    name=PIPELINE_NAME,
    description="Store a batch made elsewhere and score the production model on it.",
)
def foreign_batch_pipeline(
    rows_csv: str,
    batch_id: str,
    config_json: str = DEFAULT_CONFIG_JSON,
):
    """Store a batch made elsewhere and score the production model on it.

    Args:
        rows_csv: The labelled rows as CSV text, header first.
        batch_id: The batch's name in the store and in the evaluation history.
        config_json: The whole lifecycle config as JSON (the course's by default).
    """
    # Commits the run when every task succeeded, rolls it back otherwise.
    with run_transaction(PIPELINE_NAME, config_json, retry=False):
        # A plain KFP component: the batch as a Dataset artifact.
        made = labelled_batch(rows_csv=rows_csv).set_display_name("make the batch")
        # The lifecycle's ingest takes the artifact: validated and stored by content hash.
        stored = configure_task(
            ingest(
                name=batch_id,
                data=made.outputs["batch"],
                config_json=config_json,
                **run_identity(),
            ).set_display_name("store the batch"),
            "ingest",
            retries=False,
        )
        # The lifecycle's evaluate: production's scores on it, in the evaluation history.
        configure_task(
            evaluate(
                data=stored.outputs["dataset"],
                batch_id=stored.outputs["batch_id"],
                config_json=config_json,
                **run_identity(),
            ).set_display_name("score production on it"),
            "evaluate",
            retries=False,
        )
        # A plain KFP component again: the stored dataset's Parquet, read from the artifact.
        describe_batch(data=stored.outputs["dataset"]).set_display_name("describe the batch")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example on KFP's local runner."""
    from lifecycle.store import open_store, resolve_store_uri
    from pipelines.local import run_pipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True, help="a labelled batch (CSV)")
    parser.add_argument("--batch-id", required=True)
    parser.add_argument("--store", help="the store (default $STORE or ./.store)")
    args = parser.parse_args(argv)
    store_uri = open_store(resolve_store_uri(args.store)).uri
    run = run_pipeline(
        foreign_batch_pipeline,
        {"rows_csv": args.csv.read_text(encoding="utf-8"), "batch_id": args.batch_id},
        store_uri,
    )
    print(f"run {run.run_id}: committed as commit {run.commit.seq if run.commit else '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
