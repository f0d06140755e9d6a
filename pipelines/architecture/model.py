"""The diagram's model: blocks (components, artefacts, containers), edges and stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# The lifecycle stages, left to right, and the store beneath them: id → what it holds.
LANES: dict[str, str] = {
    "data": "validate and version the inputs",
    "modelling": "the first model",
    "monitoring": "every new batch",
    "retraining": "only on drift",
    "store": "MinIO bucket or local folder",
}
STAGES: tuple[str, ...] = tuple(lane for lane in LANES if lane != "store")

# component: a KFP task (an oval); artefact: a KFP artifact, a pipeline's input file or an
# area of the store (a rectangle); condition: a dsl.If branch (a dashed container).
Kind = Literal["component", "artefact", "condition"]
# data: an artifact or parameter passed; after: an order-only .after() dependency;
# store: a read or write of the store; trigger: the output a condition tests.
EdgeKind = Literal["data", "after", "store", "trigger"]


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
    container: str | None = None  # the condition it sits in, if any
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def look(self) -> str:
        """The key of its style in :data:`pipelines.architecture.styles.BLOCK_LOOKS`."""
        if self.kind != "artefact":
            return self.kind
        if self.lane == "store":
            return "store"
        return "input" if "pipeline_input" in self.extra else "artefact"


@dataclass(frozen=True)
class Edge:
    """An arrow from ``source`` to ``target`` (block or condition ids)."""

    source: str
    target: str
    kind: EdgeKind = "data"
    label: str = ""


@dataclass
class Architecture:
    """Blocks, arrows and the conditional branches of the pipelines."""

    blocks: dict[str, Block] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    conditions: dict[str, Block] = field(default_factory=dict)

    def add_edge(self, edge: Edge) -> None:
        """Add ``edge``; an arrow of the same kind between the same blocks takes its label."""
        for number, known in enumerate(self.edges):
            if (known.source, known.target, known.kind) == (edge.source, edge.target, edge.kind):
                labels = [label for label in (known.label, edge.label) if label]
                merged = ", ".join(dict.fromkeys(", ".join(labels).split(", "))) if labels else ""
                self.edges[number] = Edge(edge.source, edge.target, edge.kind, merged)
                return
        self.edges.append(edge)

    def components(self) -> list[Block]:
        return [block for block in self.blocks.values() if block.kind == "component"]

    def artefacts(self) -> list[Block]:
        return [block for block in self.blocks.values() if block.kind == "artefact"]

    def in_lane(self, lane: str) -> list[Block]:
        """The blocks of ``lane`` outside any condition."""
        return [b for b in self.blocks.values() if b.lane == lane and b.container is None]


@dataclass(frozen=True)
class Box:
    """A rectangle in diagrams.net coordinates: top-left corner, y down."""

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

    def contains(self, other: Box) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.x + other.width <= self.x + self.width
            and other.y + other.height <= self.y + self.height
        )
