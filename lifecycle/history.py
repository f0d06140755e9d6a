"""Append-only histories (evaluations, drift, decisions) and their course-format CSV views.

Each record is its own object, named by time and a random suffix, so concurrent
appends never overwrite each other. After appending, the writer rebuilds the CSV
view from every record and re-lists until the view matches the listing, so the
last view written always holds every record (see :meth:`AppendLog.refresh_view`).

Records never change once written, so each store object keeps the records it has
read or written in memory: a refresh lists the keys and fetches only the records it
has not seen yet, which keeps an append O(new records) in requests rather than
O(history) (on MinIO, 1000 appends would otherwise cost half a million reads).
"""

from __future__ import annotations

import csv
import io
import json
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lifecycle import keys
from lifecycle.store import Store

Record = dict[str, Any]

_MAX_VIEW_ROUNDS = 20

# store -> {key: record}: the records each store object has read or written. Keys hold a
# time stamp and a random suffix and records are never rewritten, so entries stay valid;
# an entry whose key is no longer listed (a cleared store) is simply never used.
_RECORD_CACHE: weakref.WeakKeyDictionary[Store, dict[str, Record]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _cache_of(store: Store) -> dict[str, Record]:
    with _CACHE_LOCK:
        cache = _RECORD_CACHE.get(store)
        if cache is None:
            cache = _RECORD_CACHE[store] = {}
        return cache


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
            safe = stamp.replace(":", "").replace("+", "Z")
            key = f"{self.prefix}/{safe}-{uuid.uuid4().hex[:12]}.json"
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
            fetched = [json.loads(raw) for raw in self.store.get_many(missing)]
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

    def refresh_view(self) -> None:
        """Rewrite the view until a fresh listing shows no record it lacks."""
        listed = self.keys()
        for _ in range(_MAX_VIEW_ROUNDS):
            self.store.put_bytes(self.view_key, self.render_view(self._load(listed)))
            relisted = self.keys()
            if relisted == listed:
                return
            listed = relisted


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
