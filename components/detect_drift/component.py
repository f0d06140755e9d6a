"""KFP adapter of the detect-drift stage."""

from kfp import dsl
from kfp.dsl import HTML, Dataset, Input, Metrics, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("detect_drift"), install_kfp_package=False)
def detect_drift(
    model_version: str,
    data: Input[Dataset],
    batch_id: str,
    evaluation_time: str,
    config_json: str,
    metrics: Output[Metrics],
    report: Output[HTML],
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> bool:
    """Run the course's history tests and the data tests; returns the retraining signal."""
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from dataclasses import asdict
    from pathlib import Path

    from components.artifacts import dataset_key_of
    from components.detect_drift.logic import DriftDecision
    from components.detect_drift.logic import detect_drift as decide
    from components.detect_drift.report import render_decision_html
    from lifecycle.config import config_from_json
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = open_store()
    config = config_from_json(config_json)
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
    Path(report.path).write_text(page, encoding="utf-8")
    print(
        "flags: "
        + ", ".join(f"{k}={v}" for k, v in decision.flags.items())
        + f"; drift={decision.drift}"
    )
    return decision.drift
