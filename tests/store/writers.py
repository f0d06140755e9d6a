"""Writer helpers for the concurrency and fault tests; light imports, so spawned processes
start fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from components.finalize.logic import Contributions, commit_run
from lifecycle.config import LifecycleConfig
from lifecycle.history import evaluation_log
from lifecycle.runs import RunContext
from lifecycle.store import Store, open_store


def record(writer: int, index: int) -> dict[str, Any]:
    """A distinct evaluation record for ``writer``'s ``index``-th append."""
    return {
        "time_stamp": f"2024-01-01T00:{writer:02d}:{index // 60:02d}.{index % 60:06d}+00:00",
        "version": "1.0",
        "batch": f"w{writer}",
        "metric": "RMSE",
        "score": float(index),
    }


def committed_append(store: Store, records: list[dict[str, Any]], run_id: str) -> None:
    """A run of one task that appends ``records`` and commits."""
    run = RunContext(run_id, "evaluate")
    evaluation_log(store).append(records, run)
    commit_run(store, LifecycleConfig(), run, Contributions())


def append_many(uri: str, writer: int, count: int) -> None:
    """One writer: its own store object (as a separate component would have), ``count`` runs
    of one record each."""
    store = open_store(uri)
    for index in range(count):
        committed_append(store, [record(writer, index)], f"w{writer}-{index}")


# A process that keeps running the stages (ingest, train, evaluate, promote) round after round,
# one committed run per round, until it is killed or its store fails; it prints each finished
# round. Each challenger is promoted (a tolerance no score can exceed), so the last round's
# model is production.
STAGE_WRITER = """
import sys
from components.evaluate.logic import evaluate
from components.finalize.logic import promotion_contribution, standalone_run
from components.ingest.logic import ingest
from components.promote.logic import promote
from components.train.logic import train
from lifecycle.config import LifecycleConfig, PromotionConfig
from lifecycle.errors import LifecycleError
from lifecycle.store import open_store

store, course, rounds = open_store(sys.argv[1]), sys.argv[2], int(sys.argv[3])
config = LifecycleConfig(promotion=PromotionConfig(tolerance=1e300))
try:
    for i in range(rounds):
        name = f"batch_{i % 6 + 1}"
        with standalone_run(store, config, "round") as tx:
            path = f"{course}/{name}.csv"
            batch = ingest(store, path, name, config.schema, tx.task("ingest"))
            model, _ = train(store, config, [batch.key], batch.key, None, tx.task("train"))
            tx.contribute({"registered": [model.version]})
            evaluate(store, config, model.version, batch.key, name, "test", tx.task("evaluate"))
            decided = promote(store, config, model.version, "", batch.key, name, tx.task("promote"))
            tx.contribute(promotion_contribution(decided))
        print(i, flush=True)
except LifecycleError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)
"""


def start_stage_writer(store_uri: str, course: Path, rounds: int) -> subprocess.Popen[str]:
    """Start :data:`STAGE_WRITER` on ``store_uri`` for ``rounds`` rounds (stdout: one line each)."""
    return subprocess.Popen(
        [sys.executable, "-c", STAGE_WRITER, store_uri, str(course), str(rounds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
