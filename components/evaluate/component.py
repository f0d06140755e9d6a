"""KFP adapter of the evaluate stage."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("evaluate"), install_kfp_package=False)
def evaluate(
    model_version: str,
    data: Input[Dataset],
    batch_id: str,
    role: str,
    config_json: str,
    metrics: Output[Metrics],
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> NamedTuple("EvaluateOutputs", version=str, evaluation_time=str):
    """Score a model version (or ``production``) on a dataset; append RMSE, r2 and MAE to
    the evaluation history and the predictions with actuals to the experiences."""
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from collections import namedtuple

    from components.artifacts import dataset_key_of
    from components.evaluate.logic import evaluate as evaluate_model
    from lifecycle.config import config_from_json
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = open_store()
    run = RunContext.for_task(run_id, task_name)

    def work() -> dict:
        result = evaluate_model(
            store,
            config_from_json(config_json),
            model_version,
            dataset_key_of(data),
            batch_id,
            role,
            run,
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
