"""The component and artefact tables of ``docs/README.md``, from the same model as the diagram."""

from __future__ import annotations

from pipelines.architecture.links import LinkConfig
from pipelines.architecture.model import LANES, Architecture

TABLES_BEGIN = "<!-- BEGIN GENERATED: architecture tables (make diagram) -->"
TABLES_END = "<!-- END GENERATED: architecture tables -->"
_LANE_ORDER = tuple(LANES)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_tables(arch: Architecture, links: LinkConfig) -> str:
    """Markdown tables: one row per component (with the stages it runs in), one per artefact."""
    lines = [
        "### Components",
        "",
        "| component | stage | what it does | inputs | outputs | image |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    components = sorted(arch.components(), key=lambda b: (_LANE_ORDER.index(b.lane), b.id))
    seen: set[str] = set()
    for block in components:
        if block.label in seen:
            continue
        seen.add(block.label)
        lanes = sorted(
            {b.lane for b in components if b.label == block.label}, key=_LANE_ORDER.index
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
    for block in sorted(arch.artefacts(), key=lambda b: (_LANE_ORDER.index(b.lane), b.id)):
        writers = sorted({arch.blocks[e.source].label for e in arch.edges if e.target == block.id})
        readers = sorted({arch.blocks[e.target].label for e in arch.edges if e.source == block.id})
        lines.append(
            f"| {block.label} (`{block.id}`) | {block.lane} | `{block.type}` "
            f"| {', '.join(writers) or 'pipeline input'} "
            f"| {', '.join(readers) or '—'} | {_cell(block.description)} |"
        )
    return "\n".join(lines) + "\n"


def replace_generated(markdown: str, block: str, begin: str, end: str) -> str:
    """Put ``block`` between the ``begin`` and ``end`` markers of ``markdown``.

    Raises:
        ValueError: the markers are missing.
    """
    start, stop = markdown.find(begin), markdown.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"markers {begin!r} … {end!r} not found")
    return markdown[: start + len(begin)] + "\n" + block + markdown[stop:]
