"""The commit log: where a run's writes start to count, and where the aliases live.

A run writes its records, datasets and model versions first, then commits with one small object,
``commits/<seq>.json``, created only if absent (MinIO: a conditional PUT with
``If-None-Match: *``; a folder: an exclusive hard link), as Delta Lake and Iceberg commit a
table version. Readers count a run's records only when its commit exists: a run that failed,
was cancelled or was killed is never half-counted.

Each commit holds the aliases after it (model -> alias -> version), so a promotion is a
compare-and-swap: the run that compared its challenger with champion C commits
``production = challenger`` only on top of a head whose ``production`` is still C. Two runs
racing for the same sequence number get exactly one success; the loser reads the new head and
commits again, without its promotion when the champion has changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from lifecycle import keys
from lifecycle.objects import load_objects
from lifecycle.store import Store


@dataclass(frozen=True)
class Commit:
    """One committed run and the state of every alias after it."""

    seq: int
    run_id: str
    pipeline: str
    model: str
    time_stamp: str
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    # Monitoring runs: {"id", "sha256", "production"} of the batch they monitored.
    batch: dict[str, str] | None = None
    # {"challenger", "champion", "decision", "reason"} when the run decided a promotion.
    promotion: dict[str, Any] | None = None
    registered: list[str] = field(default_factory=list)

    def alias(self, model: str, alias: str = keys.PRODUCTION_ALIAS) -> str | None:
        return self.aliases.get(model, {}).get(alias)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()


@dataclass(frozen=True)
class Visibility:
    """Which runs' writes a reader counts: the committed ones and, for a task, its own run's."""

    committed: frozenset[str]
    own_run: str | None = None

    def counts(self, written: Mapping[str, Any]) -> bool:
        """Whether an object (a record, a model version's metadata) of run ``run_id`` counts."""
        run_id = written.get("run_id")
        return run_id in self.committed or run_id == self.own_run


class CommitLog:
    """The store's commits, oldest first."""

    def __init__(self, store: Store):
        self.store = store

    def _keys(self) -> list[str]:
        return self.store.list_keys(f"{keys.COMMITS}/")

    def entries(self) -> list[Commit]:
        return [Commit(**entry) for entry in load_objects(self.store, self._keys())]

    def head(self) -> Commit | None:
        """The latest commit (one listing and at most one read)."""
        listed = self._keys()
        return Commit(**load_objects(self.store, listed[-1:])[0]) if listed else None

    def committed_runs(self) -> frozenset[str]:
        return frozenset(entry.run_id for entry in self.entries())

    def visibility(self, own_run: str | None = None) -> Visibility:
        return Visibility(self.committed_runs(), own_run)

    def find(self, run_id: str) -> Commit | None:
        return next((entry for entry in self.entries() if entry.run_id == run_id), None)

    def alias(self, model: str, alias: str = keys.PRODUCTION_ALIAS) -> str | None:
        head = self.head()
        return head.alias(model, alias) if head else None

    def commit(self, run_id: str, build: Callable[[Commit | None], Commit]) -> Commit:
        """Append the commit of ``run_id``, built by ``build`` on top of the current head.

        ``build`` gets the head (None for the first commit) and returns the commit to write; its
        ``seq`` is replaced by the head's + 1. It is called again, on the new head, each time
        another run commits first, so whatever it decides from the head (a promotion) is
        decided again. Committing a run twice returns its first commit.
        """
        while True:
            existing = self.find(run_id)
            if existing is not None:
                return existing
            head = self.head()
            built = build(head)
            entry = Commit(**{**asdict(built), "seq": head.seq + 1 if head else 1})
            if self.store.put_if_absent(keys.commit_key(entry.seq), entry.to_json()):
                return entry
