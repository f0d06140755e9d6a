"""Small JSON objects in the store (history records, commits, claims), read once per process.

History records and commits are read many times (each drift check reads the whole history), so
each store object keeps the ones that can no longer change in memory, and a reader lists the
keys, then fetches only those it has not seen: O(new objects) requests per read rather than
O(history) (on MinIO, 1000 appends would otherwise cost half a million reads).

What can no longer change: a commit (created once, never rewritten) and a record of a committed
run (a run's records are rewritten only by a second attempt of its task, before the commit,
and a committed run is never rolled back). Anything else (a record of a run in flight, a
version claim or metadata, which a rollback can delete and another run write again) is read
afresh each time (``cached=False``).
"""

from __future__ import annotations

import json
import threading
import weakref
from datetime import UTC, datetime
from typing import Any

from lifecycle.errors import StoreError
from lifecycle.store import Store

JsonObject = dict[str, Any]

# store -> {key: object}. An entry whose key is no longer listed (a rolled-back run, a cleared
# store) is simply never used again.
_CACHE: weakref.WeakKeyDictionary[Store, dict[str, JsonObject]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def now_stamp() -> str:
    """The time stamp of a record: ISO 8601 UTC with microseconds, sortable as text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _cache_of(store: Store) -> dict[str, JsonObject]:
    with _CACHE_LOCK:
        cache = _CACHE.get(store)
        if cache is None:
            cache = _CACHE[store] = {}
        return cache


def load_objects(store: Store, listed: list[str], cached: bool = True) -> list[JsonObject]:
    """The objects at ``listed``, fetching (in parallel) only those not seen before; with
    ``cached=False``, fetching them all and keeping none (objects that may change).

    The returned objects are shared with the cache: read them, never change them.

    Raises:
        StoreError: an object is not a JSON object (naming it).
    """
    if not cached:
        return [
            parse_object(key, raw, store)
            for key, raw in zip(listed, store.get_many(listed), strict=True)
        ]
    cache = _cache_of(store)
    with _CACHE_LOCK:
        missing = [key for key in listed if key not in cache]
    if missing:
        fetched = [
            parse_object(key, raw, store)
            for key, raw in zip(missing, store.get_many(missing), strict=True)
        ]
        with _CACHE_LOCK:
            cache.update(zip(missing, fetched, strict=True))
    with _CACHE_LOCK:
        return [cache[key] for key in listed]


def parse_object(key: str, raw: bytes, store: Store) -> JsonObject:
    """One JSON object, or an error naming the store object that is not one.

    Raises:
        StoreError: ``raw`` is not a JSON object.
    """
    try:
        parsed = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(f"object {key!r} in store {store.uri} is not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise StoreError(f"object {key!r} in store {store.uri} is not a JSON object")
    return parsed
