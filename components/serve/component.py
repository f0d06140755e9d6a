"""KFP adapter of the serve stage: the InferenceService serving the production model exists."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("serve"), install_kfp_package=False)
def serve(report: Output[Markdown], config_json: str = "", model_name: str = "") -> str:
    """Make sure the KServe InferenceService that serves the production version exists.

    Created, or its spec restored; the server follows the production alias itself (hot
    reload), so this step is idempotent and runs whatever promote decided. A no-op that says
    why on the local runner or on a cluster without KServe. A refusal of the Kubernetes API is
    reported (failed, and in report), never raised: the training run it belongs to must not be
    rolled back because serving could not be deployed.

    Args:
        config_json: The whole lifecycle config as JSON (lifecycle.config.LifecycleConfig;
            empty for the course's defaults): the model's name.
        model_name: The model to serve; overrides model.name of config_json when not empty.

    Returns:
        Output: What happened: created, updated, unchanged, skipped or failed.
        report: The same, with the reason.
    """
    from pathlib import Path

    from components.serve.inference_service import ServingDeployError, ensure_inference_service
    from lifecycle.config import config_with_parameters

    name = config_with_parameters(config_json, model_name=model_name).model.name
    try:
        ensured = ensure_inference_service(name)
        outcome, detail = ensured.outcome, ensured.detail
    except ServingDeployError as exc:
        outcome, detail = "failed", str(exc)
    print(f"serve: {outcome}: {detail}")
    Path(report.path).parent.mkdir(parents=True, exist_ok=True)
    Path(report.path).write_text(f"# Serving {name}\n\n**{outcome}**: {detail}\n", encoding="utf-8")
    return outcome
