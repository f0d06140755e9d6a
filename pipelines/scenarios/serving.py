"""The served segment of a scenario: serve → log → actuals → monitor → retrain → promote → reload.

In a store of its own (a temporary folder, so the scenario's histories and table stay as they
are): the training pipeline makes version 1.0 production; ``lifecycle serve`` (a real server
process on a free loopback port) answers one V2 request per row of the first batch and logs
them; the batch's actual targets, keyed by the request ids the server returned, go through
``lifecycle feedback`` into a labelled batch; the monitoring pipeline runs on it (drift,
retrain, promote); and the server, following the ``production`` alias, answers with the new
version without a restart. The scenario plays it with the subprocess runner whatever runner
the scenario uses: the segment shows the server, and its folder store stays the host's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lifecycle.config import LifecycleConfig
from lifecycle.errors import LifecycleError
from lifecycle.history import evaluation_log
from lifecycle.registry import ModelRegistry
from lifecycle.tables import read_table
from pipelines.scenarios import Scenario

SERVED_BATCH = "served_1"
_WAIT_SECONDS = 60.0


class ServedSegmentError(LifecycleError):
    """The served segment did not complete (the message says which step)."""


@dataclass(frozen=True)
class ServedSegment:
    """What the segment did."""

    requests: int
    failed: int
    version_before: str
    version_after: str
    matched: int
    reload_seconds: float
    # RMSE of the served version on the labelled batch, as the monitoring run recorded it.
    served_rmse: float


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A ``lifecycle serve`` process on 127.0.0.1 and how to talk to it."""

    process: subprocess.Popen[bytes]
    base: str
    model: str

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:  # not listening yet, or gone
            return 0, b"{}"

    def post(
        self, path: str, body: dict, headers: dict[str, str] | None = None
    ) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def infer(self, row: dict[str, float | str]) -> tuple[int, dict]:
        inputs = [
            {
                "name": name,
                "shape": [1],
                "datatype": "BYTES" if isinstance(value, str) else "FP64",
                "data": [value],
            }
            for name, value in row.items()
        ]
        return self.post(f"/v2/models/{self.model}/infer", {"inputs": inputs})

    def metric(self, name: str) -> float:
        _, text = self.get("/metrics")
        for line in text.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        raise ServedSegmentError(f"the server reports no metric {name}")

    def served_version(self) -> str | None:
        status, body = self.get("/v2/health/ready")
        return json.loads(body).get("version") if status == 200 else None

    def wait(self, ready: Callable[[], bool], what: str, timeout: float = _WAIT_SECONDS) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise ServedSegmentError(f"the server exited ({self.process.returncode}) {what}")
            if ready():
                return time.monotonic() - started
            time.sleep(0.1)
        raise ServedSegmentError(f"the server did not get there in {timeout:.0f} s: {what}")


@contextmanager
def running_server(
    store_uri: str,
    config: LifecycleConfig,
    workdir: Path,
    *extra: str,
    env: dict[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """``lifecycle serve`` on a free loopback port until the block ends (then SIGTERM, so it
    flushes its log), ready when the block starts."""
    config_file = workdir / "serve-config.json"
    config_file.write_text(config.to_json())
    port = free_port()
    log = (workdir / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "serve",
            "--store",
            store_uri,
            "--config",
            str(config_file),
            "--port",
            str(port),
            *extra,
        ],  # fmt: skip
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", config.model.name)
    try:
        server.wait(lambda: server.get("/v2/health/ready")[0] == 200, "ready")
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def served_segment(
    plan: Scenario,
    config: LifecycleConfig,
    runner: str | None = None,
    say: Callable[[str], None] = print,
) -> ServedSegment:
    """Play the loop on the first batch of ``plan`` in a temporary store (module docstring)."""
    from components.serve.feedback import join_feedback, read_actuals, write_batch
    from pipelines.local import run_monitoring, run_training

    batch_id, batch_path = plan.batches[0]
    target = config.schema.target.name
    with tempfile.TemporaryDirectory(prefix="lifecycle-served-") as folder:
        workdir = Path(folder)
        store_uri = str(workdir / "store")
        say(f"== served segment: training in a store of its own ({store_uri})")
        run_training(str(plan.training_file), str(plan.test_file), store_uri, config, runner)
        frame = read_table(batch_path)
        features = frame[config.schema.feature_names]
        with running_server(
            store_uri, config, workdir, "--reload-seconds", "1", "--log-flush-seconds", "0.5"
        ) as server:
            before = server.served_version() or ""
            answers = [server.infer(row) for row in features.to_dict("records")]
            failed = sum(status != 200 for status, _ in answers)
            if failed:
                raise ServedSegmentError(f"{failed} of {len(answers)} requests failed: {answers}")
            say(
                f"== served {len(answers)} rows of {batch_id} with {config.model.name} {before} "
                f"on {server.base}"
            )
            server.wait(
                lambda: (
                    server.metric("lifecycle_prediction_log_written_rows_total") >= len(answers)
                ),
                "logging every prediction",
            )
            actuals = pd.DataFrame(
                {"request_id": [body["id"] for _, body in answers], target: frame[target]}
            )
            actuals_path = workdir / "actuals.csv"
            actuals.to_csv(actuals_path, index=False)
            feedback = join_feedback(
                _open(store_uri),
                config.model.name,
                config.schema,
                read_actuals(actuals_path, target),
            )
            labelled = write_batch(feedback.batch, workdir / f"{SERVED_BATCH}.csv")
            say(
                f"== feedback: {feedback.matched} actuals joined to the logged predictions -> "
                f"a labelled batch; monitoring it as {SERVED_BATCH}"
            )
            run_monitoring(str(labelled), SERVED_BATCH, store_uri, config, runner)
            promoted = ModelRegistry(_open(store_uri), config.model.name).resolve("production")
            waited = 0.0
            if promoted != before:
                waited = server.wait(
                    lambda: server.served_version() == promoted, f"serving {promoted}"
                )
            status, answer = server.infer(features.iloc[0].to_dict())
            after = answer.get("model_version", "")
            if status != 200:
                raise ServedSegmentError(f"after the reload a request failed with {status}")
        say(
            f"== the server now answers with {config.model.name} {after} (was {before}), "
            f"{waited:.1f} s after the monitoring run, without a restart"
            if after != before
            else f"== no promotion on {SERVED_BATCH}: the server still answers with {after}"
        )
        rmse = next(
            record["score"]
            for record in evaluation_log(_open(store_uri)).records()
            if (record["batch"], record["role"], record["metric"])
            == (SERVED_BATCH, "monitor", "RMSE")
        )
        return ServedSegment(
            len(answers) + 1, failed, before, after, feedback.matched, waited, rmse
        )


def _open(store_uri: str):
    from lifecycle.store import open_store

    return open_store(store_uri)
