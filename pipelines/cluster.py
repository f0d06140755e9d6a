"""How every pipeline task runs on the cluster: one helper, :func:`configure_task`.

What it sets, and why:

* **Store and credentials from Kubernetes, never from parameters.** ``STORE`` comes from the
  ConfigMap ``lifecycle-store`` and ``MINIO_ACCESS_KEY``/``MINIO_SECRET_KEY`` from the Secret
  ``mlpipeline-minio-artifact`` (keys ``accesskey``/``secretkey``), both deployed by
  ``manifests/base`` and ``manifests/overlays/minio``; :func:`lifecycle.store.open_store`
  reads ``$STORE``. The pipelines have no store parameter. The compiled YAML names the Secret
  and its keys, never a value.
* **Caching off for every stage**: ``set_caching_options(False)`` on every task, with no
  list of exceptions, because no stage qualifies. KFP's cache key is the component, its
  parameters and its input artifacts; every stage also reads or writes store state outside
  that key. ``ingest``, ``validate``: a store key such as ``incoming/latest.csv`` names
  different data from one day to the next. ``evaluate``, ``detect_drift``, ``select_data``:
  read the evaluation history and the registry, which grow with every run. ``train``,
  ``promote``: their effect *is* the store write (a registered version, the ``production``
  alias); a cache hit would return a version that was never registered in this store (e.g.
  after a reset). Each stage takes seconds, so caching would save little and could silently
  skip work.
* **Every stage may be retried** (:data:`TASK_RETRY`): each task's writes are keyed by its run
  and task name and its last write is its result (:mod:`lifecycle.runs`), so a second attempt
  of a task that finished writes nothing and returns its outputs, and a second attempt of one
  that died half-way overwrites its own objects. That also makes harmless the retries KFP's
  Argo configuration adds on its own (``retryStrategy: {limit: 2, retryPolicy: OnError}`` for
  every template in the workflow-controller ConfigMap). A run counts only once its exit handler
  commits it (:mod:`components.finalize.logic`). The store client retries transient errors for
  ~10 s in-process; the task retry covers longer outages (the MinIO pod restarting, a node
  going away). The local runner runs the pipelines without task retries
  (:mod:`pipelines.local`): there a failure is bad input or a bug, which a retry cannot mend.
* **Image pull policy ``IfNotPresent``**: stage images are loaded with ``kind load``, not pulled
  from a registry. Images themselves are set by the components from
  :func:`lifecycle.images.image_tag`; this helper checks the task carries that tag.

The local runner ignores the Kubernetes platform config (it reads only the pipeline spec), so
the same pipeline functions run locally with ``STORE`` and the credentials set in the
environment by :mod:`pipelines.local`; it honours caching options and retry policies as compiled.
"""

from __future__ import annotations

from dataclasses import dataclass

from kfp import dsl, kubernetes

from lifecycle.images import STAGES, image_tag

MINIO_SECRET_NAME = "mlpipeline-minio-artifact"
MINIO_SECRET_ENV = {"accesskey": "MINIO_ACCESS_KEY", "secretkey": "MINIO_SECRET_KEY"}
STORE_CONFIG_MAP = "lifecycle-store"
STORE_CONFIG_MAP_ENV = {"STORE": "STORE"}
IMAGE_PULL_POLICY = "IfNotPresent"


@dataclass(frozen=True)
class RetrySettings:
    """A task retry policy: ``num_retries`` more attempts, ``backoff_duration`` times
    ``backoff_factor**n`` apart, at most ``backoff_max_duration`` each."""

    num_retries: int = 2
    backoff_duration: str = "15s"
    backoff_factor: float = 3.0
    backoff_max_duration: str = "120s"


# Every task's retry on a cluster: 3 attempts in all, 15 s then 45 s apart, on top of the
# store's own ~10 s of in-process retries; long enough for the MinIO pod to restart.
TASK_RETRY = RetrySettings()


@dataclass(frozen=True)
class Backend:
    """What differs between the pipelines as a cluster runs them and as the local runner does.

    Attributes:
        retry: every task's retry policy (None: no task retries).
        schedule_time: what names the batch of a monitoring run given no batch id: KFP's
            schedule-time placeholder on a cluster; the local runner has no schedules (and
            cannot resolve that placeholder), so it gives none.
    """

    retry: RetrySettings | None
    schedule_time: str


CLUSTER = Backend(TASK_RETRY, dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER)
# Locally a failure is bad input or a bug, which a retry cannot mend; the store client still
# retries transient store errors in-process.
LOCAL = Backend(None, "")


def configure_task(
    task: dsl.PipelineTask, stage: str, retry: RetrySettings | None = TASK_RETRY
) -> dsl.PipelineTask:
    """Give a pipeline task the cluster settings of its stage (see the module docstring).

    Args:
        task: the task returned by calling a stage component inside a pipeline.
        stage: the stage's name in :data:`lifecycle.images.STAGES`, e.g. ``"detect_drift"``.
        retry: the task's retry policy; None for none.

    Returns:
        The same task, for chaining.

    Raises:
        ValueError: unknown stage, or the task's image is not the stage's tag.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    image = task.component_spec.implementation.container.image
    if image != image_tag(stage):
        raise ValueError(f"task {task.name!r} runs {image!r}, not the image of stage {stage!r}")
    kubernetes.use_config_map_as_env(
        task, config_map_name=STORE_CONFIG_MAP, config_map_key_to_env=STORE_CONFIG_MAP_ENV
    )
    kubernetes.use_secret_as_env(
        task, secret_name=MINIO_SECRET_NAME, secret_key_to_env=MINIO_SECRET_ENV
    )
    kubernetes.set_image_pull_policy(task, IMAGE_PULL_POLICY)
    # Every stage reads or writes store state outside KFP's cache key (module docstring).
    task.set_caching_options(False)
    if retry is not None and retry.num_retries > 0:
        task.set_retry(
            num_retries=retry.num_retries,
            backoff_duration=retry.backoff_duration,
            backoff_factor=retry.backoff_factor,
            backoff_max_duration=retry.backoff_max_duration,
        )
    return task
