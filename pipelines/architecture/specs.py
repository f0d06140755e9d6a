"""Reading the compiled specs: ``components/*/component.yaml`` and ``pipelines/*_pipeline.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
# The lifecycle's pipelines, in the order their stages run (batch scoring, a use of the
# production model outside the lifecycle, is documented in components/predict/README.md).
PIPELINE_FILES: tuple[str, ...] = (
    "pipelines/training_pipeline.yaml",
    "pipelines/monitoring_pipeline.yaml",
)


@dataclass(frozen=True)
class ComponentSpec:
    """What a compiled ``component.yaml`` says about a stage."""

    name: str
    stage: str
    description: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    image: str
    source: str

    @property
    def artifact_inputs(self) -> list[str]:
        return [name for name, kind in self.inputs.items() if kind.startswith("system.")]


def header_description(text: str) -> str:
    """The ``# Description:`` header KFP writes from the docstring (continued lines joined)."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:]
        if body.startswith(" Description:"):
            lines.append(body.split(":", 1)[1].strip())
        elif lines and not body.strip():  # a blank line between paragraphs
            continue
        elif lines and body.startswith("    ") and ":" not in body.split()[0]:
            lines.append(body.strip())
        elif lines:
            break
    return " ".join(lines)


def definitions(spec: dict[str, Any]) -> dict[str, str]:
    """``name → type`` of an ``inputDefinitions``/``outputDefinitions`` block."""
    types: dict[str, str] = {}
    for name, value in sorted((spec.get("artifacts") or {}).items()):
        types[name] = value["artifactType"]["schemaTitle"]
    for name, value in sorted((spec.get("parameters") or {}).items()):
        types[name] = value["parameterType"]
    return types


def load_component_spec(path: Path, root: Path = ROOT) -> ComponentSpec:
    """Read one compiled component spec."""
    text = path.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    (component,) = spec["components"].values()
    (executor,) = spec["deploymentSpec"]["executors"].values()
    return ComponentSpec(
        name=spec["pipelineInfo"]["name"].replace("-", "_"),
        stage=path.parent.name,
        description=header_description(text),
        inputs=definitions(component.get("inputDefinitions") or {}),
        outputs=definitions(component.get("outputDefinitions") or {}),
        image=executor["container"]["image"],
        source=(path.parent / "component.py").relative_to(root).as_posix(),
    )


def load_component_specs(root: Path = ROOT) -> dict[str, ComponentSpec]:
    """Every ``components/<stage>/component.yaml``, by component name."""
    paths = sorted((root / "components").glob("*/component.yaml"))
    specs = [load_component_spec(path, root) for path in paths]
    return {spec.name: spec for spec in specs}


def load_pipeline_spec(path: Path) -> dict[str, Any]:
    """The pipeline spec of a compiled pipeline (its first YAML document; a platform spec
    may follow)."""
    return next(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def component_name(component_ref: str) -> str:
    """``comp-detect-drift-2`` → ``detect_drift``: the component a task's ``componentRef`` names."""
    return component_ref.removeprefix("comp-").rstrip("0123456789").rstrip("-").replace("-", "_")
