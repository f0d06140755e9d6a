"""Writer helpers for the concurrency tests; light imports, so spawned processes start fast."""

from __future__ import annotations

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
