"""The inference server as a WSGI application (served by granian, see server.py).

Routing and every answer are in :meth:`ServeApp.handle`, a plain function of the method, path,
request id header and body, so it is tested without a server; :meth:`ServeApp.__call__` (WSGI)
only reads the body within the size limit and writes the response.

Endpoints: KServe V1 (``GET /``, ``GET /v1/models``, ``GET /v1/models/<m>``,
``POST /v1/models/<m>:predict``), Open Inference Protocol V2 (``GET /v2``,
``GET /v2/health/live``, ``GET /v2/health/ready``, ``GET /v2/models/<m>``,
``GET /v2/models/<m>/ready``, ``POST /v2/models/<m>[/versions/<v>]/infer``) and ``GET /metrics``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson

from components.serve import protocol
from components.serve.metrics import CONTENT_TYPE, LogState, ServerMetrics
from components.serve.model_holder import LoadedModel, ModelHolder
from components.serve.prediction_log import LogCounters, PredictionLog
from components.serve.protocol import RequestError
from components.serve.schema import InputSchema
from components.serve.settings import ServeSettings
from lifecycle import __version__

_log = logging.getLogger(__name__)
JSON = "application/json"
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = "HTTP_X_REQUEST_ID"  # the header in the WSGI environ
_DISCARD_CHUNK = 1024 * 1024
MODEL_VERSION_HEADER = "x-model-version"
SERVER_NAME = "kfp-lifecycle"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()

    def header_list(self) -> list[tuple[str, str]]:
        return [("content-type", self.content_type), *self.headers]


def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def _json(status: int, data: Any) -> Response:
    return Response(status, orjson.dumps(data))


def _error(status: int, message: str) -> Response:
    return Response(status, protocol.error_body(message))


class ServeApp:
    """One model's server: the holder of its production version, its log and its metrics."""

    def __init__(
        self,
        settings: ServeSettings,
        holder: ModelHolder,
        log: PredictionLog | None,
        metrics: ServerMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.model_name = settings.served_model
        self.schema = InputSchema.from_config(settings.lifecycle.schema)
        self.holder = holder
        self.log = log
        self.metrics = metrics or ServerMetrics(self.model_name)
        self._clock = clock
        limits = settings.limits
        self._max_rows = limits.max_rows
        self._max_id = limits.max_request_id_chars
        self.max_body_bytes = limits.max_body_bytes
        v1 = f"/v1/models/{self.model_name}"
        v2 = f"/v2/models/{self.model_name}"
        # (method, path) -> (endpoint name for the metrics, handler)
        self._routes: dict[tuple[str, str], tuple[str, Callable[..., Response]]] = {
            ("GET", "/"): ("v1_live", lambda *_: _json(200, {"status": "alive"})),
            ("GET", "/v1/models"): (
                "v1_models",
                lambda *_: _json(200, {"models": [self.model_name]}),
            ),
            ("GET", v1): ("v1_model", self._v1_model),
            ("POST", f"{v1}:predict"): ("v1_predict", self._v1_predict),
            ("GET", "/v2"): ("v2_server", self._v2_server),
            ("GET", "/v2/health/live"): ("v2_live", lambda *_: _json(200, {"live": True})),
            ("GET", "/v2/health/ready"): ("v2_ready", self._ready),
            ("GET", v2): ("v2_model", self._v2_model),
            ("GET", f"{v2}/ready"): ("v2_model_ready", self._ready),
            ("POST", f"{v2}/infer"): ("v2_infer", self._v2_infer),
            ("GET", "/metrics"): ("metrics", self._metrics),
        }
        self._paths = {path for _, path in self._routes}
        self._version_prefix = f"{v2}/versions/"

    # Lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start following the production alias and flushing the log."""
        if self.log is not None:
            self.log.start()
        self.holder.start(self.settings.reload_seconds)

    def stop(self) -> None:
        """Stop reloading, then flush every logged prediction (see PredictionLog.close)."""
        self.holder.stop()
        if self.log is not None:
            report = self.log.close()
            _log.warning(
                "prediction log closed: %d rows written at shutdown, %d spooled, %d lost",
                report.written_rows,
                report.spooled_rows,
                report.lost_rows,
            )

    # Routing ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, request_id: str | None, body: bytes) -> Response:
        """Answer one request (never raises: an unexpected error is a logged 500)."""
        route = self._routes.get((method, path))
        if route is None:
            return self._unrouted(method, path, request_id, body)
        endpoint, handler = route
        started = time.perf_counter()
        try:
            response = handler(request_id, body)
        except RequestError as exc:
            response = _error(exc.status, exc.message)
        except Exception:
            _log.exception("%s %s failed", method, path)
            response = _error(500, "internal error; see the server log")
        inference = endpoint in ("v2_infer", "v1_predict")
        self.metrics.observe(
            endpoint, response.status, time.perf_counter() - started if inference else None
        )
        return response

    def _unrouted(self, method: str, path: str, request_id: str | None, body: bytes) -> Response:
        if path.startswith(self._version_prefix) and path.endswith("/infer") and method == "POST":
            version = path[len(self._version_prefix) : -len("/infer")]
            current = self.holder.current
            if current is not None and version == current.version:
                return self.handle("POST", f"/v2/models/{self.model_name}/infer", request_id, body)
            served = current.version if current else "none yet"
            self.metrics.observe("v2_infer", 404)
            return _error(
                404,
                f"model {self.model_name!r} version {version!r} is not served (serving {served})",
            )
        if path in self._paths:
            self.metrics.observe("other", 405)
            return _error(405, f"{method} is not allowed on {path}")
        self.metrics.observe("other", 404)
        name = path.removeprefix("/v2/models/").removeprefix("/v1/models/").split("/")[0]
        if (
            path.startswith(("/v1/models/", "/v2/models/"))
            and name.split(":")[0] != self.model_name
        ):
            return _error(
                404,
                f"model {name.split(':')[0]!r} not found; this server serves {self.model_name!r}",
            )
        return _error(404, f"no such endpoint: {method} {path}")

    # Handlers ---------------------------------------------------------------------------

    def _served(self) -> LoadedModel:
        current = self.holder.current
        if current is None:
            raise RequestError(
                503, f"model {self.model_name!r} is not ready: {self.holder.status.last_error}"
            )
        return current

    def _ready(self, *_: Any) -> Response:
        status = self.holder.status
        if status.ready:
            return _json(200, {"name": self.model_name, "ready": True, "version": status.version})
        return _json(503, {"name": self.model_name, "ready": False, "reason": status.last_error})

    def _v1_model(self, *_: Any) -> Response:
        status = self.holder.status
        body = {"name": self.model_name, "ready": status.ready, "version": status.version}
        return _json(200 if status.ready else 503, body)

    def _v2_server(self, *_: Any) -> Response:
        return _json(200, {"name": SERVER_NAME, "version": __version__, "extensions": []})

    def _v2_model(self, *_: Any) -> Response:
        current = self._served()
        return Response(
            200, protocol.v2_model_metadata(self.model_name, current.version, self.schema)
        )

    def _metrics(self, *_: Any) -> Response:
        log = self.log
        state = LogState(
            enabled=log is not None,
            queued_rows=log.queued_rows if log else 0,
            held_rows=log.held_rows if log else 0,
            counters=log.counters if log else LogCounters(),
        )
        return Response(200, self.metrics.render(self.holder.status, state), CONTENT_TYPE)

    def _predict(
        self,
        request_id: str | None,
        decoded: protocol.DecodedRequest,
        respond: Callable[..., bytes],
    ) -> Response:
        model = self._served()
        if request_id is not None:
            request_id = protocol.check_request_id(request_id, REQUEST_ID_HEADER, self._max_id)
        request_id = request_id or decoded.request_id or protocol.new_request_id()
        predictions = model.predict(decoded.columns, decoded.rows)
        body = respond(self.model_name, model.version, request_id, predictions)
        if self.log is not None:
            self.log.append(model.version, request_id, self._clock(), decoded.columns, predictions)
        self.metrics.predicted_rows += decoded.rows
        return Response(
            200,
            body,
            headers=((REQUEST_ID_HEADER, request_id), (MODEL_VERSION_HEADER, model.version)),
        )

    def _v2_infer(self, request_id: str | None, body: bytes) -> Response:
        self._served()  # 503 before parsing when nothing is served yet
        decoded = protocol.parse_v2(body, self.schema, self._max_rows, self._max_id)
        return self._predict(request_id, decoded, protocol.v2_response)

    def _v1_predict(self, request_id: str | None, body: bytes) -> Response:
        self._served()
        decoded = protocol.parse_v1(body, self.schema, self._max_rows)
        return self._predict(request_id, decoded, protocol.v1_response)

    # WSGI -------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The WSGI entry point: read the body within the size limit, answer, respond."""
        body_stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH") or ""
        method = environ["REQUEST_METHOD"]
        limit = self.max_body_bytes
        if length.isdigit() and int(length) > limit:
            # Read and discard the body (without keeping it) so that the client, which sends
            # the whole body before it reads, gets the 400 rather than a broken pipe.
            while body_stream.read(_DISCARD_CHUNK):
                pass
            response = self._too_large(int(length))
        else:
            body = b""
            if method == "POST":
                # Without a Content-Length, read only up to one byte past the limit.
                body = body_stream.read(int(length) if length else limit + 1)
            response = (
                self._too_large(len(body))
                if len(body) > limit
                else self.handle(method, environ["PATH_INFO"], environ.get(_REQUEST_ID_KEY), body)
            )
        start_response(_status_line(response.status), response.header_list())
        return [response.body]

    def _too_large(self, size: int) -> Response:
        self.metrics.observe("other", 400)
        return _error(
            400, f"body: {size} bytes exceed the limit of {self.max_body_bytes} (--max-body-bytes)"
        )
