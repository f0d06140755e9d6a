"""KFP adapter of the promote stage."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("promote"), install_kfp_package=False)
def promote(
    challenger_version: str,
    champion_version: str,
    data: Input[Dataset],
    batch_id: str,
    config_json: str,
    run_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> NamedTuple("PromoteOutputs", wins=bool, reason=str):
    """Decide whether the challenger replaces the champion: not worse on the newest labelled
    batch. ``production`` moves when the run commits, if it still names that champion."""
    from lifecycle.task_errors import report_task_errors

    report_task_errors()

    from collections import namedtuple

    from components.artifacts import dataset_key_of
    from components.finalize.logic import promotion_contribution
    from components.promote.logic import promote as decide
    from lifecycle.config import config_from_json
    from lifecycle.runs import RunContext, run_once
    from lifecycle.store import open_store

    store = open_store()
    run = RunContext.for_task(run_id, task_name)

    def work() -> dict:
        promotion = decide(
            store,
            config_from_json(config_json),
            challenger_version,
            champion_version,
            dataset_key_of(data),
            batch_id,
            run,
        )
        return {"commit": promotion_contribution(promotion)}

    decision = run_once(store, run, work)["commit"]["promotion"]
    verdict = "challenger wins, promoted at commit: " if decision["wins"] else "kept champion: "
    print(verdict + decision["reason"])
    return namedtuple("PromoteOutputs", ["wins", "reason"])(decision["wins"], decision["reason"])
