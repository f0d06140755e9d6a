"""The architecture diagram and the docs' tables, generated from the compiled pipelines.

Reads ``pipelines/*_pipeline.yaml`` and ``components/*/component.yaml`` (the compiled specs,
not a hand-written list), finds which store artefacts each stage reads and writes by reading
its logic modules (``lifecycle/keys.py`` names them), lays the graph out with Graphviz ``dot``
and writes:

- ``docs/architecture.drawio``: a diagrams.net file with one oval per component, one
  rectangle per artefact, an arrow per input and output, a vertical container per lifecycle
  stage and a dashed one for the conditional retraining branch; each block carries its
  properties (description, inputs, outputs, image, source) and a link to its source file;
- ``docs/architecture.svg``: the same graph rendered by Graphviz, for the README;
- the component and artefact tables between the markers of ``docs/README.md``.

``python -m pipelines.architecture`` (``make diagram``) regenerates them; ``--check`` exits 1
when a committed file differs from what the specs give. Needs the ``dot`` program (Debian's
``graphviz`` package) and the ``graphviz`` binding (dev extra).
"""

from __future__ import annotations

import argparse
import ast
import filecmp
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from lifecycle import keys

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DRAWIO_FILE = "architecture.drawio"
SVG_FILE = "architecture.svg"
README_FILE = "README.md"
TABLES_BEGIN = "<!-- BEGIN GENERATED: architecture tables (make docs) -->"
TABLES_END = "<!-- END GENERATED: architecture tables -->"
REPO_URL_ENV = "REPO_URL"
REPO_REF_ENV = "REPO_REF"
DEFAULT_REF = "main"
# The pipelines, in the order their stages run.
PIPELINE_FILES: tuple[str, ...] = (
    "pipelines/training_pipeline.yaml",
    "pipelines/monitoring_pipeline.yaml",
)
TRAINING_PIPELINE = "lifecycle-training"
# Stages whose tasks are the same blocks in every pipeline.
DATA_COMPONENTS = frozenset({"validate", "ingest"})
# A pipeline input wired to this component input is a data source (a CSV or Parquet file).
SOURCE_INPUT = "source"

LaneId = Literal["data", "modelling", "monitoring", "retraining", "store"]
LANES: dict[str, str] = {
    "data": "data: validate and version the inputs",
    "modelling": "modelling: the first model",
    "monitoring": "monitoring: every new batch",
    "retraining": "retraining: only on drift",
    "store": "store: MinIO bucket or local folder",
}

Kind = Literal["component", "artefact", "container"]


@dataclass
class Block:
    """One shape of the diagram with its diagrams.net properties."""

    id: str
    label: str
    kind: Kind
    lane: str
    description: str
    source: str
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    image: str = ""
    type: str = ""
    container: str | None = None  # the conditional branch it sits in, if any
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    store: bool = False


@dataclass
class Architecture:
    """Blocks, arrows and the conditional branches of the pipelines."""

    blocks: dict[str, Block] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    conditions: dict[str, Block] = field(default_factory=dict)

    def add_edge(self, edge: Edge) -> None:
        if edge not in self.edges:
            self.edges.append(edge)

    def components(self) -> list[Block]:
        return [block for block in self.blocks.values() if block.kind == "component"]

    def artefacts(self) -> list[Block]:
        return [block for block in self.blocks.values() if block.kind == "artefact"]


# ---------------------------------------------------------------------------------------------
# Component specs


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


def _header_description(text: str) -> str:
    """The ``# Description:`` header KFP writes from the docstring (continued lines joined)."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:]
        if body.startswith(" Description:"):
            lines.append(body.split(":", 1)[1].strip())
        elif lines and body.startswith("    ") and ":" not in body.split()[0]:
            lines.append(body.strip())
        elif lines:
            break
    return " ".join(lines)


def _definitions(spec: dict[str, Any]) -> dict[str, str]:
    types: dict[str, str] = {}
    for name, value in sorted((spec.get("artifacts") or {}).items()):
        types[name] = value["artifactType"]["schemaTitle"]
    for name, value in sorted((spec.get("parameters") or {}).items()):
        types[name] = value["parameterType"]
    return types


def load_component_spec(path: Path) -> ComponentSpec:
    """Read one compiled component spec."""
    text = path.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    (component,) = spec["components"].values()
    (executor,) = spec["deploymentSpec"]["executors"].values()
    stage = path.parent.name
    return ComponentSpec(
        name=spec["pipelineInfo"]["name"].replace("-", "_"),
        stage=stage,
        description=_header_description(text),
        inputs=_definitions(component.get("inputDefinitions") or {}),
        outputs=_definitions(component.get("outputDefinitions") or {}),
        image=executor["container"]["image"],
        source=(path.parent / "component.py").relative_to(ROOT).as_posix(),
    )


def load_component_specs(root: Path = ROOT) -> dict[str, ComponentSpec]:
    """Every ``components/<stage>/component.yaml``, by component name."""
    specs = [
        load_component_spec(path) for path in sorted((root / "components").glob("*/component.yaml"))
    ]
    return {spec.name: spec for spec in specs}


def _typed(types: dict[str, str]) -> list[str]:
    return [f"{name}: {kind}" for name, kind in types.items()]


# ---------------------------------------------------------------------------------------------
# Store artefacts and who reads or writes them


@dataclass(frozen=True)
class StoreArtefact:
    id: str
    label: str
    key: str
    description: str
    source: str


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def store_artefacts() -> list[StoreArtefact]:
    """The store layout of ``lifecycle/keys.py``, described by the docstrings of its accessors."""
    from lifecycle import datasets, history, registry

    return [
        StoreArtefact(
            "store.datasets",
            "datasets",
            f"{keys.DATASETS}/<name>/<sha256>/",
            _first_paragraph(datasets.write_dataset.__doc__),
            "lifecycle/datasets.py",
        ),
        StoreArtefact(
            "store.registry",
            "model registry",
            f"{keys.MODELS}/<model>/",
            _first_paragraph(registry.ModelRegistry.__doc__)
            + f" Versions, artefacts and the '{keys.PRODUCTION_ALIAS}' alias.",
            "lifecycle/registry.py",
        ),
        StoreArtefact(
            "store.evaluation",
            "evaluation history",
            keys.EVALUATION_VIEW,
            _first_paragraph(history.evaluation_log.__doc__),
            "lifecycle/history.py",
        ),
        StoreArtefact(
            "store.drift",
            "drift log",
            keys.DRIFT_VIEW,
            _first_paragraph(history.drift_log.__doc__),
            "lifecycle/history.py",
        ),
        StoreArtefact(
            "store.decisions",
            "decision log",
            keys.DECISION_VIEW,
            _first_paragraph(history.decision_log.__doc__),
            "lifecycle/history.py",
        ),
        StoreArtefact(
            "store.experiences",
            "experiences",
            f"{keys.EXPERIENCES}/<version>/<batch>/",
            "Every scored row with its prediction (Parquet), by model version and batch.",
            "lifecycle/keys.py",
        ),
    ]


# Calls that touch an artefact of the store, as the logic modules make them.
_DATASET_CALLS = {"read_dataset": "read", "dataset_ref": "read", "write_dataset": "write"}
_LOG_CALLS = {
    "evaluation_log": "store.evaluation",
    "drift_log": "store.drift",
    "decision_log": "store.decisions",
}
_LOG_WRITES = {"append"}
_REGISTRY_WRITES = {"register", "set_alias"}
_EXPERIENCE_NAMES = {"experience_prefix"}

Access = tuple[str, Literal["read", "write"]]


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def store_access(stage_dir: Path) -> set[Access]:
    """Which store artefacts a stage's logic reads and writes, found in its source.

    Scans every module of ``components/<stage>/`` but the KFP adapter and the tests.
    """
    found: set[Access] = set()
    for path in sorted(stage_dir.glob("*.py")):
        if path.name in {"component.py", "tests.py", "__init__.py"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        registries = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and _call_name(node.value.func) == "ModelRegistry"
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute) and _call_name(node) in _EXPERIENCE_NAMES:
                found.add(("store.experiences", "write"))
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node.func)
            if name in _DATASET_CALLS:
                found.add(
                    ("store.datasets", "write" if _DATASET_CALLS[name] == "write" else "read")
                )
            if not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            owner_name = _call_name(owner.func) if isinstance(owner, ast.Call) else None
            if owner_name in _LOG_CALLS:
                found.add((_LOG_CALLS[owner_name], "write" if name in _LOG_WRITES else "read"))
            if owner_name == "ModelRegistry" or (
                isinstance(owner, ast.Name) and owner.id in registries
            ):
                found.add(("store.registry", "write" if name in _REGISTRY_WRITES else "read"))
    return found


# ---------------------------------------------------------------------------------------------
# The pipelines


def _condition_label(expression: str) -> str:
    """``inputs.parameter_values['pipelinechannel--detect-drift-Output'] == true`` → readable."""
    return re.sub(r"inputs\.parameter_values\['pipelinechannel--([^']+)'\]", r"\1", expression)


def _lane_of(pipeline: str, component: str, in_condition: bool) -> str:
    if component in DATA_COMPONENTS:
        return "data"
    if in_condition:
        return "retraining"
    return "modelling" if pipeline == TRAINING_PIPELINE else "monitoring"


def _block_id(pipeline: str, component: str, path: Sequence[str]) -> str:
    if component in DATA_COMPONENTS:
        return component
    return ".".join([pipeline.removeprefix("lifecycle-"), *path])


def build_architecture(root: Path = ROOT) -> Architecture:
    """The diagram's model from the compiled pipelines and component specs."""
    specs = load_component_specs(root)
    arch = Architecture()
    for pipeline_file in PIPELINE_FILES:
        # The first document is the pipeline spec (a platform spec may follow).
        _add_pipeline(
            arch,
            next(yaml.safe_load_all((root / pipeline_file).read_text(encoding="utf-8"))),
            specs,
            pipeline_file,
        )
    for artefact in store_artefacts():
        arch.blocks[artefact.id] = Block(
            id=artefact.id,
            label=artefact.label,
            kind="artefact",
            lane="store",
            description=artefact.description,
            source=artefact.source,
            type=f"store key {artefact.key}",
        )
    for block in arch.components():
        stage = specs[block.label].stage
        for artefact_id, direction in sorted(store_access(root / "components" / stage)):
            if direction == "write":
                arch.add_edge(Edge(block.id, artefact_id, store=True))
            else:
                arch.add_edge(Edge(artefact_id, block.id, store=True))
    _list_artefact_ends(arch)
    return arch


def _add_pipeline(
    arch: Architecture, spec: dict[str, Any], specs: dict[str, ComponentSpec], pipeline_file: str
) -> None:
    pipeline = spec["pipelineInfo"]["name"]
    components = spec["components"]
    root_inputs = spec["root"].get("inputDefinitions", {}).get("parameters", {})

    def walk(
        dag: dict[str, Any],
        path: list[str],
        scope: dict[str, tuple[str, str]],
        condition: str | None,
    ) -> None:
        # scope: a channel name of this DAG → (block id or "input.<param>", output key)
        tasks = dag["tasks"]
        task_block: dict[str, str] = {}
        for task_name, task in tasks.items():
            ref = task["componentRef"]["name"]
            if "dag" in components[ref]:
                continue
            component = ref.removeprefix("comp-").rstrip("0123456789").rstrip("-").replace("-", "_")
            block_id = _block_id(pipeline, component, [*path, task_name])
            task_block[task_name] = block_id
            if block_id not in arch.blocks:
                comp = specs[component]
                arch.blocks[block_id] = Block(
                    id=block_id,
                    label=component,
                    kind="component",
                    lane=_lane_of(pipeline, component, condition is not None),
                    description=comp.description,
                    source=comp.source,
                    inputs=_typed(comp.inputs),
                    outputs=_typed(comp.outputs),
                    image=comp.image,
                    container=condition,
                    extra={"tasks": ""},
                )
                for output, kind in comp.outputs.items():
                    if kind.startswith("system."):
                        artefact_id = f"{block_id}.{output}"
                        arch.blocks[artefact_id] = Block(
                            id=artefact_id,
                            label=output,
                            kind="artefact",
                            lane=arch.blocks[block_id].lane,
                            description=f"KFP {kind} artifact '{output}' written by {component}.",
                            source=comp.source,
                            type=kind,
                            container=condition,
                        )
                        arch.add_edge(Edge(block_id, artefact_id))
            where = " / ".join([pipeline, *path, task_name])
            tasks_prop = arch.blocks[block_id].extra["tasks"]
            arch.blocks[block_id].extra["tasks"] = f"{tasks_prop}; {where}" if tasks_prop else where

        def producer(reference: dict[str, Any], artifact: bool) -> tuple[str, str] | None:
            if "taskOutputArtifact" in reference or "taskOutputParameter" in reference:
                out = reference.get("taskOutputArtifact") or reference["taskOutputParameter"]
                key = out.get("outputArtifactKey") or out["outputParameterKey"]
                producer_task = out["producerTask"]
                if producer_task in task_block:
                    return task_block[producer_task], key
                return None
            channel = reference.get("componentInputArtifact") or reference.get(
                "componentInputParameter"
            )
            if channel is None:
                return None
            if channel in scope:
                return scope[channel]
            if not path and channel in root_inputs:
                return f"input.{channel}", ""
            return None

        for task_name, task in tasks.items():
            ref = task["componentRef"]["name"]
            inputs = task.get("inputs", {})
            if "dag" in components[ref]:
                inner_scope = {}
                for kind in ("artifacts", "parameters"):
                    for channel, reference in (inputs.get(kind) or {}).items():
                        found = producer(reference, kind == "artifacts")
                        if found:
                            inner_scope[channel] = found
                label = task.get("taskInfo", {}).get("name", task_name)
                expression = _condition_label(task.get("triggerPolicy", {}).get("condition", ""))
                condition_id = ".".join([pipeline.removeprefix("lifecycle-"), *path, label])
                arch.conditions[condition_id] = Block(
                    id=condition_id,
                    label=f"if {expression}  ({label})",
                    kind="container",
                    lane="retraining",
                    description=f"dsl.If branch '{label}' of {pipeline}: runs when {expression}.",
                    source=pipeline_file.replace("_pipeline.yaml", ".py"),
                )
                walk(components[ref]["dag"], [*path, label], inner_scope, condition_id)
                continue
            block_id = task_block[task_name]
            for kind in ("artifacts", "parameters"):
                for name, reference in sorted((inputs.get(kind) or {}).items()):
                    found = producer(reference, kind == "artifacts")
                    if found is None:
                        continue
                    source_block, key = found
                    if source_block.startswith("input."):
                        if name != SOURCE_INPUT:
                            continue
                        param = source_block.removeprefix("input.")
                        if source_block not in arch.blocks:
                            arch.blocks[source_block] = Block(
                                id=source_block,
                                label=param.replace("_", " "),
                                kind="artefact",
                                lane="data",
                                description=f"The CSV or Parquet file (path or store key) given as "
                                f"'{param}' to {pipeline}.",
                                source=pipeline_file.replace("_pipeline.yaml", ".py"),
                                type="CSV or Parquet file",
                                extra={"pipeline_input": param},
                            )
                        arch.add_edge(Edge(source_block, block_id))
                    elif f"{source_block}.{key}" in arch.blocks:
                        arch.add_edge(Edge(f"{source_block}.{key}", block_id))
                    elif source_block != block_id:
                        arch.add_edge(Edge(source_block, block_id, label=f"{key} → {name}"))

    walk(spec["root"]["dag"], [], {}, None)


def _list_artefact_ends(arch: Architecture) -> None:
    for block in arch.artefacts():
        block.inputs = sorted(
            {
                arch.blocks[e.source].label + f" ({e.source})"
                for e in arch.edges
                if e.target == block.id
            }
        )
        block.outputs = sorted(
            {
                arch.blocks[e.target].label + f" ({e.target})"
                for e in arch.edges
                if e.source == block.id
            }
        )


# ---------------------------------------------------------------------------------------------
# Links to the source


def repo_url_from_git(root: Path = ROOT) -> str | None:
    """``git remote get-url origin`` as an https URL, or None (no remote, or a local path)."""
    try:
        url = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.match(r"^(?:ssh://)?git@([^:/]+)[:/](.+?)(?:\.git)?/?$", url)
    if match:
        return f"https://{match[1]}/{match[2]}"
    match = re.match(r"^(?:https?|git)://(?:[^@/]+@)?(.+?)(?:\.git)?/?$", url)
    return f"https://{match[1]}" if match else None


@dataclass(frozen=True)
class LinkConfig:
    """Where block links point: ``<repo_url>/blob/<ref>/<path>``, or relative to docs/."""

    repo_url: str | None = None
    ref: str = DEFAULT_REF

    @classmethod
    def resolve(
        cls, repo_url: str | None = None, ref: str | None = None, root: Path = ROOT
    ) -> LinkConfig:
        """Argument, else ``$REPO_URL``, else the git remote; an empty argument: relative links."""
        url = repo_url if repo_url is not None else os.environ.get(REPO_URL_ENV) or None
        if url is None:
            url = repo_url_from_git(root)
        return cls(
            repo_url=url.rstrip("/") or None if url else None,
            ref=ref or os.environ.get(REPO_REF_ENV) or DEFAULT_REF,
        )

    def link(self, source: str) -> str:
        if self.repo_url:
            return f"{self.repo_url}/blob/{self.ref}/{source}"
        return f"../{source}"


# ---------------------------------------------------------------------------------------------
# Layout (Graphviz dot) and rendering

COMPONENT_SIZE = (1.5, 0.6)  # inches, as dot takes them
ARTEFACT_SIZE = (3.3, 0.55)
LANE_ORDER: tuple[str, ...] = ("data", "modelling", "monitoring", "retraining", "store")
POINTS = 72.0


def _dot_id(block_id: str) -> str:
    return block_id.replace(".", "__").replace("-", "_")


def to_dot(arch: Architecture, links: LinkConfig) -> Any:
    """The architecture as a ``graphviz.Digraph``: a cluster per lane, dashed for a condition."""
    import graphviz

    graph = graphviz.Digraph(
        "architecture",
        graph_attr={
            "rankdir": "LR",
            "newrank": "true",
            "compound": "true",
            "nodesep": "0.3",
            "ranksep": "0.6",
            "fontname": "Helvetica",
            "fontsize": "14",
            "labelloc": "t",
            "labeljust": "l",
            "pad": "0.3",
        },
        node_attr={"fontname": "Helvetica", "fontsize": "11", "fixedsize": "true"},
        edge_attr={
            "fontname": "Helvetica",
            "fontsize": "9",
            "color": "#555555",
            "arrowsize": "0.7",
        },
    )

    def add_node(target: Any, block: Block) -> None:
        shape, (width, height) = (
            ("ellipse", COMPONENT_SIZE) if block.kind == "component" else ("box", ARTEFACT_SIZE)
        )
        style = (
            "filled"
            if block.kind == "component"
            else "filled,rounded"
            if block.lane == "store"
            else "filled"
        )
        fill = (
            "#dae8fc"
            if block.kind == "component"
            else "#fff2cc"
            if block.lane == "store"
            else "#f5f5f5"
        )
        label = block.label if block.kind == "component" else f"{block.label}\n{block.type}"
        target.node(
            _dot_id(block.id),
            label=label,
            shape=shape,
            width=str(width),
            height=str(height),
            style=style,
            fillcolor=fill,
            URL=links.link(block.source),
            tooltip=block.description or block.label,
        )

    for lane in LANE_ORDER:
        with graph.subgraph(name=f"cluster_{lane}") as cluster:
            cluster.attr(label=LANES[lane], style="rounded", color="#6c8ebf", penwidth="1.5")
            for block in arch.blocks.values():
                if block.lane == lane and block.container is None:
                    add_node(cluster, block)
            for condition in arch.conditions.values():
                if condition.lane != lane:
                    continue
                with cluster.subgraph(name=f"cluster_{_dot_id(condition.id)}") as inner:
                    inner.attr(label=condition.label, style="dashed,rounded", color="#b85450")
                    for block in arch.blocks.values():
                        if block.container == condition.id:
                            add_node(inner, block)
    for edge in arch.edges:
        attrs: dict[str, str] = {}
        if edge.store:
            # Writes rank the store's artefacts after their first writer; reads do not rank.
            reads = edge.source in arch.blocks and arch.blocks[edge.source].lane == "store"
            attrs = {
                "style": "dashed",
                "color": "#b0b0b0",
                "constraint": "false" if reads else "true",
            }
        if edge.label:
            attrs["label"] = edge.label
        graph.edge(_dot_id(edge.source), _dot_id(edge.target), **attrs)
    # Left to right by stage: each lane's last blocks before the next lane's first ones.
    stages = [lane for lane in LANE_ORDER if lane != "store"]
    for before, after in zip(stages, stages[1:], strict=False):
        for tail in _lane_ends(arch, before, last=True):
            for head in _lane_ends(arch, after, last=False):
                graph.edge(_dot_id(tail), _dot_id(head), style="invis", weight="0")
    return graph


def _lane_ends(arch: Architecture, lane: str, last: bool) -> list[str]:
    members = {block.id for block in arch.blocks.values() if block.lane == lane}
    flow = [edge for edge in arch.edges if not edge.store]
    if last:
        return sorted(
            m for m in members if not any(e.source == m and e.target in members for e in flow)
        )
    return sorted(
        m for m in members if not any(e.target == m and e.source in members for e in flow)
    )


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )


def layout(arch: Architecture, links: LinkConfig) -> dict[str, Box]:
    """Top-left boxes in diagrams.net coordinates (y down) of every block and container."""
    laid = json.loads(to_dot(arch, links).pipe(format="json", encoding="utf-8"))
    _, _, _, top = (float(v) for v in laid["bb"].split(","))
    by_dot = {_dot_id(block_id): block_id for block_id in [*arch.blocks, *arch.conditions]}
    boxes: dict[str, Box] = {}
    for obj in laid.get("objects", []):
        name = obj["name"]
        if "bb" in obj and name.startswith("cluster_"):
            x0, y0, x1, y1 = (float(v) for v in obj["bb"].split(","))
            key = name.removeprefix("cluster_")
            boxes[f"lane.{key}" if key in LANES else by_dot[key]] = Box(
                round(x0), round(top - y1), round(x1 - x0), round(y1 - y0)
            )
        elif "pos" in obj and name in by_dot:
            cx, cy = (float(v) for v in obj["pos"].split(","))
            width, height = float(obj["width"]) * POINTS, float(obj["height"]) * POINTS
            boxes[by_dot[name]] = Box(
                round(cx - width / 2), round(top - cy - height / 2), round(width), round(height)
            )
    return boxes


def render_svg(arch: Architecture, links: LinkConfig) -> str:
    """The same graph drawn by Graphviz (links and tooltips kept), for the README."""
    return to_dot(arch, links).pipe(format="svg", encoding="utf-8")


COMPONENT_STYLE = "ellipse;whiteSpace=wrap;html=1;fillColor=#dae8fc;strokeColor=#6c8ebf;"
ARTEFACT_STYLE = "rounded=0;whiteSpace=wrap;html=1;fillColor=#f5f5f5;strokeColor=#666666;"
STORE_STYLE = "rounded=1;whiteSpace=wrap;html=1;fillColor=#fff2cc;strokeColor=#d6b656;"
LANE_STYLE = "swimlane;horizontal=1;startSize=30;rounded=1;html=1;whiteSpace=wrap;fillColor=none;"
CONDITION_STYLE = (
    "swimlane;horizontal=1;startSize=30;dashed=1;rounded=1;html=1;whiteSpace=wrap;"
    "fillColor=none;strokeColor=#b85450;fontColor=#b85450;"
)
FLOW_STYLE = "endArrow=classic;html=1;rounded=1;edgeStyle=orthogonalEdgeStyle;"
STORE_EDGE_STYLE = FLOW_STYLE + "dashed=1;strokeColor=#999999;"


def to_drawio(arch: Architecture, links: LinkConfig, boxes: dict[str, Box]) -> str:
    """The diagrams.net file: uncompressed mxfile/diagram/mxGraphModel/root."""
    mxfile = ET.Element("mxfile", host="pipelines.architecture", type="device")
    diagram = ET.SubElement(mxfile, "diagram", id="architecture", name="Architecture")
    model = ET.SubElement(
        diagram,
        "mxGraphModel",
        grid="1",
        gridSize="10",
        guides="1",
        tooltips="1",
        connect="1",
        arrows="1",
        fold="1",
        page="0",
        pageScale="1",
        math="0",
        shadow="0",
    )
    root = ET.SubElement(model, "root")
    ET.SubElement(root, "mxCell", id="0")
    ET.SubElement(root, "mxCell", id="1", parent="0")

    def cell(cell_id: str, style: str, parent: str, box: Box, properties: dict[str, str]) -> None:
        parent_box = boxes.get(parent)
        x = box.x - (parent_box.x if parent_box else 0)
        y = box.y - (parent_box.y if parent_box else 0)
        obj = ET.SubElement(root, "object", id=cell_id, **properties)
        mx = ET.SubElement(obj, "mxCell", style=style, vertex="1", parent=parent)
        ET.SubElement(
            mx,
            "mxGeometry",
            x=str(x),
            y=str(y),
            width=str(box.width),
            height=str(box.height),
            **{"as": "geometry"},
        )

    store_doc = _first_paragraph(__import__("lifecycle.store", fromlist=["x"]).__doc__)
    for lane in LANE_ORDER:
        lane_id = f"lane.{lane}"
        description = store_doc if lane == "store" else f"Lifecycle stage '{lane}'."
        cell(
            lane_id,
            LANE_STYLE,
            "1",
            boxes[lane_id],
            {
                "label": LANES[lane],
                "kind": "stage",
                "description": description,
                "source": "lifecycle/store/" if lane == "store" else "pipelines/",
                "link": links.link("lifecycle/store/" if lane == "store" else "pipelines/"),
            },
        )
        for condition in arch.conditions.values():
            if condition.lane == lane:
                cell(
                    condition.id,
                    CONDITION_STYLE,
                    lane_id,
                    boxes[condition.id],
                    {
                        "label": condition.label,
                        "kind": "condition",
                        "description": condition.description,
                        "source": condition.source,
                        "link": links.link(condition.source),
                    },
                )
    for block in arch.blocks.values():
        style = (
            COMPONENT_STYLE
            if block.kind == "component"
            else STORE_STYLE
            if block.lane == "store"
            else ARTEFACT_STYLE
        )
        label = (
            block.label
            if block.kind == "component"
            else f"{block.label}<br><i>{html.escape(block.type)}</i>"
        )
        properties = {
            "label": label,
            "kind": block.kind,
            "description": block.description,
            "inputs": "; ".join(block.inputs),
            "outputs": "; ".join(block.outputs),
            "image": block.image,
            "type": block.type,
            "source": block.source,
            "link": links.link(block.source),
            **block.extra,
        }
        properties = {
            key: value for key, value in properties.items() if value or key in {"inputs", "outputs"}
        }
        cell(block.id, style, block.container or f"lane.{block.lane}", boxes[block.id], properties)
    for number, edge in enumerate(arch.edges, start=1):
        attributes = {
            "id": f"edge.{number}",
            "style": STORE_EDGE_STYLE if edge.store else FLOW_STYLE,
            "edge": "1",
            "parent": "1",
            "source": edge.source,
            "target": edge.target,
        }
        if edge.label:
            attributes["value"] = edge.label
        mx = ET.SubElement(root, "mxCell", **attributes)
        ET.SubElement(mx, "mxGeometry", relative="1", **{"as": "geometry"})
    ET.indent(mxfile)
    return ET.tostring(mxfile, encoding="unicode") + "\n"


# ---------------------------------------------------------------------------------------------
# Tables for docs/README.md


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_tables(arch: Architecture, links: LinkConfig) -> str:
    """Markdown tables of the components and artefacts (from the specs, like the diagram)."""
    lines = [
        "### Components",
        "",
        "| component | stage | what it does | inputs | outputs | image |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    seen: set[str] = set()
    for block in sorted(arch.components(), key=lambda b: (LANE_ORDER.index(b.lane), b.id)):
        if block.label in seen:
            continue
        seen.add(block.label)
        lanes = sorted(
            {b.lane for b in arch.components() if b.label == block.label}, key=LANE_ORDER.index
        )
        lines.append(
            f"| [{block.label}]({links.link(block.source)}) | {', '.join(lanes)} "
            f"| {_cell(block.description)} "
            f"| {'<br>'.join(block.inputs)} | {'<br>'.join(block.outputs)} | `{block.image}` |"
        )
    lines += [
        "",
        "### Artefacts",
        "",
        "| artefact | stage | type or store key | written by | read by | what it is |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for block in sorted(arch.artefacts(), key=lambda b: (LANE_ORDER.index(b.lane), b.id)):
        writers = sorted({arch.blocks[e.source].label for e in arch.edges if e.target == block.id})
        readers = sorted({arch.blocks[e.target].label for e in arch.edges if e.source == block.id})
        lines.append(
            f"| {block.label} (`{block.id}`) | {block.lane} | `{block.type}` "
            f"| {', '.join(writers) or 'pipeline input'} "
            f"| {', '.join(readers) or '—'} | {_cell(block.description)} |"
        )
    return "\n".join(lines) + "\n"


def replace_generated(markdown: str, block: str) -> str:
    """Put ``block`` between the markers of ``markdown``.

    Raises:
        ValueError: the markers are missing.
    """
    start, end = markdown.find(TABLES_BEGIN), markdown.find(TABLES_END)
    if start < 0 or end < start:
        raise ValueError(f"markers {TABLES_BEGIN!r} … {TABLES_END!r} not found")
    return markdown[: start + len(TABLES_BEGIN)] + "\n" + block + markdown[end:]


# ---------------------------------------------------------------------------------------------
# Entry point


def generate(
    out: Path = DOCS, links: LinkConfig | None = None, root: Path = ROOT, readme: Path | None = None
) -> list[Path]:
    """Write the drawio file, the SVG and the README tables into ``out``; return the paths.

    Args:
        out: the docs folder to write into.
        links: where block links point; resolved from ``$REPO_URL`` or git when None.
        root: the project root holding the compiled specs.
        readme: the markdown whose tables to regenerate (default ``out/README.md``); skipped
            when it does not exist.
    """
    links = links or LinkConfig.resolve(root=root)
    arch = build_architecture(root)
    boxes = layout(arch, links)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / DRAWIO_FILE, out / SVG_FILE]
    written[0].write_text(to_drawio(arch, links, boxes), encoding="utf-8")
    written[1].write_text(render_svg(arch, links), encoding="utf-8")
    readme = readme or out / README_FILE
    if readme.exists():
        target = out / README_FILE
        target.write_text(
            replace_generated(readme.read_text(encoding="utf-8"), render_tables(arch, links)),
            encoding="utf-8",
        )
        written.append(target)
    return written


def stale_files(docs: Path = DOCS, links: LinkConfig | None = None, root: Path = ROOT) -> list[str]:
    """The generated files of ``docs`` that differ from a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp), links, root, readme=docs / README_FILE)
        return [
            path.name
            for path in fresh
            if not (docs / path.name).exists()
            or not filecmp.cmp(path, docs / path.name, shallow=False)
        ]


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.architecture", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DOCS, help="docs folder (default: docs/)")
    parser.add_argument(
        "--repo-url",
        default=None,
        help=f"repository URL for links (default: ${REPO_URL_ENV}, else git remote origin; "
        "'' for relative links)",
    )
    parser.add_argument(
        "--ref", default=None, help=f"branch or commit in links (default: ${REPO_REF_ENV} or main)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the committed files are stale"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    if shutil.which("dot") is None:
        print("error: Graphviz `dot` not found (apt-get install graphviz)", file=sys.stderr)
        return 2
    links = LinkConfig.resolve(args.repo_url, args.ref)
    if args.check:
        stale = stale_files(args.out, links)
        for name in stale:
            print(f"stale: {args.out / name} (run make diagram)", file=sys.stderr)
        return 1 if stale else 0
    for path in generate(args.out, links):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
