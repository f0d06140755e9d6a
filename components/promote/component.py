"""KFP adapter of the promote stage."""

from typing import NamedTuple, Optional

from kfp import dsl
from kfp.dsl import Dataset, Input, Markdown, Metrics, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("promote"), install_kfp_package=False)
def promote(
    challenger_version: str,
    data: Input[Dataset],
    batch_id: str,
    summary: Output[Markdown],
    scores: Output[Metrics],
    champion_version: str = "production",
    challenger_metrics: Input[Metrics] = None,
    champion_metrics: Input[Metrics] = None,
    config_json: str = "",
    model_name: str = "",
    promotion_metric: str = "",
    promotion_tolerance: Optional[float] = None,  # noqa: UP045 - KFP reads no X | None
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> NamedTuple("PromoteOutputs", wins=bool, reason=str):
    """Decide whether the challenger replaces the champion: not worse on the newest batch.

    Scores both versions on the batch (or takes their evaluations on it); the challenger
    wins when its metric is not worse than the champion's, within the tolerance (and always
    when there is no production model yet).
    The final decision is taken when the run commits (the finalize component): production
    moves to the challenger only if it still names the champion it was compared with, so two
    runs that retrained from one champion cannot both replace it.

    Args:
        challenger_version: The version trained by this run (the train component's output).
        data: The stored labelled batch both are scored on (the ingest component's output),
            read from the artifact's file.
        batch_id: The batch's id, for the decision log.
        champion_version: The version compared with: production (the alias when the task
            runs; none yet means the challenger wins) or an explicit version.
        challenger_metrics: The challenger's evaluation on data (an evaluate component's
            metrics), taken instead of scoring it again; none: it is scored here.
        champion_metrics: The same for the champion, taken when champion_version is the
            version evaluated (production, resolved only here, is always scored).
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults): its promotion section is the policy.
        model_name: The model; overrides model.name of config_json when not empty.
        promotion_metric: The metric compared: RMSE, MAE or r2; overrides promotion.metric of
            config_json when not empty (default there RMSE).
        promotion_tolerance: How much worse the challenger may be, as a fraction of the
            champion's score; overrides promotion.tolerance of config_json when given
            (default there 0).
        run_id: The run this task writes for (KFP's run id).
        task_name: This task's name in its run; a second attempt with the same run and task
            returns the first attempt's outputs and writes nothing.

    Returns:
        summary: Champion and challenger, their scores, the decision and its reason.
        scores: challenger_<metric>, champion_<metric> (when there is a champion) and wins
            (1 or 0).
        wins: Whether the challenger wins (production moves at the commit, if the champion
            is unchanged).
        reason: Why, with both scores.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from collections import namedtuple
    from pathlib import Path

    from components.artifacts import dataset_key_of, reading_artifacts
    from components.finalize.logic import promotion_contribution
    from components.promote.logic import promote as decide
    from components.promote.summary import promotion_markdown
    from lifecycle.config import config_with_parameters
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = reading_artifacts(open_store(), data)
    config = config_with_parameters(
        config_json,
        model_name=model_name,
        promotion_metric=promotion_metric,
        promotion_tolerance=promotion_tolerance,
    )
    run = RunContext.for_task(run_id, task_name)
    known_scores = {
        version: dict(evaluation.metadata)
        for version, evaluation in (
            (champion_version, champion_metrics),
            (challenger_version, challenger_metrics),
        )
        if evaluation is not None
    }

    def work() -> dict:
        promotion = decide(
            store,
            config,
            challenger_version,
            champion_version,
            dataset_key_of(data),
            batch_id,
            run,
            known_scores=known_scores,
        )
        return {"commit": promotion_contribution(promotion)}

    decision = run_once(store, run, work)["commit"]["promotion"]
    metric = decision["metric"]
    scores.log_metric(f"challenger_{metric}", decision["challenger_score"])
    if decision["champion_score"] is not None:
        scores.log_metric(f"champion_{metric}", decision["champion_score"])
    scores.log_metric("wins", float(decision["wins"]))
    Path(summary.path).parent.mkdir(parents=True, exist_ok=True)
    Path(summary.path).write_text(promotion_markdown(decision, config.model.name), encoding="utf-8")
    verdict = (
        "challenger wins (production moves at the commit if the champion is unchanged): "
        if decision["wins"]
        else "challenger loses, champion kept: "
    )
    print(verdict + decision["reason"])
    return namedtuple("PromoteOutputs", ["wins", "reason"])(decision["wins"], decision["reason"])
