"""Writing ``docs/``'s generated files, and telling whether the committed ones are stale.

Stale means different in content, not in bytes: the diagrams.net file is compared block by
block and arrow by arrow with every property (positions left out: they are Graphviz's, and
its versions place things differently); the SVG by its nodes, arrows and containers with
their texts and links (coordinates and Graphviz's version comment left out); the README by its
text. Links are compared by the file they point at (:func:`~pipelines.architecture.links.
link_path`), so links into a repository and relative ones agree.
"""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pipelines.architecture.drawio import to_drawio
from pipelines.architecture.layout import layout, render_svg
from pipelines.architecture.links import LinkConfig, link_path, resolve_links
from pipelines.architecture.specs import ROOT
from pipelines.architecture.tables import TABLES_BEGIN, TABLES_END, render_tables, replace_generated
from pipelines.architecture.walk import build_architecture

DOCS = ROOT / "docs"
DRAWIO_FILE = "architecture.drawio"
SVG_FILE = "architecture.svg"
README_FILE = "README.md"
_SVG = "{http://www.w3.org/2000/svg}"
_XLINK = "{http://www.w3.org/1999/xlink}"
_MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
_START_SIZE = re.compile(r"startSize=[^;]*;")


def generate(
    out: Path = DOCS, links: LinkConfig | None = None, root: Path = ROOT, readme: Path | None = None
) -> list[Path]:
    """Write the drawio file, the SVG and the README tables into ``out``; return the paths.

    Args:
        out: the docs folder to write into.
        links: where block links point (default: :func:`resolve_links`).
        root: the project root holding the compiled specs.
        readme: the markdown whose tables to regenerate (default ``out/README.md``); skipped
            when it does not exist.
    """
    links = links or resolve_links(root=root)
    arch = build_architecture(root)
    out.mkdir(parents=True, exist_ok=True)
    drawio, svg = out / DRAWIO_FILE, out / SVG_FILE
    drawio.write_text(to_drawio(arch, links, layout(arch, links)), encoding="utf-8")
    svg.write_text(render_svg(arch, links), encoding="utf-8")
    written = [drawio, svg]
    readme = readme or out / README_FILE
    if readme.exists():
        text = replace_generated(
            readme.read_text(encoding="utf-8"), render_tables(arch, links), TABLES_BEGIN, TABLES_END
        )
        (out / README_FILE).write_text(text, encoding="utf-8")
        written.append(out / README_FILE)
    return written


def _path_or_link(link: str) -> str:
    try:
        return link_path(link)
    except ValueError:
        return link


def drawio_content(text: str) -> dict[str, dict[str, str]]:
    """Every cell of a diagrams.net file with its properties, style, parent and ends, by id;
    geometry left out."""
    cells: dict[str, dict[str, str]] = {}
    for element in ET.fromstring(text).iter():
        if element.tag not in {"object", "mxCell"} or "id" not in element.attrib:
            continue
        cell = element if element.tag == "mxCell" else element.find("mxCell")
        content = dict(element.attrib) | (dict(cell.attrib) if cell is not None else {})
        if "link" in content:
            content["link"] = _path_or_link(content["link"])
        if "style" in content:
            content["style"] = _START_SIZE.sub("", content["style"])
        cells[element.attrib["id"]] = content
    return cells


def svg_content(text: str) -> list[tuple[Any, ...]]:
    """The SVG's nodes, arrows and containers: class, title, texts, link and tooltip;
    coordinates and comments (Graphviz's version) left out."""
    found = []
    for group in ET.fromstring(text).iter(f"{_SVG}g"):
        kind = group.get("class")
        if kind not in {"node", "edge", "cluster"}:
            continue
        title = group.findtext(f"{_SVG}title", "")
        texts = tuple(t.text or "" for t in group.iter(f"{_SVG}text"))
        anchors = [a for a in group.iter(f"{_SVG}a")]
        links = tuple(sorted({_path_or_link(a.get(f"{_XLINK}href", "")) for a in anchors}))
        tooltips = tuple(sorted({a.get(f"{_XLINK}title", "") for a in anchors}))
        found.append((kind, title, texts, links, tooltips))
    return sorted(found)


def markdown_content(text: str) -> str:
    """The markdown with each link replaced by the file it points at."""
    return _MARKDOWN_LINK.sub(lambda m: f"]({_path_or_link(m[1])})", text)


_CONTENT = {DRAWIO_FILE: drawio_content, SVG_FILE: svg_content, README_FILE: markdown_content}


def stale_files(docs: Path = DOCS, links: LinkConfig | None = None, root: Path = ROOT) -> list[str]:
    """The generated files of ``docs`` whose content differs from a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp), links, root, readme=docs / README_FILE)
        stale = []
        for path in fresh:
            committed = docs / path.name
            content = _CONTENT[path.name]
            if not committed.exists() or content(committed.read_text(encoding="utf-8")) != content(
                path.read_text(encoding="utf-8")
            ):
                stale.append(path.name)
        return stale
