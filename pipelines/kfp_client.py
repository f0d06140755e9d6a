"""The pipelines on a Kubeflow Pipelines 2.17 cluster: upload, submit, schedule, wait.

Functions over a :class:`kfp.Client`, idempotent where they can be:

* :func:`upload` compiles a pipeline and uploads it. A new pipeline is created when none has
  its name; otherwise a new *version* named ``<package version>-<sha256 of the spec, 12>`` is
  added, unless a version of that name (the same spec) is already there.
* :func:`submit` uploads (idempotently) and starts a run of that version, as the
  ``lifecycle-runner`` ServiceAccount, in an experiment created on first use; a monitoring
  run's name carries its batch id.
* :func:`schedule` creates a recurring monitoring run (KFP's 6-field cron in the scheduler's
  time zone, UTC as our manifests set it; ``max_concurrency=1``, ``no_catchup=True``). A
  recurring run of the same name is kept when it is current, and replaced, saying what
  changed, when its cron, parameters or pipeline version differ; never duplicated.
* :func:`unschedule` deletes the recurring runs of a name; :func:`wait_for_run` waits for a run
  and raises unless it succeeded.
* :func:`upload_data` copies the course files into the store under ``incoming/`` keys, which
  the runs take as sources (ingest and validate read a path *or* a store key).

Multi-user Kubeflow: every call that names a namespace gets ``namespace`` (``--namespace``,
else ``$KFP_NAMESPACE``): pipelines, experiments and recurring runs are then the namespace's
own; without it they are single-user KFP's shared ones. Every request carries the bearer token
``$KFP_TOKEN``, or one that :func:`kubectl_token` asks the cluster for
(``kubectl create token`` for a ServiceAccount of that namespace, with KFP's audience).

On the cluster the stages read ``STORE`` and the MinIO credentials from Kubernetes
(:mod:`pipelines.cluster`), never from run parameters. ``python -m pipelines.kfp_client`` is
a thin CLI over these functions; its host is ``--host``, else ``$KFP_HOST``, else
``http://localhost:8888`` (``make api``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle import __version__
from lifecycle.config import ClusterConfig
from lifecycle.errors import InvalidInputError, LifecycleError
from lifecycle.store import Store

HOST_ENV = "KFP_HOST"
DEFAULT_HOST = "http://localhost:8888"
# Where the links the client prints point: the UI (`make ui`), not the API.
UI_HOST_ENV = "KFP_UI_HOST"
DEFAULT_UI_HOST = "http://localhost:8080"
# Multi-user Kubeflow: the profile namespace, and the bearer token every request carries.
NAMESPACE_ENV = "KFP_NAMESPACE"
TOKEN_ENV = "KFP_TOKEN"
# A ServiceAccount (of the namespace) whose token `kubectl create token` makes, instead.
TOKEN_SERVICE_ACCOUNT_ENV = "KFP_TOKEN_SERVICE_ACCOUNT"
# The audience KFP's API server asks a TokenReview for (its ServiceAccount token auth).
TOKEN_AUDIENCE = "pipelines.kubeflow.org"
TOKEN_DURATION = "1h"
SERVICE_ACCOUNT = "lifecycle-runner"
DEFAULT_EXPERIMENT = "lifecycle"
# KFP's cron has 6 fields, seconds first: daily at 02:00:00. The scheduler reads it in its
# time zone, `cronScheduleTimezone` of pipeline-install-config: UTC, which
# manifests/components/kfp-minio sets (a test checks they agree).
DEFAULT_CRON = "0 0 2 * * *"
SCHEDULE_TIME_ZONE = "UTC"
DEFAULT_SCHEDULE = "lifecycle-monitoring-daily"
MAX_CONCURRENCY = 1
DEFAULT_RUN_TIMEOUT = 1800

# Store keys of the data the cluster's runs read (see upload_data).
INCOMING_PREFIX = "incoming"
COURSE_PREFIX = f"{INCOMING_PREFIX}/course"
# The batch a scheduled monitoring run evaluates: whoever delivers labelled data overwrites it.
LATEST_BATCH_KEY = f"{INCOMING_PREFIX}/latest.csv"
# Empty: each scheduled run names its batch by its schedule time (UTC), e.g. 20261203T020000Z.
DEFAULT_SCHEDULED_BATCH_ID = ""

PIPELINE_NAMES = ("training", "monitoring")
# Terminal states of V2beta1RuntimeState.
_FINISHED_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})


class KfpError(LifecycleError):
    """The KFP API refused a request, or a run did not succeed."""


class RunFailedError(KfpError):
    """A run finished in a state other than ``SUCCEEDED``, or did not finish in time."""


@dataclass(frozen=True)
class Uploaded:
    """Where a compiled pipeline is on the server, and what :func:`upload` did."""

    pipeline_id: str
    pipeline_name: str
    version_id: str
    version_name: str
    action: str  # "created pipeline", "new version" or "unchanged"


@dataclass(frozen=True)
class Scheduled:
    """A recurring run, and what :func:`schedule` did: ``created``, ``updated`` (``changes``
    says what differed; ``replaced`` the ids it replaced) or ``unchanged``."""

    recurring_run_id: str
    name: str
    cron: str
    action: str
    pipeline_version_id: str | None
    changes: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()

    @property
    def created(self) -> bool:
        return self.action == "created"


# -- pipelines and their packages ----------------------------------------------------------


def pipeline_function(pipeline: str) -> Any:
    """The ``@dsl.pipeline`` function called ``training`` or ``monitoring``.

    Raises:
        InvalidInputError: another name.
    """
    if pipeline == "training":
        from pipelines.training import training_pipeline

        return training_pipeline
    if pipeline == "monitoring":
        from pipelines.monitoring import monitoring_pipeline

        return monitoring_pipeline
    raise InvalidInputError(f"unknown pipeline {pipeline!r}: choose {' or '.join(PIPELINE_NAMES)}")


def compile_pipeline(pipeline: str, directory: Path, cluster: ClusterConfig | None = None) -> Path:
    """Compile ``pipeline`` to ``directory/<pipeline>_pipeline.yaml`` and return the path.

    Args:
        pipeline: ``training`` or ``monitoring``.
        directory: where to write.
        cluster: the stages' resources and deadlines to compile in; the course defaults
            (those of the committed YAML) when None.
    """
    from kfp import compiler

    from pipelines.cluster import compile_with

    function = pipeline_function(pipeline)
    if cluster is not None:
        function = compile_with(function, cluster)
    path = Path(directory) / f"{pipeline}_pipeline.yaml"
    compiler.Compiler().compile(function, str(path))
    return path


def version_name(package: Path, version: str = __version__) -> str:
    """``<package version>-<first 12 hex of the spec's sha256>``: equal specs, equal names."""
    return f"{version}-{hashlib.sha256(Path(package).read_bytes()).hexdigest()[:12]}"


def check_params(pipeline: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``params`` when the pipeline has each of them and gets every required one.

    Raises:
        InvalidInputError: an unknown parameter or a missing required one, named.
    """
    inputs = pipeline_function(pipeline).component_spec.inputs or {}
    unknown = sorted(set(params) - set(inputs))
    if unknown:
        raise InvalidInputError(
            f"{pipeline} pipeline has no parameter {', '.join(unknown)}; "
            f"its parameters: {', '.join(sorted(inputs))}"
        )
    missing = sorted(
        name
        for name, spec in inputs.items()
        if spec.default is None and not spec.optional and name not in params
    )
    if missing:
        raise InvalidInputError(f"{pipeline} pipeline needs parameter {', '.join(missing)}")
    return dict(params)


def course_params(
    pipeline: str, batch: str = "batch_1", prefix: str = COURSE_PREFIX
) -> dict[str, str]:
    """Parameters that run ``pipeline`` on the course data :func:`upload_data` put in the store.

    Training reads ``data_init.csv`` and ``data_test.csv``; monitoring reads ``<batch>.csv``
    with batch id ``batch``.
    """
    if pipeline == "training":
        return {
            "training_source": f"{prefix}/data_init.csv",
            "test_source": f"{prefix}/data_test.csv",
        }
    if pipeline == "monitoring":
        return {"batch_source": f"{prefix}/{batch}.csv", "batch_id": batch}
    raise InvalidInputError(f"unknown pipeline {pipeline!r}: choose {' or '.join(PIPELINE_NAMES)}")


# -- the client ----------------------------------------------------------------------------


def kubectl_token(
    service_account: str,
    namespace: str,
    kubectl: str = "kubectl",
    audience: str = TOKEN_AUDIENCE,
    duration: str = TOKEN_DURATION,
) -> str:
    """A token of ``service_account`` in ``namespace`` for KFP's API (``kubectl create token``).

    Args:
        service_account: the ServiceAccount, e.g. a profile's ``default-editor``.
        namespace: its namespace (the profile's).
        kubectl: the kubectl to run (its current context is the cluster).
        audience: the token's audience; KFP's API server reviews tokens for
            :data:`TOKEN_AUDIENCE`.
        duration: how long the token is valid.

    Returns:
        The token (never printed).

    Raises:
        KfpError: kubectl failed (its message, which holds no token).
    """
    command = [
        kubectl,
        "create",
        "token",
        service_account,
        f"--namespace={namespace}",
        f"--audience={audience}",
        f"--duration={duration}",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise KfpError(f"cannot run {kubectl}: {exc.strerror}") from None
    token = result.stdout.strip()
    if result.returncode != 0 or not token:
        reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no token"
        raise KfpError(f"kubectl create token {service_account} -n {namespace}: {reason}")
    return token


def make_client(host: str | None = None, token: str | None = None) -> Any:
    """A :class:`kfp.Client` for ``host``, else ``$KFP_HOST``, else ``http://localhost:8888``.

    Every request carries ``token`` (else ``$KFP_TOKEN``) as ``Authorization: Bearer``, when
    there is one. The run and pipeline links it prints go to ``$KFP_UI_HOST``, else
    ``http://localhost:8080``.
    """
    import kfp

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="This client only works with", category=FutureWarning
        )
        return kfp.Client(
            host=host or os.environ.get(HOST_ENV) or DEFAULT_HOST,
            ui_host=os.environ.get(UI_HOST_ENV) or DEFAULT_UI_HOST,
            existing_token=token or os.environ.get(TOKEN_ENV) or None,
        )


def _pages(list_page: Any, items: str, **kwargs: Any) -> Iterator[Any]:
    """Every item of a paginated KFP list call."""
    token = ""
    while True:
        response = list_page(page_token=token, page_size=100, **kwargs)
        yield from getattr(response, items) or []
        token = response.next_page_token or ""
        if not token:
            return


def _name_filter(name: str) -> str:
    return json.dumps(
        {"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": name}]}
    )


def _find_version(client: Any, pipeline_id: str, name: str) -> Any | None:
    """The version of ``pipeline_id`` called ``name`` (or marked with it), if any."""
    for version in _pages(
        client.list_pipeline_versions, "pipeline_versions", pipeline_id=pipeline_id
    ):
        if version.display_name == name or f"[{name}]" in (version.description or ""):
            return version
    return None


def _latest_version(client: Any, pipeline_id: str) -> Any:
    response = client.list_pipeline_versions(
        pipeline_id=pipeline_id, page_size=1, sort_by="created_at desc"
    )
    if not response.pipeline_versions:
        raise KfpError(f"pipeline {pipeline_id} has no version on the server")
    return response.pipeline_versions[0]


def _find_pipeline_id(client: Any, name: str, namespace: str | None) -> str | None:
    """The id of the pipeline called ``name`` (shared, or ``namespace``'s own), if any."""
    for found in _pages(
        client.list_pipelines, "pipelines", filter=_name_filter(name), namespace=namespace
    ):
        if found.display_name == name:
            return found.pipeline_id
    return None


def upload(
    client: Any,
    pipeline: str,
    namespace: str | None = None,
    cluster: ClusterConfig | None = None,
) -> Uploaded:
    """Compile ``pipeline`` and make that spec available on the server.

    Args:
        client: a :class:`kfp.Client`.
        pipeline: ``training`` or ``monitoring``.
        namespace: multi-user KFP's namespace, which then owns the pipeline; None: shared.
        cluster: the stages' resources and deadlines (the course defaults when None).

    Returns:
        The pipeline and version that hold the current spec, and what was done.

    Raises:
        InvalidInputError: unknown pipeline.
    """
    function = pipeline_function(pipeline)
    name = function.name
    with tempfile.TemporaryDirectory(prefix="lifecycle-kfp-") as directory:
        package = compile_pipeline(pipeline, Path(directory), cluster)
        spec_version = version_name(package)
        description = f"{function.description} [{spec_version}]"
        pipeline_id = _find_pipeline_id(client, name, namespace)
        if pipeline_id is None:
            created = client.upload_pipeline(
                str(package), pipeline_name=name, description=description, namespace=namespace
            )
            first = _latest_version(client, created.pipeline_id)
            return Uploaded(
                created.pipeline_id,
                name,
                first.pipeline_version_id,
                first.display_name,
                "created pipeline",
            )
        existing = _find_version(client, pipeline_id, spec_version)
        if existing is not None:
            return Uploaded(
                pipeline_id, name, existing.pipeline_version_id, existing.display_name, "unchanged"
            )
        version = client.upload_pipeline_version(
            str(package), spec_version, pipeline_id=pipeline_id, description=description
        )
        return Uploaded(pipeline_id, name, version.pipeline_version_id, spec_version, "new version")


def run_name_for(pipeline: str, params: Mapping[str, Any], now: dt.datetime) -> str:
    """``<pipeline> <batch id> <UTC time>`` for a monitoring run, ``<pipeline> <UTC time>``
    otherwise: the batch a run evaluated shows in the run list."""
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    batch = params.get("batch_id")
    return f"{pipeline} {batch} {stamp}" if batch else f"{pipeline} {stamp}"


def submit(
    client: Any,
    pipeline: str,
    params: Mapping[str, Any],
    experiment: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
    namespace: str | None = None,
    cluster: ClusterConfig | None = None,
) -> Any:
    """Start a run of the current ``pipeline`` spec with ``params``, as ``lifecycle-runner``.

    Args:
        client: a :class:`kfp.Client`.
        pipeline: ``training`` or ``monitoring``.
        params: the pipeline's parameters (store keys as sources).
        experiment: the experiment's name; created when absent.
        run_name: the run's name; by default :func:`run_name_for` (with the batch id).
        namespace: multi-user KFP's namespace (experiment, pipeline); None: single-user.
        cluster: the stages' resources and deadlines (the course defaults when None).

    Returns:
        The created run (``kfp_server_api.V2beta1Run``).

    Raises:
        InvalidInputError: unknown pipeline or parameter, or a required one missing.
    """
    arguments = check_params(pipeline, params)
    uploaded = upload(client, pipeline, namespace, cluster)
    experiment_id = client.create_experiment(name=experiment, namespace=namespace).experiment_id
    return client.run_pipeline(
        experiment_id=experiment_id,
        job_name=run_name or run_name_for(pipeline, arguments, dt.datetime.now(dt.UTC)),
        params=arguments,
        pipeline_id=uploaded.pipeline_id,
        version_id=uploaded.version_id,
        service_account=SERVICE_ACCOUNT,
    )


def check_cron(cron: str) -> str:
    """Return ``cron`` when it has KFP's six fields (seconds first).

    Raises:
        InvalidInputError: any other number of fields.
    """
    fields = cron.split()
    if len(fields) != 6:
        raise InvalidInputError(
            f"cron {cron!r} has {len(fields)} fields; KFP needs 6, seconds first "
            f"(e.g. {DEFAULT_CRON!r}: daily at 02:00)"
        )
    return " ".join(fields)


def find_recurring_runs(client: Any, name: str, namespace: str | None = None) -> list[Any]:
    """The recurring runs called ``name`` (in ``namespace`` on multi-user KFP)."""
    return [
        run
        for run in _pages(
            client.list_recurring_runs,
            "recurring_runs",
            filter=_name_filter(name),
            namespace=namespace,
        )
        if run.display_name == name
    ]


def _shown(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return repr(text) if len(text) <= limit else f"<{len(text)} characters>"


def schedule_changes(
    existing: Any,
    cron: str,
    params: Mapping[str, Any],
    pipeline_version_id: str,
    service_account: str = SERVICE_ACCOUNT,
) -> list[str]:
    """What differs between a recurring run on the server and the one asked for.

    Args:
        existing: a ``V2beta1RecurringRun`` as listed by the server.
        cron: the cron asked for.
        params: the parameters asked for.
        pipeline_version_id: the pipeline version asked for (the one uploaded now).
        service_account: the ServiceAccount asked for.

    Returns:
        One phrase per difference, e.g. ``cron '0 0 2 * * *' -> '0 30 3 * * *'`` or
        ``parameter batch_id 'daily' -> 'hourly'``; empty when it is current.
    """
    changes = []
    trigger = existing.trigger.cron_schedule if existing.trigger else None
    old_cron = (trigger.cron if trigger else "") or ""
    if old_cron != cron:
        changes.append(f"cron {old_cron!r} -> {cron!r}")
    runtime = existing.runtime_config
    old_params = dict((runtime.parameters if runtime else None) or {})
    for name in sorted(set(old_params) | set(params)):
        if name not in params:
            changes.append(f"parameter {name} {_shown(old_params[name])} removed")
        elif name not in old_params:
            changes.append(f"parameter {name} {_shown(params[name])} added")
        elif str(old_params[name]) != str(params[name]):
            if len(str(old_params[name])) > 40 or len(str(params[name])) > 40:
                changes.append(f"parameter {name} changed")
            else:
                changes.append(
                    f"parameter {name} {_shown(old_params[name])} -> {_shown(params[name])}"
                )
    reference = existing.pipeline_version_reference
    old_version = reference.pipeline_version_id if reference else None
    if old_version != pipeline_version_id:
        changes.append(f"pipeline version {old_version} -> {pipeline_version_id}")
    if (existing.max_concurrency is not None) and int(existing.max_concurrency) != MAX_CONCURRENCY:
        changes.append(f"max_concurrency {existing.max_concurrency} -> {MAX_CONCURRENCY}")
    if existing.no_catchup is not True:
        changes.append("catch-up on -> off")
    if (existing.service_account or "") != service_account:
        changes.append(f"service account {existing.service_account!r} -> {service_account!r}")
    return changes


def schedule(
    client: Any,
    params: Mapping[str, Any],
    name: str = DEFAULT_SCHEDULE,
    cron: str = DEFAULT_CRON,
    experiment: str = DEFAULT_EXPERIMENT,
    namespace: str | None = None,
    cluster: ClusterConfig | None = None,
) -> Scheduled:
    """Run the monitoring pipeline on ``cron``: create, keep or replace the recurring run ``name``.

    One run at a time (``max_concurrency=1``) and no backfill of missed times
    (``no_catchup=True``); ``cron`` is read in the scheduler's time zone
    (:data:`SCHEDULE_TIME_ZONE`). The monitoring pipeline is uploaded first (idempotent), and
    the recurring run is pinned to that version. An existing recurring run of that name is
    kept when its cron, parameters, version, concurrency, catch-up and service account are
    those asked for; otherwise it is deleted and created again (KFP's API cannot edit a
    recurring run), and :attr:`Scheduled.changes` says what differed.

    Args:
        client: a :class:`kfp.Client`.
        params: the monitoring pipeline's parameters.
        name: the recurring run's name.
        cron: KFP's 6-field cron, seconds first.
        experiment: the experiment's name; created when absent.
        namespace: multi-user KFP's namespace; None: single-user.
        cluster: the stages' resources and deadlines (the course defaults when None).

    Returns:
        The recurring run, and what was done.

    Raises:
        InvalidInputError: a cron without 6 fields, or bad parameters.
    """
    cron = check_cron(cron)
    arguments = check_params("monitoring", params)
    uploaded = upload(client, "monitoring", namespace, cluster)
    existing = find_recurring_runs(client, name, namespace)
    changes: list[str] = []
    if len(existing) == 1:
        run = existing[0]
        changes = schedule_changes(run, cron, arguments, uploaded.version_id)
        if not changes:
            return Scheduled(run.recurring_run_id, name, cron, "unchanged", uploaded.version_id)
    elif len(existing) > 1:
        changes = [f"{len(existing)} recurring runs of this name -> 1"]
    replaced = []
    for run in existing:
        client.delete_recurring_run(run.recurring_run_id)
        replaced.append(run.recurring_run_id)
    experiment_id = client.create_experiment(name=experiment, namespace=namespace).experiment_id
    created = client.create_recurring_run(
        experiment_id=experiment_id,
        job_name=name,
        description=(
            f"{uploaded.pipeline_name} {uploaded.version_name} on {cron} ({SCHEDULE_TIME_ZONE})"
        ),
        cron_expression=cron,
        max_concurrency=MAX_CONCURRENCY,
        no_catchup=True,
        params=arguments,
        pipeline_id=uploaded.pipeline_id,
        version_id=uploaded.version_id,
        enabled=True,
        service_account=SERVICE_ACCOUNT,
    )
    return Scheduled(
        created.recurring_run_id,
        name,
        cron,
        "updated" if existing else "created",
        uploaded.version_id,
        tuple(changes),
        tuple(replaced),
    )


def unschedule(
    client: Any, name: str = DEFAULT_SCHEDULE, namespace: str | None = None
) -> list[str]:
    """Delete every recurring run called ``name``; return their ids (none: nothing to do)."""
    deleted = []
    for run in find_recurring_runs(client, name, namespace):
        client.delete_recurring_run(run.recurring_run_id)
        deleted.append(run.recurring_run_id)
    return deleted


def wait_for_run(
    client: Any, run_id: str, timeout: float = DEFAULT_RUN_TIMEOUT, poll: float = 5.0
) -> Any:
    """Wait until run ``run_id`` finishes; return it when it succeeded.

    Raises:
        RunFailedError: it finished in another state (``FAILED``, ``CANCELED``, …), or not
            within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        run = client.get_run(run_id)
        state = str(run.state or "").upper()
        if state in _FINISHED_STATES:
            break
        if time.monotonic() + poll > deadline:
            raise RunFailedError(f"run {run_id} still {state or 'pending'} after {timeout:.0f} s")
        time.sleep(poll)
    if state != "SUCCEEDED":
        error = getattr(run, "error", None)
        reason = f": {error.message}" if error is not None and error.message else ""
        raise RunFailedError(f"run {run_id} finished {state}{reason}")
    return run


# -- data ----------------------------------------------------------------------------------


def course_files(prefix: str = COURSE_PREFIX) -> dict[str, Path]:
    """Store key -> file of the course data, plus :data:`LATEST_BATCH_KEY` (its last batch)."""
    from pipelines.scenarios import course_scenario

    plan = course_scenario()
    files = {
        f"{prefix}/{plan.training_file.name}": plan.training_file,
        f"{prefix}/{plan.test_file.name}": plan.test_file,
    }
    files.update({f"{prefix}/{path.name}": path for _, path in plan.batches})
    files[LATEST_BATCH_KEY] = plan.batches[-1][1]
    return files


def upload_data(store: Store, files: Mapping[str, Path]) -> list[str]:
    """Write each file at its key (an overwrite: the newest delivery wins); return the keys."""
    for key, path in files.items():
        store.put_bytes(key, Path(path).read_bytes())
    return list(files)


# -- CLI -----------------------------------------------------------------------------------


def _key_values(pairs: Sequence[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--param {pair!r}: use NAME=VALUE")
        params[key] = value
    return params


def _load_config(config: str | None) -> Any:
    from lifecycle.config import load_config

    return load_config(config) if config else None


def _with_config(params: dict[str, Any], config: Any) -> dict[str, Any]:
    if config is not None:
        params.setdefault("config_json", config.to_json())
    return params


def _connect(args: argparse.Namespace) -> tuple[Any, str | None]:
    """The client and namespace of the CLI's options (``--namespace``, token options)."""
    namespace = args.namespace or os.environ.get(NAMESPACE_ENV) or None
    token = None
    service_account = args.token_service_account or os.environ.get(TOKEN_SERVICE_ACCOUNT_ENV)
    if service_account:
        if not namespace:
            raise InvalidInputError(
                f"--token-service-account {service_account} needs --namespace or ${NAMESPACE_ENV}"
            )
        token = kubectl_token(service_account, namespace, args.kubectl)
    return make_client(args.host, token), namespace


def _cmd_upload(args: argparse.Namespace) -> int:
    config = _load_config(args.config)
    client, namespace = _connect(args)
    for pipeline in args.pipeline or PIPELINE_NAMES:
        done = upload(client, pipeline, namespace, config.cluster if config else None)
        print(
            f"{done.pipeline_name}: {done.action}, version {done.version_name} "
            f"(pipeline {done.pipeline_id}, version id {done.version_id})"
        )
    return 0


def _cmd_submit(args: argparse.Namespace) -> int:
    config = _load_config(args.config)
    params = _with_config(
        {**course_params(args.pipeline, args.batch), **_key_values(args.param)}, config
    )
    client, namespace = _connect(args)
    run = submit(
        client,
        args.pipeline,
        params,
        args.experiment,
        args.run_name,
        namespace,
        config.cluster if config else None,
    )
    print(f"submitted {args.pipeline} run {run.run_id} ({run.display_name}) as {SERVICE_ACCOUNT}")
    if args.wait:
        finished = wait_for_run(client, run.run_id, args.timeout)
        print(f"run {finished.run_id}: {finished.state}")
    return 0


def _cmd_schedule(args: argparse.Namespace) -> int:
    config = _load_config(args.config)
    params = _with_config(
        {"batch_source": args.source, "batch_id": args.batch_id, **_key_values(args.param)},
        config,
    )
    client, namespace = _connect(args)
    done = schedule(
        client,
        params,
        args.name,
        args.cron,
        args.experiment,
        namespace,
        config.cluster if config else None,
    )
    when = f"cron '{done.cron}' ({SCHEDULE_TIME_ZONE}, the scheduler's time zone)"
    if done.action == "unchanged":
        print(
            f"schedule {done.name} is current ({done.recurring_run_id}: {when}, "
            f"pipeline version {done.pipeline_version_id}): left unchanged"
        )
        return 0
    verb = "scheduled" if done.action == "created" else "updated"
    print(
        f"{verb} {done.name} ({done.recurring_run_id}): monitoring on {when}, "
        f"max_concurrency={MAX_CONCURRENCY}, no_catchup, as {SERVICE_ACCOUNT}"
    )
    if done.replaced:
        print(f"  replaced {', '.join(done.replaced)}; changed: {'; '.join(done.changes)}")
    return 0


def _cmd_unschedule(args: argparse.Namespace) -> int:
    client, namespace = _connect(args)
    deleted = unschedule(client, args.name, namespace)
    print(
        f"deleted {args.name}: {', '.join(deleted)}"
        if deleted
        else f"no schedule named {args.name}"
    )
    return 0


def _cmd_wait(args: argparse.Namespace) -> int:
    client, _ = _connect(args)
    run = wait_for_run(client, args.run_id, args.timeout)
    print(f"run {run.run_id}: {run.state}")
    return 0


def _cmd_upload_data(args: argparse.Namespace) -> int:
    from lifecycle.store import open_store

    store = open_store(args.store)
    for key in upload_data(store, course_files(args.prefix)):
        print(f"put {key}")
    print(f"course data in {store.uri} under {args.prefix}/ and {LATEST_BATCH_KEY}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.kfp_client", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", help=f"KFP API (default ${HOST_ENV}, else {DEFAULT_HOST})")
    parser.add_argument(
        "--namespace",
        help=f"multi-user KFP: the profile namespace (default ${NAMESPACE_ENV}; none: single-user)",
    )
    parser.add_argument(
        "--token-service-account",
        metavar="NAME",
        help=f"send a token of this ServiceAccount of the namespace (kubectl create token, "
        f"audience {TOKEN_AUDIENCE}; default ${TOKEN_SERVICE_ACCOUNT_ENV}); "
        f"else ${TOKEN_ENV} when set",
    )
    parser.add_argument("--kubectl", default="kubectl", help="kubectl for --token-service-account")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser(
        "upload", help="compile and upload (a new version when the pipeline exists)"
    )
    up.add_argument("pipeline", nargs="*", help="training and/or monitoring (default: both)")
    up.add_argument("--config", help="a lifecycle YAML config: its cluster: section is compiled in")
    up.set_defaults(handler=_cmd_upload)

    sub = commands.add_parser("submit", help="start a run on the course data in the store")
    sub.add_argument("pipeline", choices=PIPELINE_NAMES)
    sub.add_argument(
        "--batch", default="batch_1", help="monitoring: the course batch (batch_1 … batch_6)"
    )
    sub.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter"
    )
    sub.add_argument(
        "--config",
        help="a lifecycle YAML config, passed as config_json; its cluster: section is compiled in",
    )
    sub.add_argument("--experiment", default=DEFAULT_EXPERIMENT)
    sub.add_argument("--run-name")
    sub.add_argument(
        "--wait", action="store_true", help="wait for the run; fail unless it succeeds"
    )
    sub.add_argument(
        "--timeout", type=float, default=DEFAULT_RUN_TIMEOUT, help="seconds (with --wait)"
    )
    sub.set_defaults(handler=_cmd_submit)

    sched = commands.add_parser(
        "schedule",
        help="a recurring monitoring run (kept when current, replaced when it differs)",
    )
    sched.add_argument("--name", default=DEFAULT_SCHEDULE)
    sched.add_argument(
        "--cron",
        default=DEFAULT_CRON,
        help=f"6 fields, seconds first, in {SCHEDULE_TIME_ZONE} (default {DEFAULT_CRON!r})",
    )
    sched.add_argument(
        "--source", default=LATEST_BATCH_KEY, help="store key of the batch each run reads"
    )
    sched.add_argument(
        "--batch-id",
        default=DEFAULT_SCHEDULED_BATCH_ID,
        help="batch id of every run (default: each run's schedule time, UTC)",
    )
    sched.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    sched.add_argument(
        "--config",
        help="a lifecycle YAML config, passed as config_json; its cluster: section is compiled in",
    )
    sched.add_argument("--experiment", default=DEFAULT_EXPERIMENT)
    sched.set_defaults(handler=_cmd_schedule)

    unsched = commands.add_parser("unschedule", help="delete the recurring runs of a name")
    unsched.add_argument("--name", default=DEFAULT_SCHEDULE)
    unsched.set_defaults(handler=_cmd_unschedule)

    wait = commands.add_parser("wait", help="wait for a run; fail unless it succeeds")
    wait.add_argument("run_id")
    wait.add_argument("--timeout", type=float, default=DEFAULT_RUN_TIMEOUT)
    wait.set_defaults(handler=_cmd_wait)

    data = commands.add_parser(
        "upload-data", help="copy the course data into the store under incoming/"
    )
    data.add_argument(
        "--store", help="store URI (default $STORE); credentials from the environment"
    )
    data.add_argument("--prefix", default=COURSE_PREFIX)
    data.set_defaults(handler=_cmd_upload_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; a :class:`LifecycleError` or an API error is one line on stderr."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except LifecycleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # the KFP API's errors, connection refused, …
        from kfp_server_api.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        if isinstance(exc, ApiException):
            print(
                f"error: KFP API {exc.status} {exc.reason}: {(exc.body or '').strip()[:500]}",
                file=sys.stderr,
            )
            return 4
        if isinstance(exc, (HTTPError, ConnectionError)):
            host = args.host or os.environ.get(HOST_ENV) or DEFAULT_HOST
            print(
                f"error: cannot reach the KFP API at {host} ({exc}); is `make api` running?",
                file=sys.stderr,
            )
            return 4
        raise


if __name__ == "__main__":
    raise SystemExit(main())
