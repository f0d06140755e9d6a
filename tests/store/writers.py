"""Writer helpers for the concurrency and fault tests; light imports, so spawned processes
start fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from lifecycle.history import evaluation_log
from lifecycle.store import open_store


def record(writer: int, index: int) -> dict[str, Any]:
    """A distinct evaluation record for ``writer``'s ``index``-th append."""
    return {
        "time_stamp": f"2024-01-01T00:{writer:02d}:{index // 60:02d}.{index % 60:06d}+00:00",
        "version": "1.0",
        "batch": f"w{writer}",
        "metric": "RMSE",
        "score": float(index),
    }


def append_many(uri: str, writer: int, count: int) -> None:
    """One writer: its own store object (as a separate component would have), one append each."""
    log = evaluation_log(open_store(uri))
    for index in range(count):
        log.append([record(writer, index)])


# A process that keeps running the stages (ingest, train, evaluate, promote) round after round
# until it is killed or its store fails; it prints each finished round.
STAGE_WRITER = """
import sys
from components.evaluate.logic import evaluate
from components.ingest.logic import ingest
from components.train.logic import train
from lifecycle.config import LifecycleConfig
from lifecycle.errors import LifecycleError
from lifecycle.registry import ModelRegistry
from lifecycle.store import open_store

store, course, rounds = open_store(sys.argv[1]), sys.argv[2], int(sys.argv[3])
config = LifecycleConfig()
registry = ModelRegistry(store, config.model.name)
try:
    for i in range(rounds):
        name = f"batch_{i % 6 + 1}"
        batch = ingest(store, f"{course}/{name}.csv", name, config.schema)
        model, _ = train(store, config, [batch.key], batch.key)
        evaluate(store, config, model.version, batch.key, name)
        registry.set_alias(model.version)
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
