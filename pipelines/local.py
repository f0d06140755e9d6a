"""Running the pipelines on one machine with KFP's local runner (the embedded default)."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from typing import Any

from kfp import local

from lifecycle.config import LifecycleConfig
from lifecycle.errors import LifecycleError


class PipelineFailedError(LifecycleError):
    """A task of a local pipeline run failed (its log above says why)."""


def run_pipeline(pipeline: Callable[..., Any], **arguments: Any) -> None:
    """Run ``pipeline`` with the subprocess runner in the current environment.

    KFP's own outputs go to a temporary folder removed afterwards: the lasting
    artefacts are in the store.

    Raises:
        PipelineFailedError: a task failed.
    """
    with tempfile.TemporaryDirectory(prefix="lifecycle-kfp-") as pipeline_root:
        local.init(
            runner=local.SubprocessRunner(use_venv=False),
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


def run_training(
    training_source: str, test_source: str, store_uri: str, config: LifecycleConfig
) -> None:
    """Run the training pipeline on a training and a test file (or store keys)."""
    from pipelines.training import training_pipeline

    run_pipeline(
        training_pipeline,
        training_source=training_source,
        test_source=test_source,
        store_uri=store_uri,
        config_json=config.to_json(),
    )


def run_monitoring(batch_source: str, batch_id: str, store_uri: str, config: LifecycleConfig) -> None:
    """Run the monitoring pipeline on one labelled batch."""
    from pipelines.monitoring import monitoring_pipeline

    run_pipeline(
        monitoring_pipeline,
        batch_source=batch_source,
        batch_id=batch_id,
        store_uri=store_uri,
        config_json=config.to_json(),
    )
