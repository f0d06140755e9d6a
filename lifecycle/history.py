"""Append-only histories (evaluations, drift, decisions) and their course-format CSV views.

Each record is its own object, named by time and a random suffix, so concurrent
appends never overwrite each other. After appending, the writer rebuilds the CSV
view (one row per record) from every record and re-lists until the stored view holds
as many rows as the listing has records, so the last view written always holds every
record (see :meth:`AppendLog.refresh_view`).

Records never change once written, so each store object keeps the records it has
read or written in memory: a refresh lists the keys and fetches only the records it
has not seen yet, which keeps an append O(new records) in requests rather than
O(history) (on MinIO, 1000 appends would otherwise cost half a million reads).
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
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lifecycle import keys
from lifecycle.errors import KeyNotFoundError, StoreError
from lifecycle.store import Store

Record = dict[str, Any]

VIEW_STATE = "_views"  # per view: its lock and its row count
_VIEW_LEASE_SECONDS = 15.0
_log = logging.getLogger(__name__)

# store -> {key: record}: the records each store object has read or written. Keys hold a
# time stamp and a random suffix and records are never rewritten, so entries stay valid;
# an entry whose key is no longer listed (a cleared store) is simply never used.
_RECORD_CACHE: weakref.WeakKeyDictionary[Store, dict[str, Record]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


class _Token(threading.local):
    """A lease token per thread: a lease is exclusive among threads of one process too."""

    def get(self) -> str:
        if not hasattr(self, "value"):
            self.value = uuid.uuid4().hex
        return self.value


_LEASE_TOKEN = _Token()


def _cache_of(store: Store) -> dict[str, Record]:
    with _CACHE_LOCK:
        cache = _RECORD_CACHE.get(store)
        if cache is None:
            cache = _RECORD_CACHE[store] = {}
        return cache


def stamped_name(stamp: str, suffix: str) -> str:
    """A unique object name that sorts by time: the stamp made key-safe, a random part, a suffix."""
    return f"{stamp.replace(':', '').replace('+', 'Z')}-{uuid.uuid4().hex[:12]}{suffix}"


def now_stamp() -> str:
    """The time stamp of a record: ISO 8601 UTC with microseconds, sortable as text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AppendLog:
    """A history: one JSON object per record under ``prefix``, plus a CSV view."""

    store: Store
    prefix: str
    view_key: str
    to_rows: Callable[[list[Record]], tuple[list[str], list[list[Any]]]]

    def append(self, records: Iterable[Record]) -> list[str]:
        """Write each record as its own object, then refresh the view. Returns the new keys."""
        written = []
        cache = _cache_of(self.store)
        for record in records:
            stamp = record.get("time_stamp") or now_stamp()
            key = f"{self.prefix}/{stamped_name(stamp, '.json')}"
            raw = json.dumps(record, sort_keys=True)
            self.store.put_bytes(key, raw.encode())
            with _CACHE_LOCK:
                cache[key] = json.loads(raw)
            written.append(key)
        self.refresh_view()
        return written

    def keys(self) -> list[str]:
        return self.store.list_keys(f"{self.prefix}/")

    def records(self) -> list[Record]:
        """Every record, ordered by time stamp then key (fresh copies the caller may change)."""
        return [json.loads(json.dumps(record)) for record in self._load(self.keys())]

    def _load(self, listed: list[str]) -> list[Record]:
        """The records at ``listed``, fetching (in parallel) only those not seen before.

        The returned records are shared with the cache: read them, never change them.
        """
        cache = _cache_of(self.store)
        with _CACHE_LOCK:
            missing = [key for key in listed if key not in cache]
        if missing:
            fetched = [
                _parse_record(key, raw, self.store)
                for key, raw in zip(missing, self.store.get_many(missing), strict=True)
            ]
            with _CACHE_LOCK:
                cache.update(zip(missing, fetched, strict=True))
        with _CACHE_LOCK:
            return [cache[key] for key in listed]

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

    def refresh_view(self) -> None:
        """Make the stored view hold every record listed now; rewrite it only when it lags.

        Views are written only under an exclusive lease (a ``put_if_absent`` lock object),
        and only from a listing with more records than the view has rows, so every view
        holds every record of the views before it. Records are only ever added, so once a
        view has at least as many rows as a listing taken after our records were written,
        it holds them all, and so does every later view: the last view written holds every
        record whose writer has returned. Concurrent writers mostly find their records
        already in a view the lease holder just wrote, and stop without writing.

        Raises:
            StoreError: the store failed, or the lease stayed taken past its expiry.
        """
        listed = self.keys()
        started = time.monotonic()
        inspected = started
        pause = 0.002
        while True:
            if self._rows_hint() >= len(listed):
                return
            expires = self._take_lease(inspect=time.monotonic() - inspected > 1.0)
            if expires is not None:
                try:
                    rows = self._view_rows()
                    if rows < len(listed):
                        # Fewer rows than our listing: the view came from an older listing,
                        # a subset of ours, so writing ours keeps the views monotone.
                        self.store.put_bytes(self.view_key, self.render_view(self._load(listed)))
                        rows = len(listed)
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


def _parse_record(key: str, raw: bytes, store: Store) -> Record:
    """One history record, or an error naming the object that is not one.

    Raises:
        StoreError: ``raw`` is not a JSON object.
    """
    try:
        record = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(
            f"history record {key!r} in store {store.uri} is not JSON: {exc}"
        ) from None
    if not isinstance(record, dict):
        raise StoreError(f"history record {key!r} in store {store.uri} is not a JSON object")
    return record


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
