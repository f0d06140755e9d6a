"""The generated architecture docs: a valid diagrams.net model of the pipelines, and fresh."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from itertools import combinations
from pathlib import Path

import pytest

from pipelines import architecture as arch
from tests.conftest import skip_or_fail

DRAWIO = arch.DOCS / arch.DRAWIO_FILE


@pytest.fixture(scope="module")
def root() -> ET.Element:
    return ET.parse(DRAWIO).getroot()


@pytest.fixture(scope="module")
def objects(root: ET.Element) -> dict[str, ET.Element]:
    return {obj.get("id"): obj for obj in root.iter("object")}


def _absolute(objects: dict[str, ET.Element], cell_id: str) -> tuple[float, float, float, float]:
    obj = objects[cell_id]
    cell = obj.find("mxCell")
    geometry = cell.find("mxGeometry")
    x, y = float(geometry.get("x")), float(geometry.get("y"))
    parent = cell.get("parent")
    if parent in objects:
        px, py, _, _ = _absolute(objects, parent)
        x, y = x + px, y + py
    return x, y, float(geometry.get("width")), float(geometry.get("height"))


def test_is_an_uncompressed_diagrams_net_file(root: ET.Element) -> None:
    assert root.tag == "mxfile"
    diagram = root.find("diagram")
    assert diagram is not None
    model = diagram.find("mxGraphModel")
    assert model is not None and model.find("root") is not None


def test_an_ellipse_per_component_and_a_rectangle_per_artefact(
    objects: dict[str, ET.Element],
) -> None:
    specs = arch.load_component_specs()
    ovals = [o for o in objects.values() if o.find("mxCell").get("style", "").startswith("ellipse")]
    assert {o.get("label") for o in ovals} == set(specs)
    for oval in ovals:
        spec = specs[oval.get("label")]
        assert oval.get("image") == spec.image
        assert oval.get("description") == spec.description and spec.description
        assert oval.get("source") == spec.source
        for name, kind in spec.inputs.items():
            assert f"{name}: {kind}" in oval.get("inputs")
    model = arch.build_architecture()
    rectangles = {o.get("id") for o in objects.values() if o.get("kind") == "artefact"}
    assert rectangles == {block.id for block in model.artefacts()}
    labels = {
        o.get("label").split("<br>")[0] for o in objects.values() if o.get("kind") == "artefact"
    }
    assert {
        "dataset",
        "model",
        "metrics",
        "report",
        "datasets",
        "model registry",
        "evaluation history",
        "drift log",
        "decision log",
        "experiences",
    } <= labels
    for obj in objects.values():
        style = obj.find("mxCell").get("style", "")
        if obj.get("kind") == "artefact":
            assert not style.startswith(("ellipse", "swimlane"))


def test_every_block_has_properties_and_a_link(objects: dict[str, ET.Element]) -> None:
    for obj in objects.values():
        assert obj.get("description"), obj.get("id")
        assert obj.get("link"), obj.get("id")
        source = obj.get("source")
        assert source and (arch.ROOT / source).exists(), source
        if obj.get("kind") in {"component", "artefact"}:
            assert obj.get("inputs") is not None and obj.get("outputs") is not None


def test_arrows_for_inputs_and_outputs(root: ET.Element, objects: dict[str, ET.Element]) -> None:
    edges = [
        (c.get("source"), c.get("target")) for c in root.iter("mxCell") if c.get("edge") == "1"
    ]
    assert all(s in objects and t in objects for s, t in edges)
    ends = {end for edge in edges for end in edge}
    for obj in objects.values():
        if obj.get("kind") in {"component", "artefact"}:
            assert obj.get("id") in ends, f"{obj.get('id')} has no arrow"
    # The retrained model is written to the registry; drift detection reads the history.
    assert ("monitoring.drift-detected.train", "store.registry") in edges
    assert ("store.evaluation", "monitoring.detect-drift") in edges


def test_no_two_blocks_overlap(objects: dict[str, ET.Element]) -> None:
    blocks = [i for i, o in objects.items() if o.get("kind") in {"component", "artefact"}]
    boxes = {i: arch.Box(*_absolute(objects, i)) for i in blocks}
    for a, b in combinations(blocks, 2):
        assert not boxes[a].overlaps(boxes[b]), f"{a} overlaps {b}"
    lanes = [i for i, o in objects.items() if o.get("kind") == "stage"]
    for a, b in combinations(lanes, 2):
        assert not arch.Box(*_absolute(objects, a)).overlaps(arch.Box(*_absolute(objects, b)))


def test_a_container_per_stage_and_the_conditional_branch(objects: dict[str, ET.Element]) -> None:
    lanes = {o.get("id"): o for o in objects.values() if o.get("kind") == "stage"}
    assert set(lanes) == {f"lane.{lane}" for lane in arch.LANE_ORDER}
    assert all(o.find("mxCell").get("style").startswith("swimlane") for o in lanes.values())
    stages = [lane for lane in arch.LANE_ORDER if lane != "store"]
    xs = [_absolute(objects, f"lane.{lane}")[0] for lane in stages]
    assert xs == sorted(xs), "stages are not left to right"
    parent = {i: o.find("mxCell").get("parent") for i, o in objects.items()}
    assert parent["validate"] == parent["ingest"] == "lane.data"
    assert parent["training.train"] == parent["training.evaluate"] == "lane.modelling"
    assert parent["monitoring.detect-drift"] == "lane.monitoring"
    (condition,) = [o for o in objects.values() if o.get("kind") == "condition"]
    assert "dashed=1" in condition.find("mxCell").get("style")
    assert "detect-drift-Output == true" in condition.get("label")
    assert parent[condition.get("id")] == "lane.retraining"
    inside = {
        o.get("label")
        for i, o in objects.items()
        if parent[i] == condition.get("id") and o.get("kind") == "component"
    }
    assert inside == {"select_data", "train", "evaluate", "promote"}


def test_store_access_is_read_from_the_logic() -> None:
    access = arch.store_access(arch.ROOT / "components" / "detect_drift")
    assert {
        ("store.evaluation", "read"),
        ("store.drift", "write"),
        ("store.decisions", "write"),
    } <= access
    assert ("store.registry", "write") in arch.store_access(arch.ROOT / "components" / "promote")


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("git@github.com:acme/lifecycle.git", "https://github.com/acme/lifecycle"),
        ("https://github.com/acme/lifecycle.git", "https://github.com/acme/lifecycle"),
        ("ssh://git@gitlab.example/acme/lifecycle.git", "https://gitlab.example/acme/lifecycle"),
        ("/srv/git/lifecycle.git", None),
    ],
)
def test_repo_url_from_the_remote(tmp_path: Path, remote: str, expected: str | None) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", remote], check=True)
    assert arch.repo_url_from_git(tmp_path) == expected
    links = arch.LinkConfig(expected)
    assert links.link("a/b.py") == (f"{expected}/blob/main/a/b.py" if expected else "../a/b.py")


def test_docs_are_not_stale() -> None:
    if shutil.which("dot") is None:
        skip_or_fail("Graphviz `dot` is not installed (apt-get install graphviz)")
    # Regenerate with the links the committed file has, so a clone with another remote agrees.
    link = ET.parse(DRAWIO).getroot().find(".//object[@id='validate']").get("link")
    repo_url = link.split("/blob/")[0] if "/blob/" in link else ""
    ref = link.split("/blob/")[1].split("/")[0] if "/blob/" in link else None
    stale = arch.stale_files(links=arch.LinkConfig.resolve(repo_url, ref))
    assert not stale, f"{stale} stale: run `make diagram`"
