"""The diagram's model from the compiled pipelines: a walk of their IR (``PipelineSpec``).

Every task is an oval, every artifact it outputs a rectangle of its own, every pipeline input
wired to a component's ``source`` a rectangle (the file a run reads). An arrow goes from each
producer to each consumer of an artifact or a parameter, from each ``.after()`` dependency to
its task, and from the output a ``dsl.If`` tests to what it guards: the retraining branch's
container, or the first tasks of another branch (the monitoring run's "new batch" gate). The
exit handler's body is drawn as it runs, its exit task (``finalize``) in its pipeline's column.
The store's areas and histories (:mod:`pipelines.architecture.store`) are rectangles too, with
an arrow for each read or write a stage's logic makes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.architecture.model import Architecture, Block, Edge
from pipelines.architecture.specs import (
    PIPELINE_FILES,
    ROOT,
    ComponentSpec,
    component_name,
    load_component_specs,
    load_pipeline_spec,
)
from pipelines.architecture.store import store_access, store_artefacts

TRAINING_PIPELINE = "lifecycle-training"
# The branch drawn as a container in the retraining column (pipelines.monitoring's name for it).
RETRAIN_BRANCH = "drift-detected"
# Components of the data stage, whichever pipeline runs them.
DATA_COMPONENTS = frozenset({"validate", "ingest"})
# A pipeline input wired to this component input is a data source (a CSV or Parquet file).
SOURCE_INPUT = "source"
_CHANNEL = re.compile(r"inputs\.parameter_values\['pipelinechannel--([^']+)'\]")


def condition_label(expression: str) -> str:
    """``inputs.parameter_values['pipelinechannel--detect-drift-Output'] == true`` → readable."""
    return _CHANNEL.sub(r"\1", expression)


def _typed(types: dict[str, str]) -> list[str]:
    return [f"{name}: {kind}" for name, kind in types.items()]


@dataclass(frozen=True)
class Producer:
    """What feeds a task input: a task's output (``block`` and ``key``) or a pipeline input."""

    block: str | None = None
    key: str = ""
    pipeline_input: str | None = None


@dataclass
class PipelineWalk:
    """Adds one compiled pipeline's tasks, artefacts and arrows to ``arch``."""

    arch: Architecture
    spec: dict[str, Any]
    specs: dict[str, ComponentSpec]
    pipeline_file: str
    source_file: str = field(init=False)

    def __post_init__(self) -> None:
        self.source_file = self.pipeline_file.replace("_pipeline.yaml", ".py")

    @property
    def name(self) -> str:
        return self.spec["pipelineInfo"]["name"]

    @property
    def short(self) -> str:
        return self.name.removeprefix("lifecycle-")

    def run(self) -> None:
        self.walk(self.spec["root"]["dag"], [], {}, None, {})

    def lane(self, component: str, condition: str | None) -> str:
        if component in DATA_COMPONENTS:
            return "data"
        if condition is not None:
            return "retraining"
        return "modelling" if self.name == TRAINING_PIPELINE else "monitoring"

    def walk(
        self,
        dag: dict[str, Any],
        path: list[str],
        scope: dict[str, Producer],
        condition: str | None,
        outer: dict[str, str],
    ) -> None:
        """Add the tasks of ``dag``; ``scope`` maps its input channels to their producers,
        ``outer`` the names of the enclosing DAGs' tasks to their blocks (KFP names a task once
        per pipeline, so an inner task may name an outer one as its producer)."""
        components = self.spec["components"]
        tasks = dag["tasks"]
        blocks = {
            **outer,
            **{
                name: ".".join([self.short, *path, name])
                for name, task in tasks.items()
                if "dag" not in components[task["componentRef"]["name"]]
            },
        }
        for task_name, task in tasks.items():
            if "dag" not in components[task["componentRef"]["name"]]:
                self.add_task(blocks[task_name], task_name, task, path, condition)

        def producer(reference: dict[str, Any]) -> Producer | None:
            output = reference.get("taskOutputArtifact") or reference.get("taskOutputParameter")
            if output is not None:
                key = output.get("outputArtifactKey") or output["outputParameterKey"]
                return Producer(blocks.get(output["producerTask"]), key)
            channel = reference.get("componentInputArtifact") or reference.get(
                "componentInputParameter"
            )
            if channel is None:  # a constant
                return None
            return scope.get(channel) if path else Producer(pipeline_input=channel)

        for task_name, task in tasks.items():
            inputs = task.get("inputs") or {}
            references = {
                name: reference
                for kind in ("artifacts", "parameters")
                for name, reference in sorted((inputs.get(kind) or {}).items())
            }
            found = {name: producer(reference) for name, reference in references.items()}
            fed_by = {p.block for p in found.values() if p is not None and p.block}
            component_ref = task["componentRef"]["name"]
            if "dag" in components[component_ref]:
                label = task.get("taskInfo", {}).get("name", task_name)
                inner = {name: p for name, p in found.items() if p is not None}
                walk_dag = components[component_ref]["dag"]
                if label == RETRAIN_BRANCH:
                    condition_id = ".".join([self.short, *path, label])
                    self.add_condition(condition_id, label, task, found)
                    self.walk(walk_dag, [*path, label], inner, condition_id, blocks)
                    target = condition_id
                else:  # the exit handler's body, or a gate: drawn as its tasks run
                    self.walk(walk_dag, [*path, label], inner, condition, blocks)
                    self.add_gate(task, found, walk_dag, [*path, label])
                    continue
            else:
                target = blocks[task_name]
                for name, found_producer in found.items():
                    if found_producer is not None:
                        self.add_input(target, name, found_producer)
            for dependency in task.get("dependentTasks") or []:
                # A dependency on a group (the exit task's on the exit handler's body) is the
                # exit handler's: the exit task's description says it runs after the body.
                if dependency in blocks and blocks[dependency] not in fed_by:
                    self.arch.add_edge(Edge(blocks[dependency], target, "after", "after"))

    def add_task(
        self,
        block_id: str,
        task_name: str,
        task: dict[str, Any],
        path: list[str],
        condition: str | None,
    ) -> None:
        component = component_name(task["componentRef"]["name"])
        comp = self.specs[component]
        lane = self.lane(component, condition)
        self.arch.blocks[block_id] = Block(
            id=block_id,
            label=component,
            kind="component",
            lane=lane,
            description=comp.description,
            source=comp.source,
            inputs=_typed(comp.inputs),
            outputs=_typed(comp.outputs),
            image=comp.image,
            container=condition,
            extra={"pipeline": self.name, "task": " / ".join([*path, task_name])},
        )
        for output, kind in comp.outputs.items():
            if not kind.startswith("system."):
                continue  # a parameter: an arrow to each consumer, no block
            artefact_id = f"{block_id}.{output}"
            self.arch.blocks[artefact_id] = Block(
                id=artefact_id,
                label=output,
                kind="artefact",
                lane=lane,
                description=f"KFP {kind} artifact '{output}' of task '{task_name}' "
                f"({component}) in {self.name}.",
                source=comp.source,
                type=kind,
                container=condition,
                extra={"pipeline": self.name, "task": " / ".join([*path, task_name])},
            )
            self.arch.add_edge(Edge(block_id, artefact_id))

    def add_input(self, target: str, name: str, producer: Producer) -> None:
        if producer.pipeline_input is not None:
            if name != SOURCE_INPUT:
                return  # configuration (config_json, names, batch ids), not an artefact
            param = producer.pipeline_input
            source_id = f"{self.short}.{param}"
            self.arch.blocks.setdefault(
                source_id,
                Block(
                    id=source_id,
                    label=param.replace("_", " "),
                    kind="artefact",
                    lane="data",
                    description=f"The CSV or Parquet file (path or store key) given as "
                    f"'{param}' to {self.name}.",
                    source=self.source_file,
                    type="CSV or Parquet file",
                    extra={"pipeline": self.name, "pipeline_input": param},
                ),
            )
            self.arch.add_edge(Edge(source_id, target))
            return
        assert producer.block is not None
        artefact = f"{producer.block}.{producer.key}"
        if artefact in self.arch.blocks:
            # Named only where the task takes several artifacts (train: training_data, test_data).
            several = len(self.specs[self.arch.blocks[target].label].artifact_inputs) > 1
            self.arch.add_edge(Edge(artefact, target, label=name if several else ""))
        else:
            # A parameter: named by the input it feeds (the producer's outputs list its names).
            self.arch.add_edge(Edge(producer.block, target, label=name))

    def add_condition(
        self,
        condition_id: str,
        label: str,
        task: dict[str, Any],
        found: dict[str, Producer | None],
    ) -> None:
        expression = task.get("triggerPolicy", {}).get("condition", "")
        readable = condition_label(expression)
        self.arch.conditions[condition_id] = Block(
            id=condition_id,
            label=f"if {readable}",
            kind="condition",
            lane="retraining",
            description=f"dsl.If branch '{label}' of {self.name}: runs when {readable}.",
            source=self.source_file,
            extra={"pipeline": self.name, "task": label},
        )
        for channel in _CHANNEL.findall(expression):
            tested = found.get(f"pipelinechannel--{channel}")
            if tested is not None and tested.block is not None:
                self.arch.add_edge(
                    Edge(tested.block, condition_id, "trigger", expression_tail(readable))
                )

    def add_gate(
        self,
        task: dict[str, Any],
        found: dict[str, Producer | None],
        dag: dict[str, Any],
        path: list[str],
    ) -> None:
        """A ``dsl.If`` drawn without a container: an arrow from the output it tests to each
        task of the branch that waits for nothing else in it."""
        expression = task.get("triggerPolicy", {}).get("condition", "")
        if not expression:
            return  # the exit handler's body: no test
        readable = condition_label(expression)
        entries = [
            name
            for name, inner in dag["tasks"].items()
            if not set(inner.get("dependentTasks") or []) & set(dag["tasks"])
        ]
        for channel in _CHANNEL.findall(expression):
            tested = found.get(f"pipelinechannel--{channel}")
            if tested is None or tested.block is None:
                continue
            for entry in entries:
                target = ".".join([self.short, *path, entry])
                self.arch.add_edge(Edge(tested.block, target, "trigger", expression_tail(readable)))


def expression_tail(readable: str) -> str:
    """``detect-drift-Output == true`` → ``Output == true`` (the producer is the arrow's tail)."""
    head, _, rest = readable.partition(" ")
    return f"{head.rsplit('-', 1)[-1]} {rest}".strip()


def build_architecture(root: Path = ROOT) -> Architecture:
    """The diagram's model from the compiled pipelines, component specs and store layout."""
    specs = load_component_specs(root)
    arch = Architecture()
    for pipeline_file in PIPELINE_FILES:
        spec = load_pipeline_spec(root / pipeline_file)
        PipelineWalk(arch, spec, specs, pipeline_file).run()
    artefacts = store_artefacts(root)
    for artefact in artefacts:
        arch.blocks[artefact.id] = Block(
            id=artefact.id,
            label=artefact.label,
            kind="artefact",
            lane="store",
            description=artefact.description,
            source=artefact.source,
            type=artefact.key,
        )
    for block in arch.components():
        stage_dir = root / "components" / specs[block.label].stage
        for artefact_id, direction in sorted(store_access(stage_dir, artefacts)):
            if direction == "write":
                arch.add_edge(Edge(block.id, artefact_id, "store"))
            else:
                arch.add_edge(Edge(artefact_id, block.id, "store"))
    _list_artefact_ends(arch)
    return arch


def _list_artefact_ends(arch: Architecture) -> None:
    """An artefact's inputs are its writers, its outputs its readers."""
    for block in arch.artefacts():
        block.inputs = sorted(
            f"{arch.blocks[e.source].label} ({e.source})"
            for e in arch.edges
            if e.target == block.id
        )
        block.outputs = sorted(
            f"{arch.blocks[e.target].label} ({e.target})"
            for e in arch.edges
            if e.source == block.id
        )
