"""Finalize stage: end a run as one transaction, committed whole or rolled back whole.

The exit handler of both pipelines runs it whatever the body's outcome. A run whose tasks all
succeeded commits: the tasks' contributions (the batch it monitored, the versions it
registered, the promotion it decided) go into one commit object (:mod:`lifecycle.commits`),
which is where ``production`` moves, and the CSV views are brought up to date. A run that failed
or was cancelled is rolled back (:mod:`lifecycle.recovery`). A run in which no task wrote
anything (a monitoring run whose batch was already monitored) commits nothing: it leaves the
store as it found it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from lifecycle.commits import Commit, CommitLog
from lifecycle.config import LifecycleConfig
from lifecycle.history import all_logs, decision_log
from lifecycle.objects import now_stamp
from lifecycle.recovery import recover_dead_local_runs, rollback
from lifecycle.registry import ModelRegistry
from lifecycle.runs import RunContext, RunOwner, register_run, run_task_outputs
from lifecycle.store import Store

SUCCEEDED = "SUCCEEDED"
COMMITTED, ROLLED_BACK, SKIPPED = "committed", "rolled back", "skipped"

# The key of a task's outputs that holds what it contributes to its run's commit.
CONTRIBUTION = "commit"


@dataclass
class Contributions:
    """What a run's tasks bring to its commit."""

    batch: dict[str, str] | None = None
    registered: list[str] = field(default_factory=list)
    promotion: dict[str, Any] | None = None
    tasks: int = 0

    def add(self, contribution: Mapping[str, Any]) -> None:
        self.batch = contribution.get("batch") or self.batch
        self.registered += contribution.get("registered", [])
        self.promotion = contribution.get("promotion") or self.promotion

    @classmethod
    def of_run(cls, store: Store, run_id: str) -> Contributions:
        found = cls()
        for outputs in run_task_outputs(store, run_id).values():
            found.add(outputs.get(CONTRIBUTION, {}))
            found.tasks += 1
        return found


def decide_at_commit(intent: Mapping[str, Any], production: str | None) -> tuple[str, str]:
    """The promotion decision against the head's ``production``: (decision, reason).

    The challenger replaces production only when it won against the champion that is still
    production (compare-and-swap); otherwise it is not promoted, and the reason says why.
    """
    if not intent["wins"]:
        return "kept champion", intent["reason"]
    if production == intent["champion"]:
        return "promoted", intent["reason"]
    return (
        "champion changed, not promoted",
        f"challenger {intent['challenger']} was compared with champion {intent['champion']}, "
        f"but production is now {production} (another run promoted it first)",
    )


def commit_run(
    store: Store, config: LifecycleConfig, run: RunContext, contributions: Contributions
) -> Commit:
    """Commit ``run``: its writes count from now on. Idempotent: a second call returns the
    first commit.

    A promotion is decided again on each head the commit is tried on; its decision record is
    written (under this run, so it counts with the commit) before each try.
    """
    model = config.model.name
    if contributions.promotion is not None:
        # Production only ever names a version whose artifact matches its sha256.
        ModelRegistry(store, model, run.run_id).artifact(contributions.promotion["challenger"])

    def build(head: Commit | None) -> Commit:
        aliases = {name: dict(values) for name, values in (head.aliases if head else {}).items()}
        promotion = None
        if contributions.promotion is not None:
            intent = contributions.promotion
            production = head.alias(model) if head else None
            decision, reason = decide_at_commit(intent, production)
            if decision == "promoted":
                aliases.setdefault(model, {})["production"] = intent["challenger"]
            promotion = {**intent, "decision": decision, "reason": reason}
            decision_log(store).append(
                [
                    {
                        "kind": "promotion",
                        "model_name": model,
                        "version": intent["challenger"],
                        "batch": intent["batch"],
                        "decision": decision,
                        "reason": reason,
                        "champion": intent["champion"],
                        "challenger_score": intent["challenger_score"],
                        "champion_score": intent["champion_score"],
                    }
                ],
                run,
            )
        return Commit(
            seq=0,
            run_id=run.run_id,
            pipeline=run.pipeline,
            model=model,
            time_stamp=now_stamp(),
            aliases=aliases,
            batch=contributions.batch,
            promotion=promotion,
            registered=contributions.registered,
        )

    log = CommitLog(store)
    commit = log.commit(run.run_id, build)
    committed = log.visibility()
    for history in all_logs(store):
        history.refresh_view(committed)
    return commit


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended."""

    run_id: str
    outcome: str
    commit: Commit | None = None
    removed: int = 0
    status: str = SUCCEEDED
    error: str = ""


def finalize(
    store: Store, config: LifecycleConfig, run: RunContext, status: str, error: str = ""
) -> RunOutcome:
    """Commit ``run`` when ``status`` is ``SUCCEEDED``, else roll it back.

    Args:
        store: the artefact store.
        config: the model name.
        run: the run, and this task's name (for the records it writes).
        status: the body's final state, as KFP reports it (``SUCCEEDED``, ``FAILED``,
            ``CANCELED``...).
        error: KFP's error message of a failed body, kept in the outcome.
    """
    done = CommitLog(store).find(run.run_id)
    if done is not None:
        return RunOutcome(run.run_id, COMMITTED, done, status=status)
    if status != SUCCEEDED:
        return RunOutcome(
            run.run_id,
            ROLLED_BACK,
            removed=len(rollback(store, run.run_id)),
            status=status,
            error=error,
        )
    contributions = Contributions.of_run(store, run.run_id)
    if contributions.tasks == 0:  # no task wrote anything: a batch already monitored
        return RunOutcome(run.run_id, SKIPPED, removed=len(rollback(store, run.run_id)))
    return RunOutcome(run.run_id, COMMITTED, commit_run(store, config, run, contributions))


def summary_markdown(outcome: RunOutcome, pipeline: str) -> str:
    """The run's summary, as the KFP UI shows it."""
    lines = [f"# {pipeline}: run {outcome.run_id}", "", f"**{outcome.outcome}**", ""]
    if outcome.outcome == ROLLED_BACK:
        lines.append(
            f"The body ended {outcome.status}"
            + (f" ({outcome.error})" if outcome.error else "")
            + f"; its {outcome.removed} objects were removed: nothing of this run counts."
        )
    elif outcome.outcome == SKIPPED:
        lines.append(
            "The batch was already monitored for this production version: nothing "
            "was scored, nothing is kept."
        )
    elif outcome.commit is not None:
        commit = outcome.commit
        rows = [("commit", str(commit.seq)), ("model", commit.model)]
        if commit.batch:
            rows += [
                ("batch", commit.batch["id"]),
                ("batch sha256", commit.batch["sha256"]),
                ("scored by", commit.batch["production"]),
            ]
        if commit.registered:
            rows.append(("registered", ", ".join(commit.registered)))
        if commit.promotion:
            rows += [
                ("promotion", commit.promotion["decision"]),
                ("why", commit.promotion["reason"]),
            ]
        rows.append(("production", commit.alias(commit.model) or "none"))
        lines += ["| | |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join(lines) + "\n"


@dataclass
class StandaloneRun:
    """One stage called from the command line: a run of its own, committed when it returns."""

    run: RunContext
    contributions: Contributions = field(default_factory=Contributions)
    commit: Commit | None = None

    def contribute(self, contribution: Mapping[str, Any]) -> None:
        self.contributions.add(contribution)

    def task(self, name: str) -> RunContext:
        """Another task of this run: each task writes its own records (several stages called
        in one run, as a test or a notebook does, each need a name of their own)."""
        return RunContext(self.run.run_id, name, self.run.pipeline)


@contextlib.contextmanager
def standalone_run(store: Store, config: LifecycleConfig, task: str) -> Iterator[StandaloneRun]:
    """A transaction around one stage's writes: committed when the block returns, rolled back
    when it raises (a signal included). Runs of commands whose process died are rolled back
    first, as before a pipeline run."""
    recover_dead_local_runs(store)
    transaction = StandaloneRun(RunContext.standalone(task))
    register_run(store, transaction.run, RunOwner.of_this_process())
    try:
        yield transaction
    except BaseException:
        rollback(store, transaction.run.run_id)
        raise
    transaction.commit = commit_run(store, config, transaction.run, transaction.contributions)


def promotion_contribution(promotion: Any) -> dict[str, Any]:
    """A :class:`components.promote.logic.Promotion` as its run's commit sees it."""
    return {"promotion": asdict(promotion)}
