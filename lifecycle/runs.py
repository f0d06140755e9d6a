"""Runs as transactions: who writes (a run id and a task name) and what a task already did.

Every object a pipeline task writes to the store names its run and task, and sits under a key
that holds the run id (see :mod:`lifecycle.keys`), so a run's writes can be found, counted only
once the run has committed (:mod:`lifecycle.commits`) and removed if it never does
(:mod:`lifecycle.recovery`).

A task is idempotent per run: its last write is its *task result* (its outputs, as JSON) at
``tasks/<run_id>/<task>.json``. Run again with the same run id and task name (Argo retrying a
pod, KFP's "retry run", a second call by hand), it finds that result, writes nothing and returns
the first attempt's outputs (:func:`run_once`). An attempt that died before its result is simply
redone: every key it writes is derived from the run id and the task name, so a second attempt
overwrites the first one's objects instead of adding to them.

On a cluster the run id is KFP's run UUID (``dsl.PIPELINE_JOB_ID_PLACEHOLDER``) and the task
name KFP's (``dsl.PIPELINE_TASK_NAME_PLACEHOLDER``). KFP's local runner resolves the run id to
eight random digits, too few to tell apart the runs of a store's lifetime, so the local runner
(:mod:`pipelines.local`) gives its runs a UUID through ``$LIFECYCLE_RUN_ID``, which wins.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lifecycle import keys
from lifecycle.errors import InvalidInputError, KeyNotFoundError
from lifecycle.objects import now_stamp
from lifecycle.store import Store
from lifecycle.store.base import validate_name

RUN_ID_ENV = "LIFECYCLE_RUN_ID"
OWNER_ENV = "LIFECYCLE_RUN_OWNER"
# What an unresolved KFP placeholder looks like (``{{$.pipeline_job_uuid}}`` and the like).
_PLACEHOLDER_START = "{{$"

Outputs = dict[str, Any]


@dataclass(frozen=True)
class RunOwner:
    """The process that started a local run, so that a later command can tell it died.

    ``start_ticks`` (the process's start time, from ``/proc``) tells a live owner from a new
    process that reuses its pid.
    """

    host: str
    boot_id: str
    pid: int
    start_ticks: int

    @classmethod
    def of_this_process(cls) -> RunOwner:
        return cls(socket.gethostname(), _boot_id(), os.getpid(), _start_ticks(os.getpid()))

    def host_is_this_machine(self) -> bool:
        return self.host == socket.gethostname()

    def is_dead(self) -> bool:
        """True only when this owner surely ended: it ran on this machine, and either the
        machine has rebooted since or its process is gone (or its pid now names another
        process). A process of another machine is never judged from here."""
        if not self.host_is_this_machine() or not self.boot_id:
            return False
        if self.boot_id != _boot_id():
            return True
        return _start_ticks(self.pid) != self.start_ticks

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> RunOwner | None:
        raw = os.environ.get(OWNER_ENV)
        return cls(**json.loads(raw)) if raw else None


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> int:
    """The start time of process ``pid`` in clock ticks since boot, or -1 when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return -1
    # Field 22 (starttime), counted after the command name, which may hold spaces.
    return int(stat.rsplit(")", 1)[1].split()[19])


def _resolved(value: str) -> str:
    """``value`` unless it is empty or a KFP placeholder the runner left unresolved."""
    return "" if not value or value.startswith(_PLACEHOLDER_START) else value


@dataclass(frozen=True)
class RunContext:
    """Who is writing: the run (a transaction) and the task within it."""

    run_id: str
    task: str
    pipeline: str = ""

    def __post_init__(self) -> None:
        validate_name(self.run_id, "run id")
        validate_name(self.task, "task name")

    @classmethod
    def for_task(cls, job_id: str, task_name: str, pipeline: str = "") -> RunContext:
        """The context of a pipeline task, from KFP's run id and task name placeholders.

        Raises:
            InvalidInputError: neither ``$LIFECYCLE_RUN_ID`` nor a resolved ``job_id``.
        """
        run_id = os.environ.get(RUN_ID_ENV) or _resolved(job_id)
        if not run_id:
            raise InvalidInputError(
                f"no run id: the runner resolved neither {RUN_ID_ENV} nor the pipeline's job id"
            )
        return cls(run_id, _resolved(task_name) or "task", pipeline)

    @classmethod
    def standalone(cls, task: str) -> RunContext:
        """A run of its own for one stage called from the command line."""
        return cls(new_run_id(), task, "cli")

    def stamp(self) -> dict[str, str]:
        """The fields every record of this task carries."""
        return {"run_id": self.run_id, "task": self.task}


def new_run_id() -> str:
    return str(uuid.uuid4())


def register_run(store: Store, run: RunContext, owner: RunOwner | None = None) -> None:
    """Create the run's marker (``runs/<run_id>.json``) unless it exists.

    Every task calls this before its first write, so an uncommitted run is always findable by
    its marker; the marker is deleted last when a run is rolled back.
    """
    owner = owner or RunOwner.from_env()
    marker = {
        "run_id": run.run_id,
        "pipeline": run.pipeline,
        "started_at": now_stamp(),
        "owner": asdict(owner) if owner else None,
    }
    store.put_if_absent(keys.run_marker_key(run.run_id), json.dumps(marker).encode())


def read_run_marker(store: Store, run_id: str) -> dict[str, Any] | None:
    try:
        return json.loads(store.get_bytes(keys.run_marker_key(run_id)))
    except KeyNotFoundError:
        return None


def task_outputs(store: Store, run: RunContext) -> Outputs | None:
    """The outputs this run's task recorded, or None when it has not finished."""
    try:
        raw = store.get_bytes(keys.task_result_key(run.run_id, run.task))
    except KeyNotFoundError:
        return None
    return json.loads(raw)["outputs"]


def run_task_outputs(store: Store, run_id: str) -> dict[str, Outputs]:
    """Every finished task of a run: task name -> outputs."""
    found = store.list_keys(keys.task_results_prefix(run_id))
    return {
        key.rsplit("/", 1)[1].removesuffix(".json"): json.loads(raw)["outputs"]
        for key, raw in zip(found, store.get_many(found), strict=True)
    }


def run_once(store: Store, run: RunContext, work: Callable[[], Outputs]) -> Outputs:
    """``work``'s outputs for this run's task: done and recorded once, read back after.

    Args:
        store: the artefact store.
        run: the run and task.
        work: the task's writes; returns its outputs (JSON-safe), recorded as its last write.

    Returns:
        The outputs of the first attempt that finished.
    """
    done = task_outputs(store, run)
    if done is not None:
        print(f"task {run.task} of run {run.run_id} already finished: returning its outputs")
        return done
    register_run(store, run)
    outputs = work()
    result = {"run_id": run.run_id, "task": run.task, "finished_at": now_stamp()}
    result["outputs"] = outputs
    store.put_bytes(
        keys.task_result_key(run.run_id, run.task), json.dumps(result, sort_keys=True).encode()
    )
    return outputs
