"""KFP adapter of the finalize stage: both pipelines' exit handler."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("finalize"), install_kfp_package=False)
def finalize(
    status: dsl.PipelineTaskFinalStatus,
    pipeline_name: str,
    config_json: str,
    summary: Output[Markdown],
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
):
    """Commit the run when its tasks all succeeded (its records, versions and promotion count
    from then on, and ``production`` moves only if it still names the champion), otherwise
    roll it back; write the run's summary."""
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from pathlib import Path

    from components.finalize.logic import finalize as end_run
    from components.finalize.logic import summary_markdown
    from lifecycle.config import config_from_json
    from lifecycle.runs import RunContext
    from lifecycle.store import open_store

    run = RunContext.for_task(run_id, task_name, pipeline_name)
    outcome = end_run(
        open_store(), config_from_json(config_json), run, status.state, status.error_message or ""
    )
    text = summary_markdown(outcome, pipeline_name)
    Path(summary.path).parent.mkdir(parents=True, exist_ok=True)
    Path(summary.path).write_text(text, encoding="utf-8")
    print(text)
