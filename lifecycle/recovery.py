"""Runs that never committed: finding them, rolling them back, cleaning up after crashes.

A run's writes are all under keys that name it (:mod:`lifecycle.keys`): its history records,
experiences, task results and marker, the model versions it claimed and its marks on the
datasets it used. Until the run commits nobody counts them; a rollback deletes them, the
marker last, so an interrupted rollback is found and finished later. Datasets are
content-addressed and may be shared: a rollback removes a dataset only when no other run has
marked it (a run marks a dataset before it reuses one).

Who rolls back what:

* a run that failed or was cancelled: its own exit handler (``finalize``);
* a local run whose process died (SIGKILL, a crash): the next local pipeline command, which
  sees from the run's marker that its owner process on this machine is gone;
* anything else (a cluster run whose exit handler never ran): ``lifecycle cleanup``, once
  the run has written nothing for a grace period.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field

from lifecycle import keys
from lifecycle.commits import CommitLog
from lifecycle.errors import LifecycleError
from lifecycle.history import VIEW_STATE, all_logs
from lifecycle.objects import load_objects
from lifecycle.runs import RunOwner
from lifecycle.store import Store

DEFAULT_GRACE_SECONDS = 3600.0


@dataclass(frozen=True)
class UncommittedRun:
    """A run with writes in the store and no commit."""

    run_id: str
    keys: tuple[str, ...]
    last_write: float
    owner: RunOwner | None

    def describe(self, now: float) -> str:
        if self.owner is None:
            who = "no local owner"
        else:
            state = "dead" if self.owner.is_dead() else "alive or elsewhere"
            who = f"owner pid {self.owner.pid} on {self.owner.host} ({state})"
        return (
            f"run {self.run_id}: not committed: {len(self.keys)} objects, last written "
            f"{now - self.last_write:.0f} s ago, {who}"
        )


def _claimed_versions(store: Store, listed: list[str]) -> dict[str, str]:
    """``models/<m>/versions/<v>/`` prefix -> the run that claimed that version."""
    claim_keys = [key for key in listed if key.split("/")[2:3] == ["claims"]]
    claims = load_objects(store, claim_keys, cached=False)
    return {
        f"{keys.MODELS}/{key.split('/')[1]}/versions/{key.split('/')[3]}/": claim["run_id"]
        for key, claim in zip(claim_keys, claims, strict=True)
        if "run_id" in claim
    }


def run_objects(store: Store) -> dict[str, dict[str, float]]:
    """Every run-scoped object: run id -> {key: last written}, markers last in the order of
    deletion (history records, experiences, model versions, claims, task results, marker)."""
    modified = store.list_modified()
    listed = sorted(modified)
    versions = _claimed_versions(store, [k for k in listed if k.startswith(f"{keys.MODELS}/")])
    record_prefixes = [f"{log.prefix}/" for log in all_logs(store)]
    found: dict[str, dict[str, float]] = defaultdict(dict)

    def add(run_id: str, key: str) -> None:
        found[run_id][key] = modified[key]

    for key in listed:
        parts = key.split("/")
        prefix = next((p for p in record_prefixes if key.startswith(p)), None)
        if prefix is not None:
            add(key[len(prefix) :].split("/")[0], key)
        elif parts[0] == keys.DATASETS and len(parts) == 5 and parts[3] == keys.DATASET_USES:
            add(parts[4], key)
        elif parts[0] == keys.EXPERIENCES and len(parts) == 6:
            add(keys.run_of_experience(key), key)
        elif parts[0] == keys.MODELS and len(parts) >= 4 and parts[2] == "versions":
            owner = versions.get("/".join(parts[:4]) + "/")
            if owner is not None:
                add(owner, key)
    for key in listed:  # claims after the versions they guard
        parts = key.split("/")
        if parts[0] == keys.MODELS and len(parts) == 4 and parts[2] == "claims":
            owner = versions.get(f"{keys.MODELS}/{parts[1]}/versions/{parts[3]}/")
            if owner is not None:
                add(owner, key)
    for key in listed:  # bookkeeping last: the marker is what makes a run findable
        if key.startswith(f"{keys.TASK_RESULTS}/"):
            add(key.split("/")[1], key)
    for key in listed:
        if key.startswith(f"{keys.RUNS}/") and key.endswith(".json"):
            add(key[len(keys.RUNS) + 1 : -len(".json")], key)
    return found


def uncommitted_runs(store: Store) -> list[UncommittedRun]:
    """Every run with objects in the store and no commit, oldest write first."""
    committed = CommitLog(store).committed_runs()
    runs = []
    for run_id, objects in run_objects(store).items():
        if run_id in committed:
            continue
        owner = None
        marker_key = keys.run_marker_key(run_id)
        if marker_key in objects:
            marker = json.loads(store.get_bytes(marker_key))
            owner = RunOwner(**marker["owner"]) if marker.get("owner") else None
        runs.append(UncommittedRun(run_id, tuple(objects), max(objects.values()), owner))
    return sorted(runs, key=lambda run: run.last_write)


def rollback(store: Store, run_id: str) -> list[str]:
    """Delete everything ``run_id`` wrote, its marker last. Returns the deleted keys.

    Raises:
        LifecycleError: the run has committed (its writes count; they are never removed).
    """
    if run_id in CommitLog(store).committed_runs():
        raise LifecycleError(f"run {run_id} has committed: its writes are never rolled back")
    objects = list(run_objects(store).get(run_id, {}))
    removed = []
    for key in objects:
        if key.split("/")[0] == keys.DATASETS:
            removed += _unmark_dataset(store, key, run_id)
        store.delete(key)
        removed.append(key)
    return removed


def _unmark_dataset(store: Store, use_key: str, run_id: str) -> list[str]:
    """Before a run's mark on a dataset goes: the dataset too, when no other run uses it and
    the run that stored it never committed (this one, or one rolled back before). Returns the
    keys deleted."""
    folder = use_key.rsplit("/", 2)[0]
    others = [k for k in store.list_keys(f"{folder}/{keys.DATASET_USES}/") if k != use_key]
    meta_key = f"{folder}/{keys.META_FILE}"
    if others or not store.exists(meta_key):
        return []
    creator = json.loads(store.get_bytes(meta_key)).get("run_id")
    if creator is None or creator in CommitLog(store).committed_runs():
        return []  # a committed run's data stays, used or not
    data_key = f"{folder}/{keys.DATA_FILE}"
    store.delete(meta_key)  # invisible first, then gone
    store.delete(data_key)
    return [meta_key, data_key]


def recover_dead_local_runs(store: Store) -> list[str]:
    """Roll back every uncommitted run whose owner process on this machine has ended.

    Run before each local pipeline run, so a run killed with SIGKILL (or a machine that
    crashed) leaves nothing behind that would change the next run's results, such as the
    model version number it claimed. Cheap when there is nothing to recover: it lists the run
    markers and the commits, and scans the store only for a dead run.
    """
    committed = CommitLog(store).committed_runs()
    markers = [
        key
        for key in store.list_keys(f"{keys.RUNS}/")
        if key[len(keys.RUNS) + 1 : -len(".json")] not in committed
    ]
    dead = [
        marker["run_id"]
        for marker in load_objects(store, markers, cached=False)
        if marker.get("owner") and RunOwner(**marker["owner"]).is_dead()
    ]
    for run_id in dead:
        rollback(store, run_id)
    return dead


@dataclass
class Cleanup:
    """What ``lifecycle cleanup`` removed (or would remove, on a dry run)."""

    runs: list[str] = field(default_factory=list)
    objects: int = 0
    temporary: list[str] = field(default_factory=list)
    locks: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def expired_view_locks(store: Store, now: float) -> list[str]:
    """View leases whose holder overran them (a writer killed while rewriting a CSV view)."""
    found = []
    for key in store.list_keys(f"{VIEW_STATE}/"):
        if key.endswith(".lock"):
            try:
                expires = float(json.loads(store.get_bytes(key)).get("expires", 0))
            except (LifecycleError, ValueError, AttributeError):
                expires = 0.0
            if expires < now:
                found.append(key)
    return found


def cleanup(
    store: Store, grace_seconds: float = DEFAULT_GRACE_SECONDS, dry_run: bool = False
) -> Cleanup:
    """Remove what runs that will never commit left behind, never a committed write.

    Uncommitted runs are rolled back once they have written nothing for ``grace_seconds``
    (at once when their local owner process is known dead, never while it is known alive);
    temporary objects of interrupted writes older than the grace period and expired view
    locks are removed, and CSV views left behind the committed runs (a writer stopped between
    its commit and the view's rewrite) are rewritten.
    """
    now = time.time()
    report = Cleanup()
    for run in uncommitted_runs(store):
        dead = run.owner is not None and run.owner.is_dead()
        alive_here = run.owner is not None and not dead and run.owner.host_is_this_machine()
        if dead or (not alive_here and now - run.last_write >= grace_seconds):
            report.runs.append(run.run_id)
            report.objects += len(run.keys)
            if not dry_run:
                rollback(store, run.run_id)
        else:
            report.kept.append(run.run_id)
    for name, started in store.temporary_objects().items():
        if now - started >= grace_seconds:
            report.temporary.append(name)
            if not dry_run:
                store.remove_temporary(name)
    report.locks = expired_view_locks(store, now)
    if not dry_run:
        for key in report.locks:
            store.delete(key)
    visibility = CommitLog(store).visibility()
    for log in all_logs(store):
        if log.view_lags(visibility):
            report.views.append(log.view_key)
            if not dry_run:
                log.refresh_view(visibility)
    return report
