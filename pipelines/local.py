"""Running the pipelines on one machine with KFP's local runner (the embedded default).

Two runners, chosen in one place (:func:`make_runner`): ``subprocess`` runs each task in this
Python environment; ``docker`` runs each task in its stage image (``make images``) with
``kfp.local.DockerRunner``, as a cluster would, with host networking, a read-only root
filesystem, a writable ``/tmp`` and a non-root user, and never pulls an image.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from kfp import local

from lifecycle.config import LifecycleConfig
from lifecycle.errors import InvalidInputError, LifecycleError
from lifecycle.store import STORE_ENV

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


class PipelineFailedError(LifecycleError):
    """A task of a local pipeline run failed (its log above says why)."""


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
    runner: str, store_uri: str, pipeline_root: str, files: Sequence[str] = ()
) -> local.SubprocessRunner | local.DockerRunner:
    """The KFP local runner called ``runner``.

    For ``docker``: the local store's folder and each input file in ``files`` are mounted at
    their own absolute paths (the files read-only; KFP mounts ``pipeline_root`` itself), the
    store's environment variables are passed on, and the containers run as the caller, or as
    the images' user 10001 when the caller is root (the store and ``pipeline_root`` are then
    handed to that user).

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
        environment={
            STORE_ENV: store_uri,
            **{name: os.environ[name] for name in STORE_ENV_NAMES if name in os.environ},
        },
        # KFP hands the component's command to docker as CMD: reset the stage's ENTRYPOINT.
        entrypoint=[""],
    )


@contextlib.contextmanager
def _task_environment(**variables: str) -> Iterator[None]:
    """Set environment variables for the task processes of one run, then restore them.

    The local runner starts each task from this process's environment. ``STORE`` tells the
    stages where the store is, as the ConfigMap does on a cluster: never a pipeline
    parameter. ``TMPDIR`` points at a folder of ours, removed after the run, because KFP's
    lightweight-component command writes each task's source into ``$(mktemp -d)`` and never
    removes it.
    """
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def run_pipeline(
    pipeline: Callable[..., Any],
    arguments: Mapping[str, Any],
    store_uri: str,
    runner: str | None = None,
    files: Sequence[str] = (),
) -> None:
    """Run ``pipeline`` on the local runner ``runner`` (see :func:`resolve_runner`).

    KFP's own outputs go to a temporary folder removed afterwards: the lasting
    artefacts are in the store.

    Args:
        pipeline: a ``@dsl.pipeline`` function.
        arguments: its parameters.
        store_uri: the store the tasks use (given to them as ``$STORE``).
        runner: ``subprocess`` or ``docker``.
        files: absolute paths of the input files that the tasks read (mounted for ``docker``).

    Raises:
        PipelineFailedError: a task failed.
    """
    chosen = resolve_runner(runner)
    with (
        tempfile.TemporaryDirectory(prefix="lifecycle-kfp-") as pipeline_root,
        tempfile.TemporaryDirectory(prefix="lifecycle-tasks-") as task_temp,
        _task_environment(STORE=store_uri, TMPDIR=task_temp),
    ):
        local.init(
            runner=make_runner(chosen, store_uri, pipeline_root, files),
            pipeline_root=pipeline_root,
            raise_on_error=True,
        )
        with warnings.catch_warnings():
            # Our stage images are not named "python"; locally they run in this environment.
            warnings.filterwarnings("ignore", message="You may be attemping to run a task")
            try:
                pipeline(**arguments)
            except RuntimeError as exc:
                raise PipelineFailedError(f"{pipeline.name} failed: {exc}") from None


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
) -> None:
    """Run the training pipeline on a training and a test file (or store keys)."""
    from pipelines.training import training_pipeline

    (training_source, test_source), files = _sources(training_source, test_source)
    run_pipeline(
        training_pipeline,
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
) -> None:
    """Run the monitoring pipeline on one labelled batch (a file or a store key)."""
    from pipelines.monitoring import monitoring_pipeline

    (batch_source,), files = _sources(batch_source)
    run_pipeline(
        monitoring_pipeline,
        {
            "batch_source": batch_source,
            "batch_id": batch_id,
            "config_json": config.to_json(),
        },
        store_uri,
        runner,
        files,
    )
