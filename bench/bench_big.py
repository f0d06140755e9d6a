# ruff: noqa: E501 - the Markdown report is written line by line
"""Big-batch benchmark (issue 14): `make bench-big`.

Generates (once, cached in ``--workdir``) a CSV batch of ``--rows`` rows (default 50M, about
1 GB) of ``x, y`` drawn around the course's model 1.0 (y = 1.8267·x + 1.154, noise σ 0.5),
then runs the streaming stages on it, each as the real CLI in a fresh process, and
records each one's wall time and peak RSS (its own: see ``measured.py``):

- ``validate`` of the file;
- ``ingest`` into a local-folder store;
- the course's model 1.0 trained first (``lifecycle train`` on the course's data_init), then
  the monitoring stages on the ingested batch, each a standalone run: ``evaluate``,
  ``detect-drift``, ``select-data``, ``fit`` (the train stage, on the datasets selected) and
  ``promote`` (the new version against 1.0 on the batch);
- the whole ``lifecycle monitor`` on the batch (a fresh store with model 1.0): its wall time,
  and the largest peak RSS of its processes (``wait4`` reports the largest of the tree);
- ``ingest`` into MinIO from a file, and from an object already in the bucket (the batch
  uploaded first with ``Store.put_file``: a multipart upload), then the same monitoring
  stages and the whole ``lifecycle monitor`` on MinIO, when the MinIO server (``$MINIO_BIN``
  or .tools/bin/minio) is there.

Target: peak RSS ≤ ``--rss-limit-mb`` (1.5 GB) for every stage, the whole monitor ≤ 3
minutes. Results go to ``--out`` (Markdown). ``--rows`` (or ``$BIG_ROWS``) picks a smaller
batch while developing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from measured import run_measured

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a script run from the checkout, not an installed module

# The course's model 1.0 (tests/unit/test_course_numbers.py) and the batch's spread.
SLOPE, INTERCEPT, NOISE = 1.8267272727, 1.154, 0.5
X_RANGE = (1.0, 60.0)
SEED = 14
CHUNK_ROWS = 1_000_000
# In the file's name: a file of another version of the generator is not reused.
DATA_VERSION = 2


def generate_batch(path: Path, rows: int, seed: int = SEED) -> Path:
    """Write ``rows`` rows of ``x,y`` (x with 5 decimals, y with 8) to ``path``, in chunks
    of a million rows (the generator's memory stays small too)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    temp = path.with_suffix(".partial")
    schema = pa.schema([("x", pa.float64()), ("y", pa.float64())])
    with open(temp, "wb") as handle:
        handle.write(b"x,y\n")
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        with pacsv.CSVWriter(handle, schema, write_options=options) as writer:
            done = 0
            while done < rows:
                count = min(CHUNK_ROWS, rows - done)
                x = np.round(rng.uniform(*X_RANGE, count), 5)
                y = np.round(SLOPE * x + INTERCEPT + rng.normal(0.0, NOISE, count), 8)
                writer.write_table(pa.table({"x": x, "y": y}, schema=schema))
                done += count
    temp.replace(path)
    return path


def run_stage(argv: list[str], env: dict[str, str]) -> dict:
    """Run the CLI in a fresh process; its wall time and its own peak RSS (:mod:`measured`)."""
    result = run_measured([sys.executable, "-m", "cli", *argv], env=env)
    if result["returncode"] != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result['stderr'][-3000:]}")
    return {
        "seconds": result["seconds"],
        "peak_rss_mb": result["peak_rss_mb"],
        "output": result["stdout"].strip(),
    }


COURSE = ROOT / "pipelines" / "scenarios" / "course"


def stage_output_json(result: dict) -> dict:
    """The JSON a stage CLI printed (its last JSON object)."""
    text = result["output"]
    return json.loads(text[text.index("{") :])


def monitoring_stages(
    store_uri: str, backend: str, dataset_key: str, env: dict[str, str]
) -> list[tuple[str, str, dict]]:
    """evaluate, detect-drift, select-data, fit and promote on ``dataset_key``, each a
    standalone run in a fresh process, against model 1.0 (already trained)."""
    store = ["--store", store_uri]
    results: list[tuple[str, str, dict]] = []

    def run(stage: str, argv: list[str]) -> dict:
        print(f"{stage} ({backend}) …", flush=True)
        result = run_stage(argv + store, env)
        results.append((stage, backend, result))
        return result

    evaluation = stage_output_json(
        run(
            "evaluate",
            ["evaluate", "--dataset", dataset_key, "--batch", "big", "--model-version", "1.0"],
        )
    )
    run(
        "detect_drift",
        [
            "detect-drift",
            "--model-version",
            "1.0",
            "--dataset",
            dataset_key,
            "--batch",
            "big",
            "--evaluation-time",
            evaluation["time_stamp"],
        ],
    )
    retrain = stage_output_json(run("select_data", ["select-data", "--model-version", "1.0"]))
    selected = [arg for dataset in retrain["datasets"] for arg in ("--dataset", dataset["key"])]
    fitted = run("train (fit)", ["fit", *selected, "--parent-version", "1.0"])
    version = fitted["output"].rsplit(" ", 1)[-1]
    run(
        "promote",
        [
            "promote",
            "--challenger",
            version,
            "--champion",
            "1.0",
            "--dataset",
            dataset_key,
            "--batch",
            "big",
        ],
    )
    return results


def train_course_model(store_uri: str, env: dict[str, str]) -> None:
    """Model 1.0 of the course (its training pipeline on data_init, tested on data_test)."""
    run_stage(
        [
            "train",
            "--data",
            str(COURSE / "data_init.csv"),
            "--test",
            str(COURSE / "data_test.csv"),
            "--store",
            store_uri,
        ],
        env,
    )


def whole_monitor(
    store_uri: str, backend: str, batch: str, env: dict[str, str]
) -> tuple[str, str, dict]:
    """``lifecycle monitor`` on ``batch`` (a store with model 1.0 only)."""
    print(f"lifecycle monitor ({backend}) …", flush=True)
    argv = ["monitor", "--batch-file", batch, "--batch-id", "big", "--store", store_uri]
    return ("whole `lifecycle monitor`", backend, run_stage(argv, env))


def _machine() -> str:
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({cpu}), {memory} RAM, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BIG_ROWS", 50_000_000)))
    parser.add_argument("--workdir", default="/tmp/bench-big")
    parser.add_argument("--rss-limit-mb", type=float, default=1536.0)
    parser.add_argument("--monitor-limit-s", type=float, default=180.0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "big.md"))
    parser.add_argument("--no-minio", action="store_true", help="leave the MinIO stages out")
    parser.add_argument(
        "--no-monitor", action="store_true", help="leave the whole `lifecycle monitor` runs out"
    )
    args = parser.parse_args(argv)

    from lifecycle.store import LocalStore, open_store
    from tests.fixtures.minio import MinioServer, free_port, minio_binary

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    batch = workdir / f"batch_{args.rows}_v{DATA_VERSION}.csv"
    if not batch.exists():
        print(f"generating {batch} …", flush=True)
        generate_batch(batch, args.rows)
    size_mb = batch.stat().st_size / 2**20
    print(f"{batch}: {size_mb:.0f} MB, {args.rows:,} rows", flush=True)

    scratch = Path(tempfile.mkdtemp(prefix="bench-big-", dir=workdir))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    results: list[tuple[str, str, dict]] = []
    server = None
    try:
        local = LocalStore(scratch / "store")
        stages = [
            ("validate", "file", ["validate", "--data", str(batch), "--store", local.uri]),
            (
                "ingest",
                "local folder",
                ["ingest", "--data", str(batch), "--name", "big", "--store", local.uri],
            ),
        ]
        train_course_model(local.uri, env)
        for stage, backend, command in stages:
            print(f"{stage} ({backend}) …", flush=True)
            results.append((stage, backend, run_stage(command, env)))
        big_key = stage_output_json(results[-1][2])["key"]
        results += monitoring_stages(local.uri, "local folder", big_key, env)
        if not args.no_monitor:
            fresh = LocalStore(scratch / "monitored")
            train_course_model(fresh.uri, env)
            results.append(whole_monitor(fresh.uri, "local folder", str(batch), env))
        binary = None if args.no_minio else minio_binary()
        if binary is None:
            print("no MinIO server binary (make minio-install): MinIO stages left out", flush=True)
        else:
            server = MinioServer(
                binary=binary,
                data_dir=scratch / "minio",
                port=free_port(),
                console_port=free_port(),
            )
            server.start()
            env.update(server.env)
            uri = server.bucket_uri("bench-big")
            os.environ.update(server.env)
            store = open_store(uri)
            train_course_model(uri, env)
            started = time.perf_counter()
            store.put_file("incoming/big.csv", batch)
            upload = {"seconds": time.perf_counter() - started, "peak_rss_mb": float("nan")}
            results.append(("upload the batch (put_file, multipart)", "MinIO", upload))
            for stage, backend, command in [
                (
                    "ingest",
                    "MinIO, from a file",
                    ["ingest", "--data", str(batch), "--name", "big", "--store", uri],
                ),
                (
                    "ingest",
                    "MinIO, from an object in the bucket",
                    ["ingest", "--data", "incoming/big.csv", "--name", "big2", "--store", uri],
                ),
                (
                    "validate",
                    "MinIO, an object in the bucket",
                    ["validate", "--data", "incoming/big.csv", "--store", uri],
                ),
            ]:
                print(f"{stage} ({backend}) …", flush=True)
                results.append((stage, backend, run_stage(command, env)))
                if backend == "MinIO, from a file":
                    minio_key = stage_output_json(results[-1][2])["key"]
            results += monitoring_stages(uri, "MinIO", minio_key, env)
            if not args.no_monitor:
                fresh_uri = server.bucket_uri("bench-big-monitor")
                train_course_model(fresh_uri, env)
                results.append(whole_monitor(fresh_uri, "MinIO", str(batch), env))
    finally:
        if server is not None:
            server.terminate()
        shutil.rmtree(scratch, ignore_errors=True)

    lines = [
        "# Big-batch benchmark",
        "",
        f"`make bench-big`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {_machine()}; load average "
        f"{os.getloadavg()[0]:.1f} at the end (the machine is shared).",
        f"The batch: {args.rows:,} rows of `x,y` around the course's model 1.0, {size_mb:.0f} MB of CSV. "
        "Each stage is the real CLI in a fresh process (imports included); peak RSS is the "
        "process's own (`wait4` in a small launcher, bench/measured.py).",
        "",
        "| stage | store | wall time (s) | peak RSS (MB) | ≤ 1.5 GB |",
        "|---|---|---:|---:|---|",
    ]
    for stage, backend, result in results:
        rss = result["peak_rss_mb"]
        within = "–" if rss != rss else ("yes" if rss <= args.rss_limit_mb else "NO")
        shown = "–" if rss != rss else f"{rss:.0f}"
        lines.append(f"| {stage} | {backend} | {result['seconds']:.1f} | {shown} | {within} |")
    monitors = [(backend, r["seconds"]) for stage, backend, r in results if "monitor" in stage]
    lines += [""] + [
        f"Whole `lifecycle monitor` ({backend}): {seconds:.0f} s, "
        f"{'within' if seconds <= args.monitor_limit_s else 'OVER'} the {args.monitor_limit_s:.0f} s target."
        for backend, seconds in monitors
    ]
    lines += [
        "",
        "Notes:",
        "- validate and ingest read the CSV in record batches (pyarrow's streaming reader, 4 MB "
        "blocks), check and type each batch, count every problem over the whole file, and (ingest) "
        "write each typed batch to the dataset's Parquet file in fixed row groups while hashing it; "
        "the file then goes to the store in one streaming write (a local folder: renamed into place; "
        "MinIO: a multipart upload of 16 MB parts, visible only once complete), its metadata last; "
        "in a pipeline the file is also left as the task's output artifact (not read back).",
        "- A CSV object in the bucket as the source is read whole, in order: one streamed GET to a "
        "temporary file in 1 MB chunks first.",
        "- evaluate and promote read the dataset's Parquet in record batches of 1M rows (pyarrow, its "
        "read cache off), predict and score each one (RMSE, R², MAE from running sums; the target's "
        "variance by Chan's update), and evaluate writes the experiences with a streaming Parquet "
        "writer, stored once the scores are defined.",
        "- detect_drift reads one column at a time, filled a few row groups at a time into an array "
        "sorted in place (about 400 MB for 50M floats); the predictions are filled chunk by chunk into "
        "one array; KS ranks and Wasserstein pieces are computed per block of 65,536 values.",
        "- select_data references the datasets of the retraining set (their keys; nothing is copied in "
        "the store; in a pipeline its output artifact holds a copy of each, the monitored batch taken "
        "from its input artifact, not downloaded); train reads each one in turn and fits a plain "
        "LinearRegression chunk by chunk (the QR "
        "factor of [1, X, y] reduced chunk after chunk: scikit-learn's least-squares solution to "
        "rounding) and writes the reference profile a column at a time to a file streamed to the store.",
        "- On MinIO, a stage reads a dataset in byte ranges (ranged GETs of the Parquet footer and "
        "the column chunks it reads: detect_drift fetches one column at a time, nothing is copied to "
        "disk; in a pipeline the task's input artifact is a file).",
        "- The whole `lifecycle monitor`: every task of the monitoring pipeline on the local runner "
        "(validate, ingest, evaluate, detect_drift, then on drift select_data, train, evaluate the "
        "challenger, promote, finalize), each a fresh process; its peak RSS is the largest of them. "
        "In the pipeline promote takes the two evaluations' scores (the evaluate tasks' Metrics) "
        "instead of scoring the batch again, as the standalone promote above does.",
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
