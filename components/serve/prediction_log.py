"""The prediction log: every served row, appended to the store off the request path.

A request only appends its columns to an in-memory queue (no I/O, no conversion). A flusher
thread takes the queue when it holds ``flush_rows`` rows or every ``flush_seconds``, and writes
one Parquet object per model version and flush under
``predictions/served/<model>/<version>/<time>-<id>.parquet`` (columns: ``request_id``, ``row``,
``time``, ``model_version``, the features, ``prediction``).

A store outage never fails a request: a flush the store refuses is held in memory and written
at the next flush. Queued and held rows together are bounded by ``max_buffered_rows``; beyond it
new rows are dropped and counted (:attr:`PredictionLog.counters`), never raised. :meth:`close`
flushes everything acknowledged, retrying the store for ``shutdown_seconds``; what the store
still refuses then goes to ``spool_dir`` when one is set (and is sent at the next start),
else it is reported as lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from components.serve.settings import LogSettings
from lifecycle import keys
from lifecycle.objects import now_stamp
from lifecycle.store import Store

_log = logging.getLogger(__name__)
REQUEST_ID = "request_id"
ROW = "row"
TIME = "time"
MODEL_VERSION = "model_version"
PREDICTION = "prediction"
LOG_COLUMNS = (REQUEST_ID, ROW, TIME, MODEL_VERSION)
_RETRY_PAUSE = 0.2


@dataclass(frozen=True)
class _Entry:
    version: str
    request_id: str
    time: float
    columns: dict[str, np.ndarray]
    predictions: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.predictions)


@dataclass
class _Held:
    """A flush not yet in the store: its key and its Parquet bytes."""

    key: str
    data: bytes
    rows: int
    spool_path: Path | None = None  # sent from the spool: removed once in the store


@dataclass
class LogCounters:
    """What the log did so far (the metrics read these)."""

    written_rows: int = 0
    objects: int = 0
    write_failures: int = 0
    dropped_rows: int = 0
    spooled_rows: int = 0
    lost_rows: int = 0


@dataclass(frozen=True)
class CloseReport:
    """The outcome of :meth:`PredictionLog.close`."""

    written_rows: int
    spooled_rows: int
    lost_rows: int
    spool_files: list[str] = field(default_factory=list)


def to_table(entries: list[_Entry], feature_names: tuple[str, ...]) -> pa.Table:
    """One Arrow table of the rows of ``entries`` (all of one model version)."""
    rows = np.fromiter((entry.rows for entry in entries), dtype=np.int64, count=len(entries))
    total = int(rows.sum())
    # Per-entry values are expanded to per-row ones by index (Arrow's take): converting a
    # repeated numpy string array instead costs a hundred times more, with the GIL held.
    entry_of_row = pa.array(np.repeat(np.arange(len(entries)), rows))
    times = np.fromiter((entry.time for entry in entries), dtype=np.float64, count=len(entries))
    columns: dict[str, pa.Array] = {
        REQUEST_ID: pa.array([e.request_id for e in entries], pa.string()).take(entry_of_row),
        ROW: pa.array(
            (np.arange(total) - np.repeat(np.cumsum(rows) - rows, rows)).astype(np.int32)
        ),
        TIME: pa.array((times * 1e6).astype(np.int64))
        .take(entry_of_row)
        .cast(pa.timestamp("us", tz="UTC")),
        MODEL_VERSION: pa.array([entries[0].version], pa.string()).take(
            pa.array(np.zeros(total, dtype=np.int64))
        ),
    }
    for name in feature_names:
        parts = [entry.columns[name] for entry in entries]
        merged = np.concatenate(parts)
        columns[name] = pa.array(merged.tolist() if merged.dtype == object else merged)
    columns[PREDICTION] = pa.array(np.concatenate([entry.predictions for entry in entries]))
    return pa.table(columns)


def table_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    text = [field.name for field in table.schema if pa.types.is_string(field.type)]
    pq.write_table(table, sink, compression="zstd", use_dictionary=text)
    return sink.getvalue().to_pybytes()


def _lowest_cpu_priority() -> None:
    """Run the calling thread at nice 19, where Linux gives each thread its own priority.

    A flush takes some 15 ms of CPU per 100,000 rows; at normal priority, on a busy machine,
    it takes that time from the requests in flight (at 100 rows per request, concurrency 1,
    the log doubled the p99 latency: bench/results/serve.md). At nice 19 it runs in the
    requests' idle moments; the buffer's bound and its dropped-rows counter cover a machine
    that never has any.
    """
    # Not Linux, or not allowed: normal priority then.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class PredictionLog:
    """A bounded, batched, outage-tolerant writer of served predictions to the store."""

    def __init__(
        self,
        store: Store,
        model_name: str,
        feature_names: tuple[str, ...],
        settings: LogSettings,
    ):
        self._store = store
        self._model = model_name
        self._features = feature_names
        self._settings = settings
        self._queue: list[_Entry] = []
        self._queued_rows = 0
        self._held: list[_Held] = []
        self._held_rows = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.counters = LogCounters()

    # Request path ---------------------------------------------------------------------

    def append(
        self,
        version: str,
        request_id: str,
        at: float,
        columns: dict[str, np.ndarray],
        predictions: np.ndarray,
    ) -> bool:
        """Queue one request's rows; False when the buffer is full and they were dropped."""
        rows = len(predictions)
        with self._lock:
            if self._queued_rows + self._held_rows + rows > self._settings.max_buffered_rows:
                self.counters.dropped_rows += rows
                return False
            self._queue.append(_Entry(version, request_id, at, columns, predictions))
            self._queued_rows += rows
            full = self._queued_rows >= self._settings.flush_rows
        if self._closed:
            # A request answered while the server shuts down, after the final flush began:
            # written now, so that everything acknowledged is in the store.
            self.flush()
        elif full:
            self._wake.set()
        return True

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    @property
    def held_rows(self) -> int:
        """Rows of flushes the store refused, waiting for the next attempt."""
        return self._held_rows

    # Flushing -------------------------------------------------------------------------

    def _take(self) -> None:
        """Move the queue into held flushes: one Parquet object per version."""
        with self._lock:
            entries, self._queue = self._queue, []
            taken = self._queued_rows
            self._queued_rows = 0
        if not entries:
            return
        by_version: dict[str, list[_Entry]] = {}
        for entry in entries:
            by_version.setdefault(entry.version, []).append(entry)
        held = [
            _Held(
                keys.prediction_log_key(
                    self._model, version, keys.stamped_name(now_stamp(), ".parquet")
                ),
                table_bytes(to_table(group, self._features)),
                sum(entry.rows for entry in group),
            )
            for version, group in by_version.items()
        ]
        with self._lock:
            self._held.extend(held)
            self._held_rows += taken

    def _write_held(self) -> bool:
        """Write held flushes in order, up to the first the store refuses; True when all are in."""
        while True:
            with self._lock:
                if not self._held:
                    return True
                item = self._held[0]
            try:
                self._store.put_bytes(item.key, item.data)
            except Exception as exc:  # a store outage must never reach a request
                self.counters.write_failures += 1
                _log.warning("prediction log: %d rows held, store write failed: %s", item.rows, exc)
                return False
            if item.spool_path is not None:
                item.spool_path.unlink(missing_ok=True)
            with self._lock:
                self._held.pop(0)
                self._held_rows -= item.rows
            self.counters.written_rows += item.rows
            self.counters.objects += 1

    def flush(self) -> bool:
        """Write everything queued or held now; True when the store took it all."""
        with self._write_lock:
            self._take()
            return self._write_held()

    def start(self) -> None:
        """Send what a previous run spooled, then flush by size and time on a daemon thread."""
        self._load_spool()
        # The first conversion imports parts of pyarrow (a fifth of a second with the GIL
        # held): do it now, before the first request, not in the middle of serving.
        warm = _Entry("0", "0", 0.0, {name: np.zeros(1) for name in self._features}, np.zeros(1))
        table_bytes(to_table([warm], self._features))

        def run() -> None:
            _lowest_cpu_priority()
            while not self._stop.is_set():
                self._wake.wait(self._settings.flush_seconds)
                self._wake.clear()
                if not self._stop.is_set():
                    self.flush()

        self._thread = threading.Thread(target=run, name="prediction-log", daemon=True)
        self._thread.start()

    def close(self) -> CloseReport:
        """Stop the thread and flush everything acknowledged (see the module docstring)."""
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        written_before = self.counters.written_rows
        deadline = time.monotonic() + self._settings.shutdown_seconds
        while not self.flush() and time.monotonic() < deadline:
            time.sleep(_RETRY_PAUSE)
        spooled, files = self._spool()
        lost = self._held_rows
        self.counters.lost_rows += lost
        if lost:
            _log.error("prediction log: %d rows could not be written to the store", lost)
        return CloseReport(self.counters.written_rows - written_before, spooled, lost, files)

    # Spool ----------------------------------------------------------------------------

    def _spool(self) -> tuple[int, list[str]]:
        folder = self._settings.spool_dir
        if not folder or not self._held:
            return 0, []
        Path(folder).mkdir(parents=True, exist_ok=True)
        spooled, files = 0, []
        with self._lock:
            held, self._held = self._held, []
            self._held_rows = 0
        for item in held:
            path = Path(folder) / item.key.replace("/", "__")
            if item.spool_path != path:
                path.write_bytes(item.data)
            spooled += item.rows
            files.append(str(path))
        self.counters.spooled_rows += spooled
        return spooled, files

    def _load_spool(self) -> None:
        folder = self._settings.spool_dir
        if not folder or not Path(folder).is_dir():
            return
        prefix = keys.prediction_log_prefix(self._model).replace("/", "__")
        for path in sorted(Path(folder).glob(f"{prefix}*.parquet")):
            data = path.read_bytes()
            rows = pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
            with self._lock:
                self._held.append(_Held(path.name.replace("__", "/"), data, rows, path))
                self._held_rows += rows
