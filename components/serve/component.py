"""KFP adapter of the serve stage: the InferenceService serving the production model exists."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("serve"), install_kfp_package=False)
def serve(config_json: str, report: Output[Markdown]) -> str:
    """Make sure the KServe InferenceService that serves the model's production version exists
    (created, or its spec restored); the server follows the production alias itself. A no-op
    that says why on the local runner or on a cluster without KServe. A refusal of the
    Kubernetes API is reported (``failed``, and in ``report``), never raised: the training run
    it belongs to must not be rolled back because serving could not be deployed."""
    from pathlib import Path

    from components.serve.inference_service import ServingDeployError, ensure_inference_service
    from lifecycle.config import config_from_json

    name = config_from_json(config_json).model.name
    try:
        ensured = ensure_inference_service(name)
        outcome, detail = ensured.outcome, ensured.detail
    except ServingDeployError as exc:
        outcome, detail = "failed", str(exc)
    print(f"serve: {outcome}: {detail}")
    Path(report.path).parent.mkdir(parents=True, exist_ok=True)
    Path(report.path).write_text(f"# Serving {name}\n\n**{outcome}**: {detail}\n", encoding="utf-8")
    return outcome
