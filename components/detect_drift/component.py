"""KFP adapter of the detect-drift stage."""

from typing import Optional

from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Markdown, Metrics, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("detect_drift"), install_kfp_package=False)
def detect_drift(
    model_version: str,
    data: Input[Dataset],
    batch_id: str,
    evaluation_time: str,
    metrics: Output[Metrics],
    report: Output[HTML],
    summary: Output[Markdown],
    config_json: str = "",
    model_name: str = "",
    drift_p_value: Optional[float] = None,  # noqa: UP045 - KFP reads no X | None
    drift_param_sigmas: Optional[float] = None,  # noqa: UP045 - KFP reads no X | None
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> bool:
    """Decide whether to retrain: the course's history tests and the data tests; logs it.

    History tests per metric on the evaluation history of the version (hard: worse than the
    mean of the previous values; parametric: beyond mean ± k·σ; IQR: beyond the quartiles ±
    1.5·IQR; optionally a fixed threshold and worse-than-ever), and data tests of the version's
    reference profile against the batch (KS per numeric column, chi-squared per categorical
    one, and the drift suite's PSI, Wasserstein and Jensen-Shannon). The decision goes to the
    decision log, and when the signal fires to the course's drift log; both count once the run
    is committed (the finalize component).

    Args:
        model_version: The version evaluated (the evaluate component's version output).
        data: The stored batch (the ingest component's output), read from the artifact's file.
        batch_id: The batch's id, for the records.
        evaluation_time: The time stamp of the evaluation under test (the evaluate
            component's evaluation_time output).
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults): its drift section chooses tests, thresholds
            and the policy.
        model_name: The model checked; overrides model.name of config_json when not empty.
        drift_p_value: The data tests fire below this p-value; overrides drift.p_value of
            config_json when given (default there 0.05).
        drift_param_sigmas: The parametric test's k in mean ± k·σ; overrides
            drift.param_sigmas of config_json when given (default there 2).
        run_id: The run this task writes for (KFP's run id).
        task_name: This task's name in its run; a second attempt with the same run and task
            returns the first attempt's outputs and writes nothing.

    Returns:
        Output: The retraining signal.
        metrics: Each test's flag (1 fired, 0 not) and each data test's statistics.
        report: The metric history with each test's threshold, and reference against current
            for the drifted columns.
        summary: The decision, the flags and the statistics as a table.
    """
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from dataclasses import asdict
    from pathlib import Path

    from components.artifacts import dataset_key_of, reading_artifacts
    from components.detect_drift.logic import DriftDecision
    from components.detect_drift.logic import detect_drift as decide
    from components.detect_drift.report import render_decision_html
    from components.detect_drift.summary import decision_markdown
    from lifecycle.config import config_with_parameters
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = reading_artifacts(open_store(), data)
    config = config_with_parameters(
        config_json,
        model_name=model_name,
        drift_p_value=drift_p_value,
        drift_param_sigmas=drift_param_sigmas,
    )
    run = RunContext.for_task(run_id, task_name)

    def work() -> dict:
        decision = decide(
            store, config, model_version, dataset_key_of(data), batch_id, evaluation_time, run
        )
        return {"decision": asdict(decision)}

    decision = DriftDecision(**run_once(store, run, work)["decision"])
    for name, fired in decision.flags.items():
        metrics.log_metric(name, float(fired))
    for name, values in decision.statistics.items():
        for measure, value in values.items():
            metrics.log_metric(f"{name}.{measure}", float(value))
    metrics.log_metric("drift", float(decision.drift))
    page = render_decision_html(store, config, decision, run.run_id)
    Path(report.path).parent.mkdir(parents=True, exist_ok=True)
    Path(report.path).write_text(page, encoding="utf-8")
    markdown = decision_markdown(decision, config.model.name, config.drift)
    Path(summary.path).parent.mkdir(parents=True, exist_ok=True)
    Path(summary.path).write_text(markdown, encoding="utf-8")
    print(
        "flags: "
        + ", ".join(f"{k}={v}" for k, v in decision.flags.items())
        + f"; drift={decision.drift}"
    )
    return decision.drift
