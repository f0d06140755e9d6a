"""``python -m pipelines.compile``: write every stage's component.yaml and the pipelines' YAML.

The YAML files are committed beside their sources; a test recompiles and fails
when any of them is stale.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from kfp import compiler

from lifecycle.images import STAGES

ROOT = Path(__file__).resolve().parent.parent


def component_targets() -> dict[Path, object]:
    """Each stage's component object and where its spec is written."""
    targets = {}
    for stage in STAGES:
        module = importlib.import_module(f"components.{stage}.component")
        targets[ROOT / "components" / stage / "component.yaml"] = getattr(module, stage)
    return targets


def pipeline_targets() -> dict[Path, object]:
    from pipelines.batch_scoring import batch_scoring_pipeline
    from pipelines.monitoring import monitoring_pipeline
    from pipelines.training import training_pipeline

    return {
        ROOT / "pipelines" / "training_pipeline.yaml": training_pipeline,
        ROOT / "pipelines" / "monitoring_pipeline.yaml": monitoring_pipeline,
        ROOT / "pipelines" / "batch_scoring_pipeline.yaml": batch_scoring_pipeline,
    }


SERVING_MANIFEST = ROOT / "manifests" / "overlays" / "serving" / "inferenceservice.yaml"


def compile_all(output_root: Path = ROOT) -> list[Path]:
    """Compile everything, writing under ``output_root`` (the repository by default); also the
    InferenceService manifest, generated from the serve stage's own object."""
    from components.serve.inference_service import manifest_text

    written = []
    for path, target in {**component_targets(), **pipeline_targets()}.items():
        destination = output_root / path.relative_to(ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        compiler.Compiler().compile(target, str(destination))
        written.append(destination)
    manifest = output_root / SERVING_MANIFEST.relative_to(ROOT)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(manifest_text())
    written.append(manifest)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-root", type=Path, default=ROOT)
    for path in compile_all(parser.parse_args().output_root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
