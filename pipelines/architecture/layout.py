"""Layout by Graphviz: one column per stage, the store beneath, every arrow routed.

Three Graphviz programs, no coordinate written by hand:

1. ``dot`` lays out each stage on its own, top to bottom, as a cluster (the conditional branch
   a dashed cluster inside it), with the arrows within the stage; the separate flows of a
   stage (the training file, the test file, each batch) are stacked, so a stage is a column.
   The store's blocks are laid out as one row, ordered by the stages that use them.
2. ``gvpack`` puts the stage columns side by side, top-aligned, left to right in
   :data:`~pipelines.architecture.model.STAGES` order, then the store row beneath them.
3. ``neato -n2`` keeps every position and every arrow ``dot`` drew, and routes the remaining
   ones (between stages, to and from the store) around the blocks.

The result is one positioned graph: :func:`render_svg` draws it, :func:`layout` reads the
boxes and the arrows' paths off it for the diagrams.net file.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from statistics import mean
from typing import Any

from pipelines.architecture.links import LinkConfig
from pipelines.architecture.model import LANES, STAGES, Architecture, Block, Box, Edge
from pipelines.architecture.styles import (
    BLOCK_LOOKS,
    EDGE_LINES,
    FONT,
    FONT_SIZE,
    LEGEND,
    Look,
    lane_look,
)

POINTS = 72.0  # per inch
GAP = 0.25  # inches between stage columns, and between the columns and the store
_DOT_SHAPES = {"ellipse": "ellipse", "rectangle": "box"}
_GRAPH = {"fontname": FONT, "labelloc": "t", "labeljust": "l", "newrank": "true"}
_NODE = {"fontname": FONT, "fontsize": str(FONT_SIZE), "penwidth": "1.2", "margin": "0.06,0.03"}
_EDGE = {"fontname": FONT, "fontsize": str(FONT_SIZE - 2), "arrowsize": "0.7"}


def dot_id(block_id: str) -> str:
    """A Graphviz-safe name for a block, condition or lane id."""
    return block_id.replace(".", "__").replace("-", "_")


def cluster_id(lane_or_condition: str) -> str:
    return f"cluster_{dot_id(lane_or_condition)}"


def lane_title(lane: str) -> str:
    """The container's title: the stage, and what it holds beneath (left-justified lines)."""
    return f"{lane}\\l{LANES[lane]}\\l"


def block_text(block: Block) -> str:
    """The label as drawn: the name, and a rectangle's type or store key beneath."""
    return block.label if block.kind == "component" else f"{block.label}\n{block.type}"


def edge_id(number: int) -> str:
    """The id of the ``number``-th arrow (from 1), in the SVG and in the diagrams.net file."""
    return f"edge.{number}"


def _style(look: Look) -> str:
    return ",".join(
        ["filled", *(["rounded"] if look.rounded else []), *(["dashed"] if look.dashed else [])]
    )


def _container_attrs(label: str, look: Look) -> dict[str, str]:
    return {
        "label": label,
        "style": _style(look),
        "fillcolor": look.fill,
        "color": look.stroke,
        "fontcolor": look.font_colour,
        "penwidth": "1.5",
        "fontsize": str(FONT_SIZE + 1),
        "margin": "10",
    }


def _edge_attrs(number: int, edge: Edge) -> dict[str, str]:
    line = EDGE_LINES[edge.kind]
    attrs = {
        "id": edge_id(number),
        "color": line.colour,
        "fontcolor": line.font_colour,
        "style": line.pattern,
        "penwidth": str(line.width),
        "tooltip": f"{edge.kind}: {edge.source} → {edge.target}"
        + (f" ({edge.label})" if edge.label else ""),
    }
    # An order-only arrow is told by its dots, a store arrow by its dashes, the branch's
    # condition by its container's title.
    if edge.label and edge.kind == "data":
        attrs["label"] = edge.label
    return attrs


def _add_node(graph: Any, block: Block, links: LinkConfig) -> None:
    look = BLOCK_LOOKS[block.look]
    width, height = look.size
    graph.node(
        dot_id(block.id),
        label=block_text(block),
        shape=_DOT_SHAPES[look.shape],
        width=str(width),
        height=str(height),
        style=_style(look),
        fillcolor=look.fill,
        color=look.stroke,
        fontsize=str(FONT_SIZE if block.kind == "component" else FONT_SIZE - 1),
        URL=links.link(block.source),
        tooltip=block.description or block.label,
    )


def flows(arch: Architecture, lane: str) -> list[list[str]]:
    """The separately connected groups of a lane's blocks (by data and order arrows), in the
    order their first block was added."""
    members = [b.id for b in arch.blocks.values() if b.lane == lane]
    group = {member: member for member in members}

    def find(member: str) -> str:
        while group[member] != member:
            member = group[member]
        return member

    for edge in arch.edges:
        if edge.kind in {"data", "after"} and edge.source in group and edge.target in group:
            group[find(edge.source)] = find(edge.target)
    groups: dict[str, list[str]] = {}
    for member in members:
        groups.setdefault(find(member), []).append(member)
    return list(groups.values())


def ends(arch: Architecture, members: list[str], heads: bool) -> list[str]:
    """The blocks of ``members`` that no data or order arrow within them enters (``heads``)
    or leaves."""
    inside = set(members)
    linked = {
        (edge.target if heads else edge.source)
        for edge in arch.edges
        if edge.kind in {"data", "after"} and edge.source in inside and edge.target in inside
    }
    return [member for member in members if member not in linked]


def stacked_outputs(arch: Architecture, lane: str) -> list[list[str]]:
    """Per task of the lane, the artefacts it outputs that no task reads (what the KFP UI
    shows: metrics, reports, summaries), when there are several: drawn one under the other,
    so that a task with three of them does not widen its column three times."""
    read = {edge.source for edge in arch.edges if edge.kind == "data"}
    leaves: dict[str, list[str]] = {}
    for edge in arch.edges:
        block = arch.blocks.get(edge.target)
        source = arch.blocks.get(edge.source)
        if (
            edge.kind == "data"
            and block is not None
            and source is not None
            and source.kind == "component"
            and source.lane == lane
            and block.kind == "artefact"
            and edge.target not in read
        ):
            leaves.setdefault(edge.source, []).append(edge.target)
    return [outputs for outputs in leaves.values() if len(outputs) > 1]


def _lane_of(arch: Architecture) -> dict[str, str]:
    lanes = {block.id: block.lane for block in arch.blocks.values()}
    return lanes | {condition.id: condition.lane for condition in arch.conditions.values()}


def stage_graph(arch: Architecture, lane: str, links: LinkConfig, order: int) -> Any:
    """One stage as a ``graphviz.Digraph``: its column, the arrows within it."""
    import graphviz

    graph = graphviz.Digraph(
        lane,
        graph_attr={**_GRAPH, "rankdir": "TB", "nodesep": "0.15", "ranksep": "0.3"},
        node_attr=_NODE,
        edge_attr=_EDGE,
    )
    graph.attr(sortv=str(order))
    with graph.subgraph(name=cluster_id(lane)) as cluster:
        cluster.attr(**_container_attrs(lane_title(lane), lane_look(lane)))
        for block in arch.in_lane(lane):
            _add_node(cluster, block, links)
        for condition in arch.conditions.values():
            if condition.lane != lane:
                continue
            with cluster.subgraph(name=cluster_id(condition.id)) as inner:
                inner.attr(
                    **_container_attrs(condition.label, BLOCK_LOOKS["condition"]),
                    URL=links.link(condition.source),
                    tooltip=condition.description,
                )
                for block in arch.blocks.values():
                    if block.container == condition.id:
                        _add_node(inner, block, links)
    lane_of = _lane_of(arch)
    for number, edge in enumerate(arch.edges, start=1):
        if edge.kind in {"data", "after"} and lane_of[edge.source] == lane_of[edge.target] == lane:
            graph.edge(dot_id(edge.source), dot_id(edge.target), **_edge_attrs(number, edge))
    for leaves in stacked_outputs(arch, lane):
        for upper, lower in zip(leaves, leaves[1:], strict=False):
            graph.edge(dot_id(upper), dot_id(lower), style="invis")
    groups = flows(arch, lane)
    for before, after in zip(groups, groups[1:], strict=False):
        for tail in ends(arch, before, heads=False):
            for head in ends(arch, after, heads=True):
                graph.edge(dot_id(tail), dot_id(head), style="invis")
    # Where the stage's store arrows start: a point at the bottom of its column.
    with graph.subgraph(name=cluster_id(lane)) as cluster:
        cluster.node(anchor_id(lane), shape="point", width="0.01", style="invis", label="")
    members = [b.id for b in arch.blocks.values() if b.lane == lane]
    for tail in ends(arch, members, heads=False):
        graph.edge(dot_id(tail), anchor_id(lane), style="invis")
    return graph


def anchor_id(lane: str) -> str:
    return f"anchor_{lane}"


def store_arrows(arch: Architecture) -> dict[tuple[str, str], list[Edge]]:
    """The store arrows of each stage, by (stage, store block): drawn as one in the SVG."""
    lane_of = _lane_of(arch)
    grouped: dict[tuple[str, str], list[Edge]] = {}
    for edge in arch.edges:
        if edge.kind == "store":
            store, other = (
                (edge.target, edge.source)
                if lane_of[edge.target] == "store"
                else (edge.source, edge.target)
            )
            grouped.setdefault((lane_of[other], store), []).append(edge)
    return grouped


def store_order(arch: Architecture) -> list[str]:
    """The store's blocks by the mean position of the stages that read or write them."""
    lane_of = _lane_of(arch)
    store = [block.id for block in arch.in_lane("store")]
    used: dict[str, list[int]] = {member: [] for member in store}
    for edge in arch.edges:
        if edge.kind != "store":
            continue
        member, other = (
            (edge.target, edge.source) if edge.target in used else (edge.source, edge.target)
        )
        used[member].append(STAGES.index(lane_of[other]))
    return sorted(store, key=lambda member: (mean(used[member] or [len(STAGES)]), member))


def store_graph(arch: Architecture, links: LinkConfig) -> Any:
    """The store's blocks in one row, in a container of their own, with the legend beneath."""
    import graphviz

    graph = graphviz.Digraph(
        "store",
        graph_attr={**_GRAPH, "rankdir": "TB", "nodesep": "0.2"},
        node_attr=_NODE,
        edge_attr=_EDGE,
    )
    members = store_order(arch)
    with graph.subgraph(name=cluster_id("store")) as cluster:
        cluster.attr(**_container_attrs(lane_title("store"), lane_look("store")))
        for member in members:
            _add_node(cluster, arch.blocks[member], links)
        with cluster.subgraph() as row:
            row.attr(rank="same")
            for member in members:
                row.node(dot_id(member))
        for left, right in zip(members, members[1:], strict=False):
            cluster.edge(dot_id(left), dot_id(right), style="invis")
    graph.node("legend", label=LEGEND, shape="plaintext", fontsize=str(FONT_SIZE - 1))
    if members:
        graph.edge(dot_id(members[len(members) // 2]), "legend", style="invis")
    return graph


def _run(program: list[str], text: str) -> str:
    return subprocess.run(program, input=text, capture_output=True, text=True, check=True).stdout


def positioned(arch: Architecture, links: LinkConfig) -> str:
    """The whole diagram as DOT text with every position and arrow path (see the module)."""
    import graphviz

    stages = [
        stage_graph(arch, lane, links, order).pipe(format="dot", encoding="utf-8")
        for order, lane in enumerate(STAGES, start=1)
    ]
    gap = str(round(GAP * POINTS))
    columns = _run(["gvpack", f"-array_tu{len(stages)}", f"-m{gap}"], "".join(stages))
    store = store_graph(arch, links).pipe(format="dot", encoding="utf-8")
    packed = _run(["gvpack", "-array_u1", f"-m{gap}", "-Gbgcolor=white"], columns + store)
    # The arrows between stages and to the store, for neato to route.
    lane_of = _lane_of(arch)
    routed = graphviz.Digraph(edge_attr=_EDGE)
    for number, edge in enumerate(arch.edges, start=1):
        within = edge.kind in {"data", "after"} and lane_of[edge.source] == lane_of[edge.target]
        if within or edge.kind == "store":
            continue
        target = edge.target
        if target in arch.conditions:  # into the branch: to its first block
            members = [b.id for b in arch.blocks.values() if b.container == target]
            target = ends(arch, members, heads=True)[0]
        routed.edge(dot_id(edge.source), dot_id(target), **_edge_attrs(number, edge))
    line = EDGE_LINES["store"]
    for (lane, store), edges in store_arrows(arch).items():
        writes = any(edge.target == store for edge in edges)
        reads = any(edge.source == store for edge in edges)
        routed.edge(
            anchor_id(lane),
            dot_id(store),
            id=f"store.{lane}.{dot_id(store)}",
            dir="both" if reads and writes else "forward" if writes else "back",
            color=line.colour,
            style=line.pattern,
            penwidth=str(line.width),
            tooltip="; ".join(f"{edge.source} → {edge.target}" for edge in edges),
        )
    body = packed.rstrip().removesuffix("}")
    return body + "".join(routed.body) + "}\n"


def render(arch: Architecture, links: LinkConfig, fmt: str) -> str:
    """The positioned diagram drawn by ``neato -n2`` in ``fmt`` (``svg``, ``json``, ``dot``)."""
    return _run(["neato", "-n2", "-Gsplines=true", f"-T{fmt}"], positioned(arch, links))


def render_svg(arch: Architecture, links: LinkConfig) -> str:
    """The SVG for the README (links and tooltips kept)."""
    return render(arch, links, "svg")


@dataclass(frozen=True)
class Layout:
    """Where Graphviz put everything, in diagrams.net coordinates (top-left, y down)."""

    boxes: dict[str, Box]  # blocks, conditions and lanes (``lane.<id>``)
    titles: dict[str, float]  # the height of each container's title band
    paths: dict[str, list[tuple[float, float]]]  # each arrow's points, by edge id


def _bezier(pos: str, flip: float) -> list[tuple[float, float]]:
    """The on-curve points of a Graphviz edge path (``e,x,y``/``s,x,y`` ends dropped)."""
    points = [part for part in pos.split() if not part.startswith(("e,", "s,"))]
    xy = [tuple(float(v) for v in point.split(",")) for point in points]
    return [(round(x), round(flip - y)) for x, y in xy[::3]]


def layout(arch: Architecture, links: LinkConfig) -> Layout:
    """Read the boxes and arrow paths off the positioned diagram."""
    laid = json.loads(render(arch, links, "json"))
    top = float(laid["bb"].split(",")[3])
    by_dot = {dot_id(key): key for key in [*arch.blocks, *arch.conditions]}
    by_dot |= {dot_id(lane): f"lane.{lane}" for lane in LANES}
    boxes: dict[str, Box] = {}
    titles: dict[str, float] = {}
    for obj in laid.get("objects", []):
        name = obj["name"]
        if name.startswith("cluster_") and "bb" in obj:
            key = by_dot[name.removeprefix("cluster_")]
            x0, y0, x1, y1 = (float(v) for v in obj["bb"].split(","))
            boxes[key] = Box(round(x0), round(top - y1), round(x1 - x0), round(y1 - y0))
            titles[key] = round(float(obj.get("lheight") or 0.0) * POINTS + 8)
        elif name in by_dot and "pos" in obj:
            cx, cy = (float(v) for v in obj["pos"].split(","))
            width, height = float(obj["width"]) * POINTS, float(obj["height"]) * POINTS
            boxes[by_dot[name]] = Box(
                round(cx - width / 2), round(top - cy - height / 2), round(width), round(height)
            )
    paths = {
        edge["id"]: _bezier(edge["pos"], top)
        for edge in laid.get("edges", [])
        if edge.get("id") and edge.get("pos")
    }
    return Layout(boxes, titles, paths)
