"""KFP adapter of the evaluate stage."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("evaluate"), install_kfp_package=False)
def evaluate(
    data: Input[Dataset],
    batch_id: str,
    metrics: Output[Metrics],
    model_version: str = "production",
    role: str = "monitor",
    config_json: str = "",
    model_name: str = "",
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> NamedTuple("EvaluateOutputs", version=str, evaluation_time=str):
    """Score a model version on a labelled dataset and record it in the evaluation history.

    Appends RMSE, r2 and MAE to the evaluation history (the drift tests read it) and the
    predictions with their actuals to the experiences; both count once the run is committed
    (the finalize component). A batch whose R² is undefined (a constant target) is refused.

    Args:
        data: The stored labelled dataset to score on (the ingest component's output), read
            from the artifact's file.
        batch_id: The batch's id, recorded with every score.
        model_version: A version (e.g. 1.0) or production, the version the production alias
            names when the task runs.
        role: Why it is scored, as recorded: test (a new model's test set), monitor
            (production on a new batch) or challenger (a retrained version on the batch).
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults): the model's name and the schema.
        model_name: The model to score; overrides model.name of config_json when not empty.
        run_id: The run this task writes for (KFP's run id).
        task_name: This task's name in its run; a second attempt with the same run and task
            returns the first attempt's outputs and writes nothing.

    Returns:
        metrics: RMSE, r2 and MAE of the version on the dataset.
        version: The version scored (production resolved).
        evaluation_time: The records' time stamp (ISO 8601, UTC), which the drift tests of
            this evaluation take.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from collections import namedtuple

    from components.artifacts import dataset_key_of, reading_artifacts
    from components.evaluate.logic import evaluate as evaluate_model
    from lifecycle.config import config_with_parameters
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = reading_artifacts(open_store(), data)
    config = config_with_parameters(config_json, model_name=model_name)
    run = RunContext.for_task(run_id, task_name)

    def work() -> dict:
        result = evaluate_model(
            store, config, model_version, dataset_key_of(data), batch_id, role, run
        )
        return {
            "version": result.version,
            "evaluation_time": result.time_stamp,
            "metrics": result.metrics,
        }

    outputs = run_once(store, run, work)
    for name, score in outputs["metrics"].items():
        metrics.log_metric(name, score)
    print(
        f"model {outputs['version']} on {batch_id}: "
        + ", ".join(f"{k}={v:.6g}" for k, v in outputs["metrics"].items())
    )
    result = namedtuple("EvaluateOutputs", ["version", "evaluation_time"])
    return result(outputs["version"], outputs["evaluation_time"])
