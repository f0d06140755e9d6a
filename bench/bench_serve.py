# ruff: noqa: E501 - the Markdown report is written line by line
"""Load benchmark of the inference server (issue 16): ``make bench-serve``.

The course's model 1.0 (LinearRegression on ``data_init``) is registered in a fresh local
store; then, side by side, on 127.0.0.1:

- ``ours``: ``lifecycle serve`` (granian, one worker, WSGI on one thread) with the prediction log on;
- ``mlserver``: MLServer 1.7.1 with mlserver-sklearn on the same estimator (joblib-dumped from
  the registry), at its best: ``parallel_workers: 0`` (its default of 1 crashes under uvloop
  0.23, SeldonIO/MLServer#2286), ``debug: false`` (no access log), metrics off, httptools
  installed; in its own venv (``.venv-serve-bench``, ``bench/requirements-serve-bench.txt``);
- ``floor``: the estimator's ``predict`` on the decoded rows, in process, one thread (no HTTP,
  no JSON): what no server can beat;
- ``ours-in-process``: our request handling (parse, validate, predict, respond, log) without
  HTTP, for where the time goes.

wrk (Debian's package, one thread) drives both servers with the same V2 request: one input
``x`` of shape ``[N, 1]``, FP64, N = 1 and 100 rows, at concurrency 1, 8 and 64, for
``--seconds`` each, interleaved (every round runs every case on each server, the order of the
servers alternating), ``--rounds`` rounds; the tables hold medians. RSS is the server's
process tree at the end. Then a reload under load: ``ours`` at concurrency 64 while the
``production`` alias flips between two versions every ``--flip-seconds``, counting failed
requests and versions swapped in.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "pipelines" / "scenarios" / "course"
SHAPES = (1, 100)
CONCURRENCY = (1, 8, 64)
SERVERS = ("ours", "mlserver")
MODEL = "course"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request_body(rows: int) -> str:
    data = [round(1.0 + 19.0 * i / max(rows - 1, 1), 6) for i in range(rows)]
    return json.dumps(
        {"inputs": [{"name": "x", "shape": [rows, 1], "datatype": "FP64", "data": data}]}
    )


def wrk_script(folder: Path, rows: int) -> Path:
    path = folder / f"v2-{rows}.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [[{request_body(rows)}]]\n"
    )
    return path


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and its descendants (MB)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, AttributeError):
            continue
        todo += [int(child) for child in children]
    return total / 1024


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)$", text)
    assert match, text
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def run_wrk(url: str, script: Path, concurrency: int, seconds: float) -> Run:
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
    return Run(rps, p50, p99, errors, requests)


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    url: str
    runs: dict[tuple[int, int], list[Run]] = field(default_factory=dict)
    rss_mb: float = 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()


def prepare_store(store: Path) -> None:
    """Model 1.0 in production and a second version 1.1 to flip to."""
    sys.path.insert(0, str(ROOT))
    from lifecycle.store import LocalStore
    from tests.helpers import course_model_in_production
    from tests.serving_helpers import second_version

    local = LocalStore(store)
    course_model_in_production(local)
    second_version(local)


def mlserver_repository(store: Path, folder: Path, http_port: int, grpc_port: int) -> None:
    import joblib

    sys.path.insert(0, str(ROOT))
    from lifecycle.registry import ModelRegistry
    from lifecycle.store import LocalStore

    estimator, _ = ModelRegistry(LocalStore(store), MODEL).load_artifact("1.0")
    model_dir = folder / MODEL
    model_dir.mkdir(parents=True)
    joblib.dump(estimator, model_dir / "model.joblib")
    (model_dir / "model-settings.json").write_text(
        json.dumps(
            {
                "name": MODEL,
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "version": "1.0"},
            }
        )
    )
    (folder / "settings.json").write_text(
        json.dumps(
            {
                "debug": False,
                "parallel_workers": 0,
                "metrics_endpoint": None,
                "host": "127.0.0.1",
                "http_port": http_port,
                "grpc_port": grpc_port,
                "load_models_at_startup": True,
            }
        )
    )


def start_ours(store: Path, log_path: Path) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "lifecycle"),
            "serve",
            "--store",
            str(store),
            "--port",
            str(port),
            "--reload-seconds",
            "1",
        ],
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        cwd=store.parent,
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/v2/health/ready", process)
    return Server("ours", process, f"{base}/v2/models/{MODEL}/infer")


def start_mlserver(bench_python: Path, store: Path, folder: Path, log_path: Path) -> Server:
    port, grpc = free_port(), free_port()
    mlserver_repository(store, folder, port, grpc)
    process = subprocess.Popen(
        [str(bench_python.absolute().parent / "mlserver"), "start", str(folder)],
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/v2/models/{MODEL}/ready", process)
    return Server("mlserver", process, f"{base}/v2/models/{MODEL}/infer")


def check_same_answer(servers: list[Server]) -> None:
    """Both servers must predict the same for the same request before anything is timed."""
    answers = []
    for server in servers:
        request = urllib.request.Request(
            server.url,
            data=request_body(100).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            answers.append(json.loads(response.read())["outputs"][0]["data"])
    flat = [
        [float(v) for v in (a if not isinstance(a[0], list) else [x for r in a for x in r])]
        for a in answers
    ]
    assert all(abs(a - b) < 1e-9 for a, b in zip(flat[0], flat[1], strict=True)), "servers disagree"


def floor_runs(store: Path, seconds: float) -> dict[int, float]:
    """Calls per second of ``predict`` on the decoded rows, in process."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from components.serve.model_holder import ModelHolder
    from components.serve.schema import InputSchema
    from lifecycle.config import LifecycleConfig
    from lifecycle.store import LocalStore

    holder = ModelHolder(
        LocalStore(store), MODEL, InputSchema.from_config(LifecycleConfig().schema)
    )
    holder.refresh()
    model = holder.current
    result = {}
    for rows in SHAPES:
        columns = {"x": np.linspace(1.0, 20.0, rows)}
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            model.predict(columns, rows)
            calls += 1
        result[rows] = calls / (time.perf_counter() - started)
    return result


def in_process_runs(store: Path, seconds: float) -> dict[int, float]:
    """Requests per second of our whole request handling (no HTTP), log included."""
    sys.path.insert(0, str(ROOT))
    from components.serve.factory import build_app
    from components.serve.settings import ServeSettings
    from lifecycle.store import LocalStore

    app = build_app(ServeSettings(), LocalStore(store))
    app.holder.refresh()
    result = {}
    for rows in SHAPES:
        body = request_body(rows).encode()
        path = f"/v2/models/{MODEL}/infer"
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            assert app.handle("POST", path, None, body).status == 200
            calls += 1
        result[rows] = calls / (time.perf_counter() - started)
    app.log.flush()
    return result


def reload_under_load(
    server: Server, store: Path, script: Path, seconds: float, flip: float
) -> dict:
    """wrk at concurrency 64 on ``server`` while production flips between 1.0 and 1.1."""
    sys.path.insert(0, str(ROOT))
    from lifecycle.store import LocalStore
    from tests.serving_helpers import make_production

    local = LocalStore(store)
    metrics_url = server.url.split("/v2/")[0] + "/metrics"

    def metric(pattern: str) -> int:
        with urllib.request.urlopen(metrics_url, timeout=5) as response:  # noqa: S310 - loopback
            text = response.read().decode()
        return int(float(re.search(pattern + r" ([\d.e+]+)$", text, re.MULTILINE).group(1)))

    def reloads() -> int:
        return metric(r"lifecycle_serve_model_reloads_total\{[^}]*\}")

    before = reloads()
    wrk = subprocess.Popen(
        [
            "wrk",
            "-t1",
            "-c64",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            server.url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    flips, started = 0, time.monotonic()
    while time.monotonic() - started < seconds - flip:
        time.sleep(flip)
        make_production(local, "1.1" if flips % 2 == 0 else "1.0")
        flips += 1
    output, _ = wrk.communicate()
    make_production(local, "1.0")
    time.sleep(2.5)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
    # Everything ours answered so far, all cases included, went through the prediction log.
    log = {
        name: metric(f"lifecycle_prediction_log_{name}_rows_total")
        for name in ("written", "dropped")
    }
    return {
        "requests": requests,
        "errors": errors,
        "flips": flips,
        "reloads": reloads() - before,
        "log": log,
    }


def report(
    servers: list[Server], floor: dict, in_process: dict, reload: dict, args, started: str
) -> str:
    ours, theirs = servers[0], servers[1]
    lines = [
        "# Inference server benchmark (`make bench-serve`)",
        "",
        f"Run {started} on {platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()}); "
        f"{args.rounds} rounds of {args.seconds:g} s per case, servers interleaved (order alternating per round); "
        "medians. wrk 4.1 (one thread, keep-alive) on 127.0.0.1; V2 JSON requests, one input `x` of shape [N, 1], "
        "FP64; the course's LinearRegression 1.0. `ours`: `lifecycle serve` (granian 2.8.9, one worker, WSGI on one thread) "
        "with the prediction log on; `mlserver`: MLServer 1.7.1 + mlserver-sklearn 1.7.1, `parallel_workers: 0`, "
        "`debug: false`, metrics off, httptools installed. The machine is shared: absolute numbers move from run "
        "to run; the ratios measured side by side are the result.",
        "",
        "| rows | concurrency | server | requests/s | p50 (ms) | p99 (ms) | failed | × MLServer req/s |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    verdicts = []
    for rows in SHAPES:
        for concurrency in CONCURRENCY:
            medians = {}
            for server in servers:
                runs = server.runs[(rows, concurrency)]
                medians[server.name] = (
                    statistics.median(r.rps for r in runs),
                    statistics.median(r.p50_ms for r in runs),
                    statistics.median(r.p99_ms for r in runs),
                    sum(r.errors for r in runs),
                )
            base = medians[theirs.name][0]
            for name, (rps, p50, p99, errors) in medians.items():
                lines.append(
                    f"| {rows} | {concurrency} | {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} | {rps / base:.2f} |"
                )
            ratio = medians[ours.name][0] / base
            p99_ok = medians[ours.name][2] <= medians[theirs.name][2]
            if concurrency in (8, 64):
                verdicts.append(
                    f"- {rows} row(s), concurrency {concurrency}: {ratio:.2f}× MLServer's throughput "
                    f"({'meets' if ratio >= 2 else 'misses'} ≥ 2×); p99 {medians[ours.name][2]:.2f} ms vs "
                    f"{medians[theirs.name][2]:.2f} ms ({'≤' if p99_ok else '>'})"
                )
            else:
                verdicts.append(
                    f"- {rows} row(s), concurrency 1: p99 {medians[ours.name][2]:.2f} ms vs "
                    f"{medians[theirs.name][2]:.2f} ms ({'≤' if p99_ok else '>'})"
                )
    lines += [
        "",
        "In process, one thread, no HTTP (calls/s):",
        "",
        "| rows | floor: `predict` on decoded rows | ours in process: parse, validate, predict, respond, log |",
        "| ---: | ---: | ---: |",
    ]
    for rows in SHAPES:
        lines.append(f"| {rows} | {floor[rows]:,.0f} | {in_process[rows]:,.0f} |")
    lines += [
        "",
        f"RSS at the end (process tree): ours {ours.rss_mb:.0f} MB (granian's main process and its worker), "
        f"MLServer {theirs.rss_mb:.0f} MB.",
        "",
        "Targets:",
        "",
        *verdicts,
        f"- reload under load: {reload['requests']:,} requests at concurrency 64 over {args.reload_seconds:g} s "
        f"while `production` flipped {reload['flips']} times ({reload['reloads']} versions swapped in): "
        f"{reload['errors']} failed.",
        f"- prediction log over the whole run: {reload['log']['written']:,} rows written, "
        f"{reload['log']['dropped']:,} dropped.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bench-python", type=Path, required=True, help="python of .venv-serve-bench"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--reload-seconds", type=float, default=20.0)
    parser.add_argument("--flip-seconds", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "serve.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    servers: list[Server] = []
    try:
        store = work / "store"
        prepare_store(store)
        scripts = {rows: wrk_script(work, rows) for rows in SHAPES}
        subprocess.run(
            [str(args.bench_python), "-c", "import mlserver, mlserver_sklearn, httptools"],
            check=True,
        )
        # One at a time, so that the finally block stops whichever started.
        servers.append(start_ours(store, work / "ours.log"))
        servers.append(
            start_mlserver(args.bench_python, store, work / "mlserver", work / "mlserver.log")
        )
        check_same_answer(servers)
        for server in servers:  # warm up
            run_wrk(server.url, scripts[1], 8, 2)
        for number in range(args.rounds):
            order = servers if number % 2 == 0 else servers[::-1]
            for rows in SHAPES:
                for concurrency in CONCURRENCY:
                    for server in order:
                        run = run_wrk(server.url, scripts[rows], concurrency, args.seconds)
                        server.runs.setdefault((rows, concurrency), []).append(run)
                        print(
                            f"round {number + 1} rows={rows} c={concurrency} {server.name}: "
                            f"{run.rps:,.0f} req/s p50 {run.p50_ms:.2f} ms p99 {run.p99_ms:.2f} ms "
                            f"errors {run.errors}",
                            flush=True,
                        )
        for server in servers:
            server.rss_mb = tree_rss_mb(server.process.pid)
        reload = reload_under_load(
            servers[0], store, scripts[1], args.reload_seconds, args.flip_seconds
        )
        print(f"reload under load: {reload}", flush=True)
        floor = floor_runs(store, args.seconds)
        in_process = in_process_runs(store, args.seconds)
        text = report(servers, floor, in_process, reload, args, started)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(text)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
