"""What makes a pipeline run one transaction: run identity on every task, an exit handler.

Every task that writes gets KFP's run id and its own task name (:func:`run_identity`), so its
writes are keyed by them and a second attempt of it (Argo's retry of a failed pod, KFP's retry
of a run) writes nothing twice. The body runs inside ``dsl.ExitHandler(finalize)``: the exit
task commits the run when the body succeeded and rolls it back otherwise
(:mod:`components.finalize.logic`).
"""

from __future__ import annotations

from typing import Any

from kfp import dsl

from components.finalize.component import finalize
from pipelines.cluster import configure_task


def run_identity() -> dict[str, str]:
    """The arguments naming a task's run and the task (resolved by KFP on every backend)."""
    return {
        "run_id": dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        "task_name": dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
    }


def run_transaction(pipeline_name: str, config_json: Any, retry: bool) -> dsl.ExitHandler:
    """The exit handler wrapping a pipeline's body: ``with run_transaction(...):``."""
    finish = configure_task(
        finalize(pipeline_name=pipeline_name, config_json=config_json, **run_identity()),
        "finalize",
        retry,
    ).set_display_name("commit or roll back the run")
    return dsl.ExitHandler(finish, name="run-transaction")
