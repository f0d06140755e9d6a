"""``lifecycle verify``: check that a store is whole after a crash, a fault or a race.

A store is consistent when every dataset matches its hash, every model version's
artifact matches its sha256, every model with versions has a ``production`` alias naming an
intact version, every history record parses, each CSV view holds exactly the committed records,
and nothing is left of a run that did not commit or of an interrupted write (``lifecycle
cleanup`` removes those).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time

from lifecycle import keys
from lifecycle.config import ModelConfig
from lifecycle.errors import LifecycleError
from lifecycle.history import AppendLog, all_logs
from lifecycle.recovery import expired_view_locks, uncommitted_runs
from lifecycle.registry import ModelRegistry
from lifecycle.store import Store

# Named in the problem line of a view whose writer stopped between a commit and the view's
# rewrite: its rows are committed records, only the newest are missing.
LAGGING_VIEW = "lagging"


def _dataset_problems(store: Store) -> list[str]:
    problems = []
    for meta_key in store.list_keys(f"{keys.DATASETS}/"):
        if not meta_key.endswith(f"/{keys.META_FILE}"):
            continue
        meta = json.loads(store.get_bytes(meta_key))
        if not store.exists(meta["key"]):
            problems.append(f"dataset {meta['key']}: metadata without data")
        elif hashlib.sha256(store.get_bytes(meta["key"])).hexdigest() != meta["sha256"]:
            problems.append(f"dataset {meta['key']}: content does not match its sha256")
    return problems


def _model_problems(store: Store, model: ModelConfig | None) -> list[str]:
    problems = []
    names = sorted({key.split("/")[1] for key in store.list_keys(f"{keys.MODELS}/")})
    for name in names:
        # The configured model's files are held to its estimator's trusted types; another
        # model's to those of the scikit-learn regressor its metadata names.
        registry = ModelRegistry(store, name, model=model if model and model.name == name else None)
        for version in registry.versions():
            try:
                registry.load_artifact(version)
            except LifecycleError as exc:
                problems.append(str(exc))
        production = registry.alias()
        if production is None and registry.versions():
            problems.append(
                f"model {name}: versions {', '.join(registry.versions())} but no production alias"
            )
        if production is not None and production not in registry.versions():
            problems.append(f"model {name}: production names {production}, which does not exist")
    return problems


def _leftover_problems(store: Store) -> list[str]:
    now = time.time()
    return [
        *(run.describe(now) for run in uncommitted_runs(store)),
        *(
            f"temporary object {name}: left by an interrupted write {now - started:.0f} s ago"
            for name, started in store.temporary_objects().items()
        ),
        *(f"{key}: a view lock past its expiry" for key in expired_view_locks(store, now)),
    ]


def _history_problems(log: AppendLog) -> list[str]:
    try:
        records = log.records()
    except (ValueError, LifecycleError) as exc:
        return [f"{log.prefix}: a record does not parse: {exc}"]
    if not records and not log.store.exists(log.view_key):
        return []
    try:
        view = log.store.get_bytes(log.view_key)
    except LifecycleError:
        return [f"{log.view_key}: missing although {len(records)} records exist"]
    if view == log.render_view(records):
        return []
    lines = view.decode(errors="replace").splitlines()
    rows = len(list(csv.reader(io.StringIO(view.decode(errors="replace"))))) - 1
    if rows < len(records) and set(lines) <= set(log.render_view(records).decode().splitlines()):
        return [
            f"{log.view_key}: {rows} rows for {len(records)} records, a view behind the "
            f"committed runs ({LAGGING_VIEW}: the next commit or lifecycle cleanup rewrites it)"
        ]
    if rows != len(records):
        return [f"{log.view_key}: {rows} rows for {len(records)} records"]
    return [f"{log.view_key}: its rows differ from the records"]


def verify_store(store: Store, model: ModelConfig | None = None) -> list[str]:
    """Every inconsistency found, one line each (empty when the store is whole).

    Args:
        store: the store to check.
        model: the config's ``model:`` section, whose estimator decides the types its model
            files may hold.

    Returns:
        One line per problem.
    """
    return [
        *_dataset_problems(store),
        *_model_problems(store, model),
        *(problem for log in all_logs(store) for problem in _history_problems(log)),
        *_leftover_problems(store),
    ]
