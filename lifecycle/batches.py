"""Batch identity: a labelled batch is known by the sha256 of its bytes.

The commit of every monitoring run records the batch it monitored (id, sha256, and the
production version that scored it), so a batch already monitored for the current production
version is recognised and skipped (a scheduled run over an unchanged ``incoming/latest.csv``
scores nothing twice), and a batch id reused for other content is refused.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lifecycle.commits import Commit, CommitLog
from lifecycle.errors import InvalidInputError, ModelNotFoundError
from lifecycle.store import Store, validate_key, validate_name

_CHUNK = 1 << 20


def locate_source(store: Store, source: str) -> Path | str:
    """Where ``source`` is: a file on disk (a ``Path``), else the key of a store object.

    Raises:
        InvalidInputError: neither a file nor an existing store key.
    """
    path = Path(source)
    if path.is_file():
        return path
    try:
        key = validate_key(source)
    except InvalidInputError:
        raise InvalidInputError(f"{source}: no such file") from None
    local = store.local_path(key)
    if local is not None:
        return local
    if not store.exists(key):
        raise InvalidInputError(f"{source}: no such file, nor key in store {store.uri}")
    return key


def source_sha256(store: Store, source: str) -> str:
    """The sha256 of a file on disk, or else of the store object ``source`` names.

    Raises:
        InvalidInputError: neither a readable file nor a store key.
    """
    digest = hashlib.sha256()
    location = locate_source(store, source)
    if isinstance(location, str):
        # An object of any size: streamed to a scratch file, hashed in chunks, removed.
        with tempfile.TemporaryDirectory(prefix="lifecycle-hash-") as folder:
            copy = Path(folder) / "batch"
            store.get_file(location, copy)
            with open(copy, "rb") as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
    try:
        with open(location, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InvalidInputError(f"{source}: cannot read: {exc.strerror}") from None
    return digest.hexdigest()


def batch_id_from_schedule(batch_id: str, schedule_time: str) -> str:
    """The batch id given, else one made from a scheduled run's time in UTC
    (``2026-12-03T02:00:00Z`` -> ``20261203T020000Z``).

    Raises:
        InvalidInputError: neither a batch id nor a resolved schedule time.
    """
    if batch_id:
        return validate_name(batch_id, "batch id")
    if not schedule_time or schedule_time.startswith("{{$"):
        raise InvalidInputError(
            "batch_id: empty, and this run has no schedule time to name the batch by; "
            "give a batch id"
        )
    try:
        scheduled = datetime.fromisoformat(schedule_time)
    except ValueError:
        raise InvalidInputError(
            f"schedule time {schedule_time!r} is not ISO 8601: give a batch id"
        ) from None
    if scheduled.tzinfo is not None:
        scheduled = scheduled.astimezone(UTC)
    return scheduled.strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class BatchIdentity:
    """What a monitoring run knows of its batch before it scores anything."""

    batch_id: str
    sha256: str
    production: str
    is_new: bool
    # The committed run that already monitored this content for ``production``, if any.
    monitored_by: str | None = None
    monitored_at: str | None = None

    def commit_fields(self) -> dict[str, str]:
        return {"id": self.batch_id, "sha256": self.sha256, "production": self.production}

    def describe(self) -> str:
        if self.is_new:
            return f"batch {self.batch_id} (sha256 {self.sha256[:16]}) is new for {self.production}"
        return (
            f"batch {self.batch_id} (sha256 {self.sha256[:16]}) was already monitored for "
            f"production {self.production} by run {self.monitored_by} at {self.monitored_at}: "
            "nothing to do (force it to monitor again)"
        )


def _monitoring_commits(commits: list[Commit], model: str) -> list[Commit]:
    return [commit for commit in commits if commit.model == model and commit.batch]


def identify_batch(
    store: Store, model: str, batch_id: str, sha256: str, force: bool = False
) -> BatchIdentity:
    """Whether ``batch_id`` with content ``sha256`` is new for ``model``'s production version.

    Raises:
        InvalidInputError: ``batch_id`` was committed before with other content (both hashes
            named).
        ModelNotFoundError: ``model`` has no production version.
    """
    log = CommitLog(store)
    commits = log.entries()
    production = commits[-1].alias(model) if commits else None
    if production is None:
        raise ModelNotFoundError(
            f"model {model!r} has no production version in store {store.uri}; "
            "run the training pipeline first (lifecycle train)"
        )
    monitoring = _monitoring_commits(commits, model)
    for commit in monitoring:
        if commit.batch["id"] == batch_id and commit.batch["sha256"] != sha256:
            raise InvalidInputError(
                f"batch id {batch_id!r}: monitored before with content sha256 "
                f"{commit.batch['sha256']} (run {commit.run_id}); this batch has sha256 "
                f"{sha256}: give the new content a new batch id"
            )
    seen = next(
        (
            commit
            for commit in reversed(monitoring)
            if commit.batch["sha256"] == sha256 and commit.batch["production"] == production
        ),
        None,
    )
    if seen is None or force:
        return BatchIdentity(batch_id, sha256, production, True)
    return BatchIdentity(batch_id, sha256, production, False, seen.run_id, seen.time_stamp)
