"""Append-only histories (evaluations, drift, decisions) and their course-format CSV views.

Each record is its own object under its run (``<prefix>/<run_id>/<task>-<n>.json``, see
:mod:`lifecycle.runs`), so concurrent runs never overwrite each other and a second attempt of
a task overwrites its first attempt's records instead of adding to them. A record counts for
readers only once its run has committed (:mod:`lifecycle.commits`); the CSV views hold exactly
the committed records and are rewritten when a run commits (see :meth:`AppendLog.refresh_view`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle import keys
from lifecycle.commits import CommitLog, Visibility
from lifecycle.errors import KeyNotFoundError, StoreError
from lifecycle.objects import load_objects, now_stamp
from lifecycle.store import Store

if TYPE_CHECKING:
    from lifecycle.runs import RunContext

Record = dict[str, Any]

VIEW_STATE = "_views"  # per view: its lock and its row count
_VIEW_LEASE_SECONDS = 15.0
_log = logging.getLogger(__name__)


class _Token(threading.local):
    """A lease token per thread: a lease is exclusive among threads of one process too."""

    def get(self) -> str:
        if not hasattr(self, "value"):
            self.value = uuid.uuid4().hex
        return self.value


_LEASE_TOKEN = _Token()


@dataclass(frozen=True)
class AppendLog:
    """A history: one JSON object per record under ``prefix``, plus a CSV view."""

    store: Store
    prefix: str
    view_key: str
    to_rows: Callable[[list[Record]], tuple[list[str], list[list[Any]]]]

    def append(self, records: Iterable[Record], run: RunContext) -> list[str]:
        """Write each record as its own object of ``run``'s task. Returns the keys.

        The records carry ``run_id`` and ``task``; they count for readers once the run commits.
        Their keys are the task's n-th record of this log, so a task appends to a log once (a
        second attempt of the task then overwrites its first attempt's records).
        """
        written = []
        for index, record in enumerate(records):
            key = keys.record_key(self.prefix, run.run_id, run.task, index)
            stamped = {"time_stamp": now_stamp(), **record, **run.stamp()}
            self.store.put_bytes(key, json.dumps(stamped, sort_keys=True).encode())
            written.append(key)
        return written

    def keys(self) -> list[str]:
        """Every record's key, committed or not."""
        return self.store.list_keys(f"{self.prefix}/")

    def records(self, own_run: str | None = None) -> list[Record]:
        """The records that count: those of committed runs, and of ``own_run`` (the caller's
        run) when given; ordered by time stamp (fresh copies the caller may change)."""
        return self.visible_records(CommitLog(self.store).visibility(own_run))

    def visible_records(self, visibility: Visibility) -> list[Record]:
        """The records ``visibility`` counts, ordered by time stamp then key.

        A record's run is in its key, so only the records that count are read; those of
        committed runs can no longer change and are cached, the reader's own run's are not.
        """
        committed, own = [], []
        for key in self.keys():
            run_id = key[len(self.prefix) + 1 :].split("/", 1)[0]
            if run_id in visibility.committed:
                committed.append(key)
            elif run_id == visibility.own_run:
                own.append(key)
        pairs = sorted(
            (
                (record.get("time_stamp", ""), key, record)
                for keys_, cached in ((committed, True), (own, False))
                for key, record in zip(keys_, load_objects(self.store, keys_, cached), strict=True)
            ),
            key=lambda item: item[:2],
        )
        return [json.loads(json.dumps(record)) for _, _, record in pairs]

    def render_view(self, records: list[Record]) -> bytes:
        header, rows = self.to_rows(records)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue().encode()

    @property
    def _lease_key(self) -> str:
        return f"{VIEW_STATE}/{self.view_key}.lock"

    @property
    def _rows_key(self) -> str:
        return f"{VIEW_STATE}/{self.view_key}.rows"

    def _view_rows(self) -> int:
        """How many records the stored view holds (one row each), or -1 when it is absent."""
        try:
            text = self.store.get_bytes(self.view_key).decode()
        except KeyNotFoundError:
            return -1
        return sum(1 for _ in csv.reader(io.StringIO(text))) - 1

    def _rows_hint(self) -> int:
        """A lower bound of the view's rows, from the small object written after the view."""
        try:
            return int(self.store.get_bytes(self._rows_key))
        except (KeyNotFoundError, ValueError):
            return -1

    def view_lags(self, visibility: Visibility | None = None) -> bool:
        """Whether the stored view holds fewer rows than there are committed records: its
        writer was stopped between its run's commit and the view's rewrite. The records are
        whole; the next commit or ``lifecycle cleanup`` rewrites the view."""
        committed = self.visible_records(visibility or CommitLog(self.store).visibility())
        return bool(committed) and self._view_rows() < len(committed)

    def refresh_view(self, visibility: Visibility | None = None) -> None:
        """Make the stored view hold every committed record; rewrite it only when it lags.

        Called when a run commits. Views are written only under an exclusive lease (a
        ``put_if_absent`` lock object), and only from a list of committed records longer
        than the view: runs only ever commit, never uncommit, so that list only grows, every
        view holds the records of the views before it, and the last view written holds every
        record of every run committed before it was listed. Concurrent committers mostly find
        their records already in a view the lease holder just wrote, and stop without writing.

        Args:
            visibility: the committed runs, when the caller has just read them.

        Raises:
            StoreError: the store failed, or the lease stayed taken past its expiry.
        """
        committed = self.visible_records(visibility or CommitLog(self.store).visibility())
        started = time.monotonic()
        inspected = started
        pause = 0.002
        while True:
            if self._rows_hint() >= len(committed):
                return
            expires = self._take_lease(inspect=time.monotonic() - inspected > 1.0)
            if expires is not None:
                try:
                    rows = self._view_rows()
                    if rows < len(committed):
                        # Fewer rows than our list: the view came from an older list, a
                        # subset of ours, so writing ours keeps the views monotone.
                        self.store.put_bytes(self.view_key, self.render_view(committed))
                        rows = len(committed)
                    self.store.put_bytes(self._rows_key, str(rows).encode())
                finally:
                    self._release_lease(expires)
                return
            if time.monotonic() - inspected > 1.0:
                inspected = time.monotonic()
            if time.monotonic() - started > 3 * _VIEW_LEASE_SECONDS:
                raise StoreError(
                    f"cannot refresh {self.view_key} in store {self.store.uri}: its lock "
                    f"{self._lease_key} stays taken; delete it if no writer is running"
                )
            time.sleep(pause * (1 + random.random()))  # noqa: S311 - jitter, not crypto
            pause = min(pause * 2, 0.05)

    def _take_lease(self, inspect: bool) -> float | None:
        """Create the lock object and return its expiry, else None.

        With ``inspect``, a taken lock is read: it is ours when our create's reply was lost
        and retried, and it is broken when its holder overran the lease.
        """
        token = _LEASE_TOKEN.get()
        expires = time.time() + _VIEW_LEASE_SECONDS
        body = json.dumps({"token": token, "expires": expires})
        if self.store.put_if_absent(self._lease_key, body.encode()):
            return expires
        if not inspect:
            return None
        try:
            held = json.loads(self.store.get_bytes(self._lease_key))
        except KeyNotFoundError:
            return None  # just released: the next round retries
        if held.get("token") == token:
            return float(held["expires"])
        if held.get("expires", 0) < time.time():
            _log.warning("breaking the expired lock %s", self._lease_key)
            self.store.delete(self._lease_key)
        return None

    def _release_lease(self, expires: float) -> None:
        if time.time() > expires - 1:  # overran: the lock may have been broken and retaken
            try:
                held = json.loads(self.store.get_bytes(self._lease_key))
            except KeyNotFoundError:
                return
            if held.get("token") != _LEASE_TOKEN.get():
                return
        self.store.delete(self._lease_key)


def _evaluation_rows(records: list[Record]) -> tuple[list[str], list[list[Any]]]:
    header = ["time_stamp", "version", "batch", "metric", "score"]
    return header, [[record[column] for column in header] for record in records]


DRIFT_COURSE_COLUMNS = [
    "hard_test_RMSE",
    "hard_test_r2",
    "param_test_RMSE",
    "param_test_r2",
    "iqr_test_RMSE",
    "iqr_test_r2",
]


def _drift_rows(records: list[Record]) -> tuple[list[str], list[list[Any]]]:
    further: list[str] = []
    for record in records:
        for name in record["flags"]:
            if name not in DRIFT_COURSE_COLUMNS and name not in further:
                further.append(name)
    columns = DRIFT_COURSE_COLUMNS + further
    rows = [
        [record["time_stamp"], record["model_name"]]
        + [record["flags"].get(column, "") for column in columns]
        + [record["drift"]]
        for record in records
    ]
    return ["time_stamp", "model_name", *columns, "drift"], rows


def _decision_rows(records: list[Record]) -> tuple[list[str], list[list[Any]]]:
    header = ["time_stamp", "kind", "model_name", "version", "batch", "decision", "reason"]
    return header, [[record.get(column, "") for column in header] for record in records]


def evaluation_log(store: Store) -> AppendLog:
    """The evaluation history: one record per metric per evaluation."""
    return AppendLog(store, keys.EVALUATION_RECORDS, keys.EVALUATION_VIEW, _evaluation_rows)


def drift_log(store: Store) -> AppendLog:
    """The course's drift log: one record per monitoring run whose retraining signal fired."""
    return AppendLog(store, keys.DRIFT_RECORDS, keys.DRIFT_VIEW, _drift_rows)


def decision_log(store: Store) -> AppendLog:
    """Every decision taken: drift verdicts, retrains, promotions (with why)."""
    return AppendLog(store, keys.DECISION_RECORDS, keys.DECISION_VIEW, _decision_rows)


def all_logs(store: Store) -> tuple[AppendLog, AppendLog, AppendLog]:
    """Every history of the store: evaluations, drift, decisions."""
    return evaluation_log(store), drift_log(store), decision_log(store)
