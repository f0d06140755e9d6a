"""KFP adapter of the finalize stage: both pipelines' exit handler."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("finalize"), install_kfp_package=False)
def finalize(
    status: dsl.PipelineTaskFinalStatus,
    pipeline_name: str,
    summary: Output[Markdown],
    config_json: str = "",
    model_name: str = "",
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
):
    """End the run as one transaction: commit it when its tasks all succeeded, else roll back.

    The exit handler of a pipeline (dsl.ExitHandler): at the commit the run's records, datasets
    and versions start to count, and production moves to a winning challenger only if it still
    names the champion the challenger was compared with (compare-and-swap); a failed or
    cancelled run is removed whole. Idempotent: a second attempt finds the commit.

    Args:
        status: The exit handler's view of the run's body (KFP fills it in).
        pipeline_name: The pipeline, recorded in the commit.
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults): the model's name and the views to refresh.
        model_name: The model whose production alias the commit moves; overrides model.name
            of config_json when not empty (give the run's other tasks the same).
        run_id: The run to end (KFP's run id).
        task_name: This task's name in its run.

    Returns:
        summary: What happened: committed (the commit, the batch, the versions registered,
            the promotion's final decision and production after it), rolled back or skipped.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from pathlib import Path

    from components.finalize.logic import finalize as end_run
    from components.finalize.logic import summary_markdown
    from lifecycle.config import config_with_parameters
    from lifecycle.runs import RunContext
    from lifecycle.store import open_store

    run = RunContext.for_task(run_id, task_name, pipeline_name)
    config = config_with_parameters(config_json, model_name=model_name)
    outcome = end_run(open_store(), config, run, status.state, status.error_message or "")
    text = summary_markdown(outcome, pipeline_name)
    Path(summary.path).parent.mkdir(parents=True, exist_ok=True)
    Path(summary.path).write_text(text, encoding="utf-8")
    print(text)
