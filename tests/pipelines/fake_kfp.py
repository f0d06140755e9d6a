"""A stand-in for the KFP 2.17 API server: the v2beta1 REST calls ``kfp.Client`` makes.

It keeps pipelines, versions, experiments, runs and recurring runs in memory, answers in the
JSON shape of ``kfp_server_api``'s models (their ``attribute_map``: snake_case
fields, except ``recurringRuns``) and records every request
(method, path, query, JSON body, uploaded file, ``Authorization`` header) so tests can assert
what the client sent. Unknown routes answer 404, so a call the stand-in does not know fails the
test loudly.

With ``multi_user`` it behaves as multi-user KFP does where our client is concerned: healthz
says so, a request without the expected bearer ``token`` is refused (401), listing experiments
or recurring runs without a ``namespace`` is refused (400), and pipelines, experiments and
recurring runs belong to the namespace they were created in (a recurring run to its
experiment's).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API = "/apis/v2beta1"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    upload: bytes | None = None
    authorization: str | None = None


@dataclass
class FakeKfp:
    """State of the stand-in; ``run_states`` is the sequence ``GET runs/{id}`` walks through."""

    requests: list[Request] = field(default_factory=list)
    pipelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    recurring_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_states: list[str] = field(default_factory=lambda: ["RUNNING", "SUCCEEDED"])
    multi_user: bool = False
    token: str | None = None
    url: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: Any = field(default_factory=threading.Lock)

    def new_id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}"

    def calls(self, method: str, pattern: str) -> list[Request]:
        """The recorded requests of ``method`` whose path matches ``pattern`` (a regex, full)."""
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def add_pipeline(self, name: str, version_names: list[str]) -> str:
        """Seed a pipeline and its versions (oldest first), as an earlier upload would have."""
        pipeline_id = self.new_id("pipeline")
        self.pipelines[pipeline_id] = {"pipeline_id": pipeline_id, "display_name": name}
        self.versions[pipeline_id] = []
        for version in version_names:
            self._add_version(pipeline_id, version, "", None)
        return pipeline_id

    def _add_version(
        self, pipeline_id: str, name: str, description: str, spec: bytes | None
    ) -> dict:
        version = {
            "pipeline_id": pipeline_id,
            "pipeline_version_id": self.new_id("version"),
            "display_name": name,
            "description": description,
            "created_at": f"2026-01-01T00:00:{len(self.versions[pipeline_id]):02d}Z",
        }
        self.versions[pipeline_id].append(version)
        return version


def _display_name_filter(query: dict[str, str]) -> str | None:
    if "filter" not in query:
        return None
    for predicate in json.loads(query["filter"]).get("predicates", []):
        if predicate.get("key") == "display_name":
            return predicate.get("stringValue", predicate.get("string_value"))
    return None


def _multipart_file(content_type: str, body: bytes) -> bytes | None:
    message = BytesParser(policy=policy.default).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "uploadfile":
            return part.get_payload(decode=True)
    return None


class _Handler(BaseHTTPRequestHandler):
    state: FakeKfp

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        request = Request(
            self.command, parts.path, query, authorization=self.headers.get("Authorization")
        )
        if content_type.startswith("multipart/form-data"):
            request.upload = _multipart_file(content_type, raw)
        elif raw:
            request.body = json.loads(raw)
        with self.state._lock:
            self.state.requests.append(request)
            status, payload = _route(self.state, request)
        self._send(status, payload)

    do_GET = do_POST = do_DELETE = _handle


def _visible(item: dict[str, Any], name: str | None, namespace: str | None) -> bool:
    """Listed under this name filter and namespace (shared pipelines have no namespace)."""
    owner = item.get("namespace") or None  # the client sends "" for no namespace
    return (name is None or item["display_name"] == name) and owner in (None, namespace)


def _route(s: FakeKfp, r: Request) -> tuple[int, Any]:  # noqa: C901 - one branch per route
    p, q = r.path, r.query
    if (r.method, p) == ("GET", f"{API}/healthz"):
        return 200, {"multi_user": s.multi_user}
    if s.token is not None and r.authorization != f"Bearer {s.token}":
        return 401, {"error": "fake KFP: missing or wrong bearer token"}
    namespace = q.get("namespace") or None
    listing = r.method == "GET" and p in (f"{API}/experiments", f"{API}/recurringruns")
    if s.multi_user and listing and namespace is None:
        return 400, {"error": "fake KFP: multi-user mode needs a namespace"}
    if (r.method, p) == ("GET", f"{API}/pipelines"):
        name = _display_name_filter(q)
        found = [x for x in s.pipelines.values() if _visible(x, name, namespace)]
        return 200, {"pipelines": found, "total_size": len(found)}
    if (r.method, p) == ("POST", f"{API}/pipelines/upload"):
        pipeline_id = s.new_id("pipeline")
        s.pipelines[pipeline_id] = {
            "pipeline_id": pipeline_id,
            "display_name": q["name"],
            "description": q.get("description", ""),
        }
        if namespace:
            s.pipelines[pipeline_id]["namespace"] = namespace
        s.versions[pipeline_id] = []
        # Like the API server: the first version is named after the pipeline, same description.
        s._add_version(pipeline_id, q["name"], q.get("description", ""), r.upload)
        return 200, s.pipelines[pipeline_id]
    if (r.method, p) == ("POST", f"{API}/pipelines/upload_version"):
        pipeline_id = q["pipelineid"]
        if pipeline_id not in s.pipelines:
            return 404, {"error": f"no pipeline {pipeline_id}"}
        return 200, s._add_version(pipeline_id, q["name"], q.get("description", ""), r.upload)
    if m := re.fullmatch(rf"{API}/pipelines/([^/]+)/versions", p):
        if r.method != "GET" or m[1] not in s.versions:
            return 404, {}
        versions = list(s.versions[m[1]])
        if q.get("sort_by", "").endswith("desc"):
            versions.reverse()
        size = int(q.get("page_size") or len(versions) or 1)
        return 200, {"pipeline_versions": versions[:size], "total_size": len(versions)}
    if (r.method, p) == ("GET", f"{API}/experiments"):
        name = _display_name_filter(q)
        found = [x for x in s.experiments.values() if _visible(x, name, namespace)]
        return 200, {"experiments": found, "total_size": len(found)}
    if (r.method, p) == ("POST", f"{API}/experiments"):
        experiment = {**r.body, "experiment_id": s.new_id("experiment")}
        s.experiments[experiment["experiment_id"]] = experiment
        return 200, experiment
    if (r.method, p) == ("POST", f"{API}/runs"):
        run = {**r.body, "run_id": s.new_id("run"), "state": "PENDING", "_polls": 0}
        s.runs[run["run_id"]] = run
        return 200, {k: v for k, v in run.items() if not k.startswith("_")}
    if (m := re.fullmatch(rf"{API}/runs/([^/]+)", p)) and r.method == "GET":
        run = s.runs.get(m[1])
        if run is None:
            return 404, {"error": f"no run {m[1]}"}
        run["state"] = s.run_states[min(run["_polls"], len(s.run_states) - 1)]
        run["_polls"] += 1
        return 200, {k: v for k, v in run.items() if not k.startswith("_")}
    if (r.method, p) == ("POST", f"{API}/recurringruns"):
        recurring = {**r.body, "recurring_run_id": s.new_id("recurring"), "status": "ENABLED"}
        experiment = s.experiments.get(recurring.get("experiment_id") or "", {})
        if experiment.get("namespace"):
            recurring["namespace"] = experiment["namespace"]
        s.recurring_runs[recurring["recurring_run_id"]] = recurring
        return 200, recurring
    if (r.method, p) == ("GET", f"{API}/recurringruns"):
        name = _display_name_filter(q)
        found = [x for x in s.recurring_runs.values() if _visible(x, name, namespace)]
        # The one camelCase field of v2beta1 (proto `recurringRuns`), as kfp_server_api reads it.
        return 200, {"recurringRuns": found, "total_size": len(found)}
    if (m := re.fullmatch(rf"{API}/recurringruns/([^/]+)", p)) and r.method == "DELETE":
        if s.recurring_runs.pop(m[1], None) is None:
            return 404, {"error": f"no recurring run {m[1]}"}
        return 200, {}
    return 404, {"error": f"fake KFP: no route {r.method} {p}"}


class FakeKfpServer:
    """Serve a :class:`FakeKfp` on 127.0.0.1 (a free port) from a daemon thread."""

    def __init__(self, multi_user: bool = False, token: str | None = None) -> None:
        self.state = FakeKfp(multi_user=multi_user, token=token)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.state.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeKfp:
        self._thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
