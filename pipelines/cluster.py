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
* **Retries only where a re-run is harmless and can help** (:data:`RETRY_STAGES`). ``ingest``
  and ``select_data`` write content-addressed datasets, so a second attempt writes the same
  keys. ``validate`` is not retried: it fails on bad data, which a retry cannot mend, and the
  run should say so at once. The store client already retries transient errors for ~10 s
  in-process; the task retry covers longer outages (the MinIO pod restarting, a node going
  away). ``evaluate``, ``detect_drift`` and ``promote`` append history records and ``train``
  claims the next model version: a re-run after a late failure would add a second record
  (which later drift tests would count) or skip a version number, so they are not retried; a
  failed run says why.
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

# I/O stages whose re-run is idempotent (content-addressed writes).
RETRY_STAGES: frozenset[str] = frozenset({"ingest", "select_data"})


@dataclass(frozen=True)
class RetrySettings:
    """A task retry policy: ``num_retries`` more attempts, ``backoff_duration`` times
    ``backoff_factor**n`` apart, at most ``backoff_max_duration`` each."""

    num_retries: int = 2
    backoff_duration: str = "15s"
    backoff_factor: float = 3.0
    backoff_max_duration: str = "120s"


# The retry of RETRY_STAGES: 3 attempts in all, 15 s then 45 s apart, on top of the store's
# own ~10 s of in-process retries; long enough for the MinIO pod to restart.
RETRY = RetrySettings()


def configure_task(task: dsl.PipelineTask, stage: str) -> dsl.PipelineTask:
    """Give a pipeline task the cluster settings of its stage (see the module docstring).

    Args:
        task: the task returned by calling a stage component inside a pipeline.
        stage: the stage's name in :data:`lifecycle.images.STAGES`, e.g. ``"detect_drift"``.

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
    if stage in RETRY_STAGES:
        task.set_retry(
            num_retries=RETRY.num_retries,
            backoff_duration=RETRY.backoff_duration,
            backoff_factor=RETRY.backoff_factor,
            backoff_max_duration=RETRY.backoff_max_duration,
        )
    return task
