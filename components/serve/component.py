"""KFP adapter of the serve stage: the InferenceService serving the production model exists."""

from kfp import dsl

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("serve"), install_kfp_package=False)
def serve(config_json: str) -> str:
    """Make sure the KServe InferenceService that serves the model's production version exists
    (created, or its spec restored); the server follows the production alias itself. A no-op
    that says why on the local runner or on a cluster without KServe."""
    from components.serve.inference_service import ensure_inference_service
    from lifecycle.config import config_from_json

    ensured = ensure_inference_service(config_from_json(config_json).model.name)
    print(f"serve: {ensured.outcome}: {ensured.detail}")
    return ensured.outcome
