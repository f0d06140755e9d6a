"""The colours and line styles of the diagram, once, for both Graphviz and diagrams.net."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FONT = "Helvetica"
FONT_SIZE = 13  # points, for block labels; lane titles and edge labels derive from it


@dataclass(frozen=True)
class Look:
    """How a block or a container is drawn."""

    shape: Literal["ellipse", "rectangle", "container"]
    fill: str
    stroke: str
    rounded: bool = False
    dashed: bool = False
    font_colour: str = "#000000"
    size: tuple[float, float] = (0.0, 0.0)  # inches (Graphviz's unit), fixed


@dataclass(frozen=True)
class Line:
    """How an edge is drawn."""

    colour: str
    pattern: Literal["solid", "dashed", "dotted"] = "solid"
    width: float = 1.0
    font_colour: str = "#333333"


# Keyed by Block.look, plus the stage containers.
BLOCK_LOOKS: dict[str, Look] = {
    "component": Look("ellipse", "#dae8fc", "#6c8ebf", size=(1.2, 0.45)),
    "artefact": Look("rectangle", "#f5f5f5", "#666666", size=(1.25, 0.45)),
    "input": Look("rectangle", "#d5e8d4", "#82b366", size=(1.25, 0.45)),
    "store": Look("rectangle", "#fff2cc", "#d6b656", rounded=True, size=(1.25, 0.45)),
    "stage": Look("container", "#fbfcfe", "#6c8ebf", rounded=True, font_colour="#23446e"),
    "store_lane": Look("container", "#fffdf4", "#d6b656", rounded=True, font_colour="#7a5d00"),
    "condition": Look(
        "container", "#fdf5f4", "#b85450", rounded=True, dashed=True, font_colour="#b85450"
    ),
}
# Keyed by Edge.kind.
EDGE_LINES: dict[str, Line] = {
    "data": Line("#4d4d4d"),
    "after": Line("#4d4d4d", "dotted", 1.2),
    "store": Line("#c9b26b", "dashed", 0.8, "#8a7a45"),
    "trigger": Line("#b85450", "solid", 1.6, "#b85450"),
}


def lane_look(lane: str) -> Look:
    """The look of a stage's container (the store's differs)."""
    return BLOCK_LOOKS["store_lane" if lane == "store" else "stage"]


# Drawn beneath the store in the SVG: how to read the shapes, colours and lines.
LEGEND = (
    "ovals: components (KFP tasks)   rectangles: artefacts (green: pipeline inputs, "
    "grey: KFP artifacts, yellow: the store)\n"
    "solid: artifact or parameter passed   dotted: order only (.after())   "
    "red: the branch's condition\n"
    "dashed: what a stage reads from or writes to the store (each block's own arrows: "
    "architecture.drawio)"
)
