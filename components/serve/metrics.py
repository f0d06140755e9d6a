"""The server's metrics in the Prometheus text format (version 0.0.4), for ``GET /metrics``.

Counters are plain integers updated by the one thread that owns them (requests on the
server's event loop; the log and the reload on their threads), so recording a request costs a
dict update and a bisect, no lock.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from components.serve.model_holder import HolderStatus
from components.serve.prediction_log import LogCounters

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; a request on loopback takes about a millisecond, a slow one hundreds.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class LogState:
    """The prediction log's gauges and counters at one moment."""

    enabled: bool
    queued_rows: int
    held_rows: int
    counters: LogCounters


class ServerMetrics:
    """Requests by endpoint and status, the latency of inference requests, rows predicted."""

    def __init__(self, model_name: str):
        self.model_name = model_name
        self.requests: defaultdict[tuple[str, int], int] = defaultdict(int)
        self.latency_counts: defaultdict[str, list[int]] = defaultdict(
            lambda: [0] * (len(LATENCY_BUCKETS) + 1)
        )
        self.latency_sums: defaultdict[str, float] = defaultdict(float)
        self.predicted_rows = 0

    def observe(self, endpoint: str, status: int, seconds: float | None = None) -> None:
        """Count one request; ``seconds`` for inference requests (the latency histogram)."""
        self.requests[(endpoint, status)] += 1
        if seconds is not None:
            self.latency_counts[endpoint][bisect_left(LATENCY_BUCKETS, seconds)] += 1
            self.latency_sums[endpoint] += seconds

    def render(self, model: HolderStatus, log: LogState) -> bytes:
        """Every metric in the text exposition format."""
        lines: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")

        family("lifecycle_serve_requests_total", "counter", "HTTP requests by endpoint and status.")
        for (endpoint, status), count in sorted(self.requests.items()):
            lines.append(
                f'lifecycle_serve_requests_total{{endpoint="{endpoint}",status="{status}"}} {count}'
            )
        name = "lifecycle_serve_request_duration_seconds"
        family(name, "histogram", "Latency of inference requests, read to response.")
        for endpoint, counts in sorted(self.latency_counts.items()):
            cumulative = 0
            for bound, count in zip((*LATENCY_BUCKETS, "+Inf"), counts, strict=True):
                cumulative += count
                lines.append(f'{name}_bucket{{endpoint="{endpoint}",le="{bound}"}} {cumulative}')
            lines.append(f'{name}_sum{{endpoint="{endpoint}"}} {self.latency_sums[endpoint]!r}')
            lines.append(f'{name}_count{{endpoint="{endpoint}"}} {cumulative}')
        family("lifecycle_serve_predicted_rows_total", "counter", "Rows predicted.")
        lines.append(f"lifecycle_serve_predicted_rows_total {self.predicted_rows}")
        model_label = _label(self.model_name)
        family("lifecycle_serve_model_ready", "gauge", "1 once a verified version is served.")
        lines.append(f'lifecycle_serve_model_ready{{model="{model_label}"}} {int(model.ready)}')
        family("lifecycle_serve_model_info", "gauge", "The model version served (value 1).")
        if model.version:
            lines.append(
                f'lifecycle_serve_model_info{{model="{model_label}",'
                f'version="{_label(model.version)}"}} 1'
            )
        family("lifecycle_serve_model_reloads_total", "counter", "Versions loaded and swapped in.")
        lines.append(
            f'lifecycle_serve_model_reloads_total{{model="{model_label}"}} {model.reloads}'
        )
        family(
            "lifecycle_serve_model_load_failures_total",
            "counter",
            "Reads of the production alias or loads that failed (the served version stays).",
        )
        lines.append(
            f'lifecycle_serve_model_load_failures_total{{model="{model_label}"}} {model.failures}'
        )
        gauges = {
            "lifecycle_prediction_log_enabled": (
                "1 when predictions are logged.",
                int(log.enabled),
            ),
            "lifecycle_prediction_log_queued_rows": (
                "Rows waiting for the next flush (the log's queue depth).",
                log.queued_rows,
            ),
            "lifecycle_prediction_log_held_rows": (
                "Rows of flushes the store refused, held in memory for the next attempt.",
                log.held_rows,
            ),
        }
        for metric, (text, value) in gauges.items():
            family(metric, "gauge", text)
            lines.append(f"{metric} {value}")
        counters = {
            "lifecycle_prediction_log_written_rows_total": (
                "Rows written to the store.",
                log.counters.written_rows,
            ),
            "lifecycle_prediction_log_objects_total": (
                "Objects written to the store (one per flush and version).",
                log.counters.objects,
            ),
            "lifecycle_prediction_log_write_failures_total": (
                "Store writes that failed (their rows are held and retried).",
                log.counters.write_failures,
            ),
            "lifecycle_prediction_log_dropped_rows_total": (
                "Rows dropped because the buffer was full (the store was out too long).",
                log.counters.dropped_rows,
            ),
            "lifecycle_prediction_log_spooled_rows_total": (
                "Rows the store refused at shutdown, written to the local spool folder.",
                log.counters.spooled_rows,
            ),
        }
        for metric, (text, value) in counters.items():
            family(metric, "counter", text)
            lines.append(f"{metric} {value}")
        return ("\n".join(lines) + "\n").encode()
