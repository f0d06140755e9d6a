"""The diagrams.net file: an uncompressed ``mxfile/diagram/mxGraphModel/root``.

Every block, container and arrow is an ``<object>`` carrying its properties (diagrams.net's
*Edit Data*) around its ``<mxCell>``; blocks sit in their container (``parent``) at the
position Graphviz gave them, and arrows follow Graphviz's path where it drew one.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from lifecycle import store as store_package
from pipelines.architecture.layout import Layout, edge_id
from pipelines.architecture.links import LinkConfig
from pipelines.architecture.model import LANES, STAGES, Architecture, Block, Box
from pipelines.architecture.styles import BLOCK_LOOKS, EDGE_LINES, FONT, FONT_SIZE, Line, Look
from pipelines.architecture.styles import lane_look as lane_look_of

HOST = "pipelines.architecture"
LANE_SOURCES = {"store": "lifecycle/store/"}  # a stage's source: the pipelines


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def block_style(look: Look) -> str:
    """A diagrams.net style from a :class:`~pipelines.architecture.styles.Look`."""
    parts = {
        "ellipse": ["ellipse"],
        "rectangle": [f"rounded={int(look.rounded)}"],
        "container": [
            "swimlane",
            "horizontal=1",
            "rounded=1",
            "swimlaneFillColor=" + look.fill,
            "align=left",
            "spacingLeft=8",
            "fontStyle=0",
        ],
    }[look.shape]
    parts += [
        "whiteSpace=wrap",
        "html=1",
        f"fillColor={look.fill}",
        f"strokeColor={look.stroke}",
        f"fontColor={look.font_colour}",
        f"fontFamily={FONT}",
        f"fontSize={FONT_SIZE}",
    ]
    if look.dashed:
        parts.append("dashed=1")
    return ";".join(parts) + ";"


def edge_style(line: Line) -> str:
    """A diagrams.net style from a :class:`~pipelines.architecture.styles.Line`."""
    parts = [
        "endArrow=classic",
        "html=1",
        "curved=1",
        f"strokeColor={line.colour}",
        f"strokeWidth={line.width:g}",
        f"fontColor={line.font_colour}",
        f"fontSize={FONT_SIZE - 2}",
    ]
    if line.pattern == "dashed":
        parts.append("dashed=1")
    elif line.pattern == "dotted":
        parts += ["dashed=1", "dashPattern=1 3"]
    return ";".join(parts) + ";"


def block_label(block: Block) -> str:
    """The shape's text (HTML): the name, and a rectangle's type in italics beneath."""
    if block.kind == "component":
        return html.escape(block.label)
    return f"{html.escape(block.label)}<br><i>{html.escape(block.type)}</i>"


def lane_label(lane: str) -> str:
    return f"<b>{html.escape(lane)}</b><br>{html.escape(LANES[lane])}"


def block_properties(block: Block, links: LinkConfig) -> dict[str, str]:
    """The *Edit Data* properties of a block (inputs and outputs always present)."""
    properties = {
        "label": block_label(block),
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
    return {k: v for k, v in properties.items() if v or k in {"inputs", "outputs"}}


def to_drawio(arch: Architecture, links: LinkConfig, laid: Layout) -> str:
    """The diagrams.net file of ``arch`` laid out as ``laid``."""
    mxfile = ET.Element("mxfile", host=HOST, type="device")
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

    def vertex(cell_id: str, style: str, parent: str, properties: dict[str, str]) -> None:
        box, origin = laid.boxes[cell_id], laid.boxes.get(parent, Box(0, 0, 0, 0))
        obj = ET.SubElement(root, "object", id=cell_id, **properties)
        cell = ET.SubElement(obj, "mxCell", style=style, vertex="1", parent=parent)
        ET.SubElement(
            cell,
            "mxGeometry",
            x=f"{box.x - origin.x:g}",
            y=f"{box.y - origin.y:g}",
            width=f"{box.width:g}",
            height=f"{box.height:g}",
            **{"as": "geometry"},
        )

    store_doc = _first_paragraph(store_package.__doc__)
    for lane in LANES:
        lane_id = f"lane.{lane}"
        source = LANE_SOURCES.get(lane, "pipelines/")
        style = block_style(lane_look_of(lane)) + f"startSize={laid.titles[lane_id]:g};"
        vertex(
            lane_id,
            style,
            "1",
            {
                "label": lane_label(lane),
                "kind": "stage" if lane in STAGES else "store",
                "description": store_doc if lane == "store" else f"Lifecycle stage '{lane}'.",
                "source": source,
                "link": links.link(source),
            },
        )
        for condition in arch.conditions.values():
            if condition.lane == lane:
                style = block_style(BLOCK_LOOKS["condition"])
                style += f"startSize={laid.titles[condition.id]:g};"
                vertex(
                    condition.id,
                    style,
                    lane_id,
                    {
                        "label": html.escape(condition.label),
                        "kind": condition.kind,
                        "description": condition.description,
                        "source": condition.source,
                        "link": links.link(condition.source),
                        **condition.extra,
                    },
                )
    for block in arch.blocks.values():
        parent = block.container or f"lane.{block.lane}"
        vertex(
            block.id, block_style(BLOCK_LOOKS[block.look]), parent, block_properties(block, links)
        )
    for number, edge in enumerate(arch.edges, start=1):
        cell_id = edge_id(number)
        obj = ET.SubElement(
            root, "object", id=cell_id, label=edge.label, kind="edge", relation=edge.kind
        )
        cell = ET.SubElement(
            obj,
            "mxCell",
            style=edge_style(EDGE_LINES[edge.kind]),
            edge="1",
            parent="1",
            source=edge.source,
            target=edge.target,
        )
        geometry = ET.SubElement(cell, "mxGeometry", relative="1", **{"as": "geometry"})
        inner = laid.paths.get(cell_id, [])[1:-1]
        if inner:
            points = ET.SubElement(geometry, "Array", **{"as": "points"})
            for x, y in inner:
                ET.SubElement(points, "mxPoint", x=f"{x:g}", y=f"{y:g}")
    ET.indent(mxfile)
    return ET.tostring(mxfile, encoding="unicode") + "\n"
