"""Running the pipelines on one machine with KFP's local runner (the embedded default).

Two runners, chosen in one place (:func:`make_runner`): ``subprocess`` runs each task in this
Python environment; ``docker`` runs each task in its stage image (``make images``) with
``kfp.local.DockerRunner``, as a cluster would, with host networking, a read-only root
filesystem, a writable ``/tmp`` and a non-root user, and never pulls an image.

Each pipeline run is a transaction (:mod:`lifecycle.runs`): this module gives it a UUID and an
owner record (this process) before it starts, and runs it in a child process that leads its own
process group, so that SIGINT or SIGTERM stops every task (and container) of the run at once;
the run's uncommitted writes are then rolled back and nothing is written after the command
exits. Runs of earlier commands whose process died (SIGKILL, a crash) are rolled back before a
new run starts.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from kfp import local

from lifecycle.commits import Commit, CommitLog
from lifecycle.config import LifecycleConfig
from lifecycle.errors import Interrupted, InvalidInputError, LifecycleError, interrupted_by_signals
from lifecycle.recovery import recover_dead_local_runs, rollback
from lifecycle.runs import OWNER_ENV, RUN_ID_ENV, RunContext, RunOwner, new_run_id, register_run
from lifecycle.store import STORE_ENV, open_store
from lifecycle.task_errors import ERRORS_ENV, first_task_error

RUNNER_ENV = "LIFECYCLE_RUNNER"
SUBPROCESS = "subprocess"
DOCKER = "docker"
RUNNERS = (SUBPROCESS, DOCKER)
# The stage images' user (images/base/Dockerfile); containers of a root caller run as it.
IMAGE_UID = 10001
# What the store client reads from the environment (lifecycle/store/minio.py), handed to
# containers through their environment, never through pipeline parameters.
STORE_ENV_NAMES = (
    "MINIO_ACCESS_KEY",
    "MINIO_SECRET_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "MINIO_SECURE",
    "STORE_RETRIES",
    "STORE_RETRY_DELAY",
    "STORE_RETRY_BUDGET",
    "STORE_CONNECT_TIMEOUT",
    "STORE_READ_TIMEOUT",
)


RUN_LABEL = "lifecycle.run"  # on the Docker runner's containers, to stop a run's containers
_WATCHDOG_SECONDS = 0.2
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class PipelineFailedError(LifecycleError):
    """A task of a local pipeline run failed; the message is the task's own when it gave one."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class LocalRun:
    """A finished local run: its id and its commit (None when it had nothing to commit, as a
    batch already monitored)."""

    run_id: str
    commit: Commit | None


def resolve_runner(name: str | None = None) -> str:
    """The runner to use: the argument, else ``$LIFECYCLE_RUNNER``, else ``subprocess``.

    Raises:
        InvalidInputError: an unknown runner name.
    """
    chosen = name or os.environ.get(RUNNER_ENV) or SUBPROCESS
    if chosen not in RUNNERS:
        raise InvalidInputError(f"unknown runner {chosen!r}: choose {' or '.join(RUNNERS)}")
    return chosen


def _give_to(path: str, uid: int, gid: int) -> None:
    """Make ``path`` (a folder, recursively) owned by ``uid:gid``, so its containers can write."""
    os.chown(path, uid, gid)
    for folder, names, files in os.walk(path):
        for name in (*names, *files):
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def _require_images() -> None:
    """Fail unless every stage image is local: the Docker runner must never pull.

    Raises:
        PipelineFailedError: an image is missing (``make images`` builds them).
    """
    import docker

    from lifecycle.images import STAGES, image_tag

    client = docker.from_env()
    try:
        present = {tag for image in client.images.list() for tag in image.tags}
    finally:
        client.close()
    missing = [image_tag(stage) for stage in STAGES if image_tag(stage) not in present]
    if missing:
        raise PipelineFailedError(
            f"stage image {missing[0]} is not built here and is never pulled: run make images"
        )


def make_runner(
    runner: str,
    store_uri: str,
    pipeline_root: str,
    files: Sequence[str] = (),
    run_environment: Mapping[str, str] | None = None,
) -> local.SubprocessRunner | local.DockerRunner:
    """The KFP local runner called ``runner``.

    For ``docker``: the local store's folder and each input file in ``files`` are mounted at
    their own absolute paths (the files read-only; KFP mounts ``pipeline_root`` itself), the
    store's environment variables and ``run_environment`` are passed on, the containers are
    labelled with the run id, and they run as the caller, or as the images' user 10001 when the
    caller is root (the store and ``pipeline_root`` are then handed to that user).

    Raises:
        PipelineFailedError: a stage image is missing.
    """
    if runner == SUBPROCESS:
        return local.SubprocessRunner(use_venv=False)
    from docker.types import Mount

    _require_images()
    uid, gid = (IMAGE_UID, IMAGE_UID) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    mounts = [Mount(target=path, source=path, type="bind", read_only=True) for path in files]
    owned = [pipeline_root]
    if "://" not in store_uri:
        os.makedirs(store_uri, exist_ok=True)
        mounts.append(Mount(target=store_uri, source=store_uri, type="bind"))
        owned.append(store_uri)
    if os.geteuid() == 0:
        for path in owned:
            _give_to(path, uid, gid)
    return local.DockerRunner(
        network_mode="host",
        user=f"{uid}:{gid}",
        read_only=True,
        tmpfs={"/tmp": ""},
        mounts=mounts,
        labels={RUN_LABEL: (run_environment or {}).get(RUN_ID_ENV, "")},
        environment={
            STORE_ENV: store_uri,
            **{name: os.environ[name] for name in STORE_ENV_NAMES if name in os.environ},
            **{k: v for k, v in (run_environment or {}).items() if k != "TMPDIR"},
        },
        # KFP hands the component's command to docker as CMD: reset the stage's ENTRYPOINT.
        entrypoint=[""],
    )


class _Uncoloured:
    """A text stream without ANSI colour codes (KFP's local logs colour every line)."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_ANSI_COLOUR.sub("", text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _run_in_child(
    pipeline: Callable[..., Any],
    arguments: Mapping[str, Any],
    runner: local.SubprocessRunner | local.DockerRunner,
    pipeline_root: str,
    environment: Mapping[str, str],
) -> None:
    """The child process: lead a process group of its own, run the pipeline, exit 0 or 1.

    A watchdog thread ends the whole group (and the run's containers) as soon as the parent
    is gone, so that a command killed with SIGKILL leaves no task writing after it.
    """
    os.setpgid(0, 0)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    parent = os.getppid()
    docker_runner = isinstance(runner, local.DockerRunner)
    threading.Thread(
        target=_die_with_parent, args=(parent, docker_runner, environment[RUN_ID_ENV]), daemon=True
    ).start()
    # The tasks start from this environment: STORE tells them where the store is, as the
    # ConfigMap does on a cluster (never a pipeline parameter); TMPDIR is a folder of ours,
    # removed after the run, because KFP's lightweight-component command writes each task's
    # source into $(mktemp -d) and never removes it.
    os.environ.update(environment)
    if not sys.stdout.isatty():
        sys.stdout = _Uncoloured(sys.stdout)  # type: ignore[assignment]
    # KFP makes a workspace folder in $TMPDIR on every init and never removes it: ours goes
    # into the run's own temporary folder.
    workspace = os.path.join(pipeline_root, "workspace")
    os.makedirs(workspace, exist_ok=True)
    local.init(
        runner=runner, pipeline_root=pipeline_root, workspace_root=workspace, raise_on_error=True
    )
    code = 0
    with warnings.catch_warnings():
        # Our stage images are not named "python"; locally they run in this environment.
        warnings.filterwarnings("ignore", message="You may be attemping to run a task")
        try:
            pipeline(**arguments)
        except RuntimeError:
            code = 1
    sys.stdout.flush()
    os._exit(code)


def _die_with_parent(parent: int, docker_runner: bool, run_id: str) -> None:
    """In the child: wait for the parent to go, then kill the run's containers and group."""
    while os.getppid() == parent:
        time.sleep(_WATCHDOG_SECONDS)
    if docker_runner:
        _kill_containers(run_id)
    os.killpg(0, signal.SIGKILL)


def _kill_containers(run_id: str) -> None:
    import docker

    client = docker.from_env()
    try:
        for container in client.containers.list(filters={"label": f"{RUN_LABEL}={run_id}"}):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                container.kill()
    finally:
        client.close()


def _stop(child: multiprocessing.Process, runner: str, run_id: str) -> None:
    """Kill every process of the run (the child's process group) and its containers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.join()
    if runner == DOCKER:
        _kill_containers(run_id)


def run_pipeline(
    pipeline: Callable[..., Any],
    arguments: Mapping[str, Any],
    store_uri: str,
    runner: str | None = None,
    files: Sequence[str] = (),
) -> LocalRun:
    """Run ``pipeline`` on the local runner ``runner`` (see :func:`resolve_runner`), as one
    transaction.

    KFP's own outputs go to a temporary folder removed afterwards: the lasting
    artefacts are in the store.

    Args:
        pipeline: a ``@dsl.pipeline`` function whose exit handler commits its run.
        arguments: its parameters.
        store_uri: the store the tasks use (given to them as ``$STORE``).
        runner: ``subprocess`` or ``docker``.
        files: absolute paths of the input files that the tasks read (mounted for ``docker``).

    Returns:
        The run's id and its commit.

    Raises:
        PipelineFailedError: a task failed (its own message and exit code when it gave one);
            the run was rolled back.
        Interrupted: SIGINT or SIGTERM; every task was stopped and the run rolled back.
    """
    chosen = resolve_runner(runner)
    store = open_store(store_uri)
    for dead in recover_dead_local_runs(store):
        print(f"rolled back run {dead}: its command ended without committing it", flush=True)
    run = RunContext(new_run_id(), "runner", pipeline.name)
    owner = RunOwner.of_this_process()
    with (
        tempfile.TemporaryDirectory(prefix="lifecycle-kfp-") as pipeline_root,
        tempfile.TemporaryDirectory(prefix="lifecycle-tasks-") as task_temp,
    ):
        errors = Path(pipeline_root, "task-errors")
        errors.mkdir()
        environment = {
            STORE_ENV: store_uri,
            "TMPDIR": task_temp,
            RUN_ID_ENV: run.run_id,
            OWNER_ENV: owner.to_env(),
            ERRORS_ENV: str(errors),
        }
        # Registered first: the Docker runner then hands what this process wrote (root's,
        # when run as root) to the images' user with the rest of the store.
        register_run(store, run, owner)
        local_runner = make_runner(chosen, store_uri, pipeline_root, files, environment)
        sys.stdout.flush()
        child = multiprocessing.get_context("fork").Process(
            target=_run_in_child,
            args=(pipeline, arguments, local_runner, pipeline_root, environment),
        )
        try:
            with interrupted_by_signals():
                child.start()
                # Also here, so that a signal right after the fork finds the group: the child
                # may have done it already (and exec'd a task: PermissionError) or have ended.
                with contextlib.suppress(PermissionError, ProcessLookupError):
                    os.setpgid(child.pid, child.pid)
                child.join()
        except Interrupted:
            _stop(child, chosen, run.run_id)
            rollback(store, run.run_id)
            raise
        error = first_task_error(errors)
    committed = CommitLog(store).find(run.run_id)
    if committed is None:
        rollback(store, run.run_id)  # a skipped batch, or a run whose exit handler failed
    if child.exitcode != 0 and committed is None:
        if error is not None:
            raise PipelineFailedError(error.message, error.exit_code)
        raise PipelineFailedError(f"{pipeline.name} failed: see the task log above")
    return LocalRun(run.run_id, committed)


def _sources(*sources: str) -> tuple[list[str], list[str]]:
    """The sources as given, files made absolute (a container sees them at that path)."""
    resolved = [os.path.abspath(source) if Path(source).is_file() else source for source in sources]
    return resolved, [source for source in resolved if Path(source).is_file()]


def run_training(
    training_source: str,
    test_source: str,
    store_uri: str,
    config: LifecycleConfig,
    runner: str | None = None,
) -> LocalRun:
    """Run the training pipeline on a training and a test file (or store keys)."""
    from pipelines.cluster import LOCAL
    from pipelines.training import build_training_pipeline

    (training_source, test_source), files = _sources(training_source, test_source)
    return run_pipeline(
        build_training_pipeline(LOCAL),
        {
            "training_source": training_source,
            "test_source": test_source,
            "config_json": config.to_json(),
        },
        store_uri,
        runner,
        files,
    )


def run_monitoring(
    batch_source: str,
    batch_id: str,
    store_uri: str,
    config: LifecycleConfig,
    runner: str | None = None,
    force: bool = False,
) -> LocalRun:
    """Run the monitoring pipeline on one labelled batch (a file or a store key)."""
    from pipelines.cluster import LOCAL
    from pipelines.monitoring import build_monitoring_pipeline

    (batch_source,), files = _sources(batch_source)
    return run_pipeline(
        build_monitoring_pipeline(LOCAL),
        {
            "batch_source": batch_source,
            "batch_id": batch_id,
            "config_json": config.to_json(),
            "force": force,
        },
        store_uri,
        runner,
        files,
    )
