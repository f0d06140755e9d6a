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
) -> NamedTuple("EvaluateOutputs", version=str, evaluation_time=str):
    """Score a model version (or ``production``) on a dataset; append RMSE, r2 and MAE to
    the evaluation history and the predictions with actuals to the experiences."""
    from collections import namedtuple

    from components.artifacts import dataset_key_of
    from components.evaluate.logic import evaluate as evaluate_model
    from lifecycle.config import config_from_json
    from lifecycle.store import open_store

    result = evaluate_model(
        open_store(),
        config_from_json(config_json),
        model_version,
        dataset_key_of(data),
        batch_id,
        role,
    )
    for name, score in result.metrics.items():
        metrics.log_metric(name, score)
    print(
        f"model {result.version} on {batch_id}: "
        + ", ".join(f"{k}={v:.6g}" for k, v in result.metrics.items())
    )
    outputs = namedtuple("EvaluateOutputs", ["version", "evaluation_time"])
    return outputs(result.version, result.time_stamp)
