"""Store benchmark: append latency and throughput, and reading a long history, on both backends.

Run with ``make bench-store``. Starts its own MinIO (``$MINIO_BIN`` or .tools/bin/minio) on
a free 127.0.0.1 port with a temporary data folder on disk, and a local store in a temporary
folder on the same disk. Prints a markdown table and writes it to bench/results/store.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a script run from the checkout, not an installed module

from lifecycle import keys  # noqa: E402
from lifecycle.history import evaluation_log  # noqa: E402
from lifecycle.store import LocalStore, Store, open_store  # noqa: E402
from tests.fixtures.minio import MinioServer, free_port, minio_binary  # noqa: E402

MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"


def _record(index: int) -> dict[str, object]:
    return {
        "time_stamp": f"2024-01-01T00:00:00.{index:06d}+00:00",
        "version": "1.0",
        "batch": f"batch_{index % 7}",
        "metric": "RMSE",
        "score": 1.0 + index / 1000,
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_appends(store: Store, count: int) -> dict[str, float]:
    """``count`` appends of one record each (each refreshes the CSV view)."""
    log = evaluation_log(store)
    latencies = []
    started = time.perf_counter()
    for index in range(count):
        begin = time.perf_counter()
        log.append([_record(index)])
        latencies.append(time.perf_counter() - begin)
    total = time.perf_counter() - started
    view_rows = len(store.get_bytes(keys.EVALUATION_VIEW).decode().splitlines()) - 1
    assert view_rows == count, f"view has {view_rows} rows, expected {count}"
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "per_s": count / total,
        "total_s": total,
    }


def bench_history_read(store: Store, reopen: Callable[[], Store], count: int) -> dict[str, float]:
    """Seed ``count`` records, build the view once, then read both from a cold store object."""
    prefix = keys.EVALUATION_RECORDS
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda i: store.put_bytes(
                    f"{prefix}/seed-{i:06d}.json", json.dumps(_record(i)).encode()
                ),
                range(count),
            )
        )
    cold = reopen()
    begin = time.perf_counter()
    evaluation_log(cold).refresh_view()
    refresh = time.perf_counter() - begin

    cold = reopen()
    begin = time.perf_counter()
    records = evaluation_log(cold).records()
    read_records = time.perf_counter() - begin
    assert len(records) == count

    begin = time.perf_counter()
    rows = list(csv.reader(io.StringIO(cold.get_bytes(keys.EVALUATION_VIEW).decode())))
    read_view = time.perf_counter() - begin
    assert len(rows) == count + 1
    return {"refresh_s": refresh, "records_s": read_records, "view_ms": read_view * 1000}


def machine() -> str:
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs (nproc), {memory} RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def render(results: dict[str, dict[str, float]], appends: int, count: int) -> str:
    lines = [
        "# Store benchmark",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}",
        f"- MinIO: github.com/minio/minio@{MINIO_VERSION}, single drive, 127.0.0.1, data on "
        "local disk (same disk as the local store; both fsync every write)",
        "- Command: `make bench-store`",
        "",
        f"| backend | append p50 (ms) | append p99 (ms) | appends/s ({appends}, 1 writer) "
        f"| rebuild view of {count:,} (s) | read {count:,} records, cold (s) "
        f"| read CSV view of {count:,} (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['per_s']:.0f} "
            f"| {r['refresh_s']:.2f} | {r['records_s']:.2f} | {r['view_ms']:.0f} |"
        )
    lines += [
        "",
        "An append writes one record object, lists the history, and rewrites the CSV view",
        "under a lease unless a concurrent writer's view already holds the record; records",
        "already seen are cached per store object, so an append fetches only new records.",
        "Reading cold fetches every record (16 in parallel on MinIO).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "store.md")
    args = parser.parse_args(argv)

    binary = minio_binary()
    if binary is None:
        print("error: no MinIO binary; run `make minio-install`", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="bench-store-"))
    server = MinioServer(
        binary=binary, data_dir=work / "minio", port=free_port(), console_port=free_port()
    )
    results: dict[str, dict[str, float]] = {}
    try:
        server.start()
        os.environ.update(server.env)
        backends: dict[str, Callable[[str], Store]] = {
            "local dir": lambda tag: LocalStore(work / f"local-{tag}"),
            "MinIO": lambda tag: open_store(server.bucket_uri(f"bench-{tag}")),
        }
        for name, make in backends.items():
            print(f"{name}: {args.appends} appends…", flush=True)
            result = bench_appends(make("appends"), args.appends)
            print(f"{name}: {args.records} records…", flush=True)
            result |= bench_history_read(make("history"), lambda m=make: m("history"), args.records)
            results[name] = result
    finally:
        server.terminate()
        shutil.rmtree(work, ignore_errors=True)

    table = render(results, args.appends, args.records)
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    print(f"written to {args.output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
