"""The monitoring pipeline: one run per new labelled batch; retrains only on drift."""

from typing import Any, Optional

from kfp import dsl

from components.detect_drift.component import detect_drift
from components.evaluate.component import evaluate
from components.ingest.component import ingest
from components.promote.component import promote
from components.select_data.component import select_data
from components.train.component import train
from components.validate.component import validate
from lifecycle.config import DEFAULT_CONFIG_JSON
from pipelines.cluster import CLUSTER, Backend, configure_task
from pipelines.transaction import run_identity, run_transaction

PIPELINE_NAME = "lifecycle-monitoring"
# The dsl.If branches: the batch is new (else the run skips it); drift was detected (retrain).
NEW_BATCH_BRANCH = "new-batch"
RETRAIN_BRANCH = "drift-detected"


def build_monitoring_pipeline(backend: Backend = CLUSTER):
    """The monitoring pipeline as ``backend`` (a cluster, or the local runner) runs it."""
    retry = backend.retries

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="Evaluate production on a new batch; on drift, retrain and promote.",
    )
    def monitoring_pipeline(
        batch_source: str,
        batch_id: str = "",
        config_json: str = DEFAULT_CONFIG_JSON,
        force: bool = False,
        model_name: str = "",
        promotion_metric: str = "",
        promotion_tolerance: Optional[float] = None,  # noqa: UP045 - KFP reads no X | None
        drift_p_value: Optional[float] = None,  # noqa: UP045
        drift_param_sigmas: Optional[float] = None,  # noqa: UP045
    ):
        """Evaluate production on a new labelled batch; on drift, retrain and promote.

        Args:
            batch_source: The labelled batch (CSV or Parquet): a path the tasks can read, or a
                key in the store, e.g. incoming/latest.csv.
            batch_id: The batch's id, e.g. batch_3; empty names it after the run's schedule
                time in UTC (20261203T020000Z).
            config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
                default the course's): schema, model, drift tests, retraining and promotion
                policies. A typed parameter below, when given, wins over its key here.
            force: Monitor the batch even if it was monitored for the production version.
            model_name: The model monitored; overrides model.name of config_json.
            promotion_metric: The metric a challenger is compared on (RMSE, MAE, r2);
                overrides promotion.metric of config_json.
            promotion_tolerance: How much worse a challenger may be, as a fraction of the
                champion's score; overrides promotion.tolerance of config_json.
            drift_p_value: The data tests fire below this p-value; overrides drift.p_value of
                config_json.
            drift_param_sigmas: The parametric test's k in mean ± k·σ; overrides
                drift.param_sigmas of config_json.
        """
        model = {"model_name": model_name}
        # Commits the run when every task succeeded, rolls it back otherwise.
        with run_transaction(PIPELINE_NAME, config_json, retry, model_name):
            # Refuses a batch that breaks the schema or reuses a batch id for other content;
            # says whether the batch is new for the production version (else: skipped).
            check_batch = configure_task(
                validate(
                    source=batch_source,
                    config_json=config_json,
                    identify_batch=True,
                    batch_id=batch_id,
                    force=force,
                    schedule_time=backend.schedule_time,
                    **model,
                ).set_display_name("validate batch"),
                "validate",
                retry,
            )
            with dsl.If(check_batch.outputs["Output"] == True, name=NEW_BATCH_BRANCH):  # noqa: E712
                # Versions the batch in the store and pins the production version it scores.
                batch = configure_task(
                    ingest(
                        source=batch_source,
                        name=batch_id,
                        config_json=config_json,
                        identify_batch=True,
                        schedule_time=backend.schedule_time,
                        **model,
                        **run_identity(),
                    ).set_display_name("ingest batch"),
                    "ingest",
                    retry,
                )
                # Scores the production model on the batch: the history the drift tests read.
                champion = configure_task(
                    evaluate(
                        model_version=batch.outputs["production"],
                        data=batch.outputs["dataset"],
                        batch_id=batch.outputs["batch_id"],
                        role="monitor",
                        config_json=config_json,
                        **model,
                        **run_identity(),
                    ).set_display_name("evaluate champion"),
                    "evaluate",
                    retry,
                )
                # Decides whether the model drifted (history tests and data tests).
                drift = configure_task(
                    detect_drift(
                        model_version=champion.outputs["version"],
                        data=batch.outputs["dataset"],
                        batch_id=batch.outputs["batch_id"],
                        evaluation_time=champion.outputs["evaluation_time"],
                        config_json=config_json,
                        drift_p_value=drift_p_value,
                        drift_param_sigmas=drift_param_sigmas,
                        **model,
                        **run_identity(),
                    ).set_display_name("detect drift"),
                    "detect_drift",
                    retry,
                )
                with dsl.If(drift.outputs["Output"] == True, name=RETRAIN_BRANCH):  # noqa: E712
                    promotion = {
                        "promotion_metric": promotion_metric,
                        "promotion_tolerance": promotion_tolerance,
                    }
                    _retrain(batch, champion, config_json, retry, model, promotion)

    return monitoring_pipeline


def _retrain(
    batch: dsl.PipelineTask,
    champion: dsl.PipelineTask,
    config_json: str,
    retry: bool,
    model: dict[str, Any],
    promotion: dict[str, Any],
) -> None:
    """The drift branch: a challenger trained, scored and compared with the champion."""
    # Builds the challenger's training set by the retrain policy.
    retraining_data = configure_task(
        select_data(
            model_version=champion.outputs["version"],
            batch_data=batch.outputs["dataset"],
            config_json=config_json,
            **model,
            **run_identity(),
        ).set_display_name("select retraining data"),
        "select_data",
        retry,
    )
    # Fits the challenger as the next version.
    challenger = configure_task(
        train(
            training_data=retraining_data.outputs["dataset"],
            test_data=batch.outputs["dataset"],
            parent_version=champion.outputs["version"],
            config_json=config_json,
            **model,
            **run_identity(),
        ).set_display_name("train challenger"),
        "train",
        retry,
    )
    # Records the challenger's score on the batch in the history.
    challenger_evaluation = configure_task(
        evaluate(
            model_version=challenger.outputs["Output"],
            data=batch.outputs["dataset"],
            batch_id=batch.outputs["batch_id"],
            role="challenger",
            config_json=config_json,
            **model,
            **run_identity(),
        ).set_display_name("evaluate challenger"),
        "evaluate",
        retry,
    )
    # Decides the promotion; production moves when the run commits, if the champion still is.
    configure_task(
        promote(
            challenger_version=challenger.outputs["Output"],
            champion_version=champion.outputs["version"],
            data=batch.outputs["dataset"],
            # Both were just scored on this batch: the decision takes those scores.
            challenger_metrics=challenger_evaluation.outputs["metrics"],
            champion_metrics=champion.outputs["metrics"],
            batch_id=batch.outputs["batch_id"],
            config_json=config_json,
            **model,
            **promotion,
            **run_identity(),
        ).set_display_name("promote challenger"),
        "promote",
        retry,
    )


monitoring_pipeline = build_monitoring_pipeline()
