"""The committed diagrams.net model against the compiled pipelines, read here on their own.

Every expectation comes from the compiled lifecycle pipelines (``PIPELINE_FILES``; and
``lifecycle/keys.py`` for the store), not from the generator: an oval per task, a rectangle per
artifact a task outputs and per file a pipeline reads, an arrow per input, output and
``.after()``, the ``dsl.If`` container holding exactly its tasks, every link naming an existing
file; then the layout (columns left to right, nothing overlapping, children inside their
containers) and staleness.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml

from lifecycle import keys
from pipelines.architecture.generate import (
    DOCS,
    DRAWIO_FILE,
    SVG_FILE,
    drawio_content,
    generate,
    stale_files,
    svg_content,
)
from pipelines.architecture.links import LinkConfig, link_path, repo_url_from_git, resolve_links
from pipelines.architecture.model import Box
from pipelines.architecture.specs import PIPELINE_FILES
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
DRAWIO = DOCS / DRAWIO_FILE
PIPELINES = sorted(ROOT / name for name in PIPELINE_FILES)
STAGES = ("data", "modelling", "monitoring", "retraining")
# Where the monitoring run's scoring sits: in the exit handler's body, past the new-batch gate.
BRANCHES = "run-transaction / new-batch"


def needs_graphviz() -> None:
    missing = [p for p in ("dot", "gvpack", "neato") if shutil.which(p) is None]
    if missing:
        skip_or_fail(f"Graphviz {missing} not installed (apt-get install graphviz)")


# ---------------------------------------------------------------------------------------------
# The compiled pipelines, read independently of pipelines.architecture


@dataclass(frozen=True)
class Task:
    pipeline: str  # pipelineInfo.name
    path: tuple[str, ...]  # the groups it sits in: the exit handler's body, dsl.If branches
    name: str
    spec: dict[str, Any]
    component: dict[str, Any]

    @property
    def where(self) -> tuple[str, str]:
        """How the drawio file names it: its pipeline and ``branch / task``."""
        return self.pipeline, " / ".join([*self.path, self.name])


def _tasks(spec: dict[str, Any]) -> tuple[list[Task], dict[str, tuple[str, ...]]]:
    """Every task of a pipeline spec, and the tasks inside each group (by group name)."""
    pipeline, components = spec["pipelineInfo"]["name"], spec["components"]
    tasks: list[Task] = []
    branches: dict[str, tuple[str, ...]] = {}

    def walk(dag: dict[str, Any], path: tuple[str, ...]) -> None:
        for name, task in dag["tasks"].items():
            component = components[task["componentRef"]["name"]]
            if "dag" in component:
                branch = task["taskInfo"]["name"]
                branches[branch] = tuple(component["dag"]["tasks"])
                walk(component["dag"], (*path, branch))
            else:
                tasks.append(Task(pipeline, path, name, task, component))

    walk(spec["root"]["dag"], ())
    return tasks, branches


@pytest.fixture(scope="module")
def specs() -> list[dict[str, Any]]:
    return [next(yaml.safe_load_all(path.read_text(encoding="utf-8"))) for path in PIPELINES]


@pytest.fixture(scope="module")
def tasks(specs) -> list[Task]:
    return [task for spec in specs for task in _tasks(spec)[0]]


@pytest.fixture(scope="module")
def drawio() -> ET.Element:
    return ET.parse(DRAWIO).getroot()


@pytest.fixture(scope="module")
def objects(drawio) -> dict[str, ET.Element]:
    return {obj.get("id"): obj for obj in drawio.iter("object")}


@pytest.fixture(scope="module")
def ovals(objects) -> dict[tuple[str, str], str]:
    """Each oval's id by (pipeline, task)."""
    found = [o for o in objects.values() if o.find("mxCell").get("style", "").startswith("ellipse")]
    where = Counter((o.get("pipeline"), o.get("task")) for o in found)
    assert all(count == 1 for count in where.values()), where
    return {(o.get("pipeline"), o.get("task")): o.get("id") for o in found}


@pytest.fixture(scope="module")
def rectangles(objects) -> list[ET.Element]:
    return [
        o
        for o in objects.values()
        if o.find("mxCell").get("vertex") == "1"
        and not o.find("mxCell").get("style", "").startswith(("ellipse", "swimlane"))
    ]


@pytest.fixture(scope="module")
def edges(objects) -> list[tuple[str, str, str]]:
    """(source, target, relation) of every arrow."""
    found = []
    for obj in objects.values():
        cell = obj.find("mxCell")
        if cell.get("edge") == "1":
            found.append((cell.get("source"), cell.get("target"), obj.get("relation")))
    return found


def _artefact_of(rectangles: list[ET.Element], task: Task, output: str) -> str:
    (found,) = [
        r.get("id")
        for r in rectangles
        if (r.get("pipeline"), r.get("task")) == task.where and r.get("label").startswith(output)
    ]
    return found


def _source_of(rectangles: list[ET.Element], pipeline: str, parameter: str) -> str:
    (found,) = [
        r.get("id")
        for r in rectangles
        if r.get("pipeline") == pipeline and r.get("pipeline_input") == parameter
    ]
    return found


# ---------------------------------------------------------------------------------------------
# The file and its blocks


def test_is_an_uncompressed_diagrams_net_file(drawio: ET.Element) -> None:
    assert drawio.tag == "mxfile"
    model = drawio.find("diagram/mxGraphModel")
    assert model is not None and model.find("root") is not None
    assert model.find("root/mxCell[@id='0']") is not None


def test_one_oval_per_task(tasks: list[Task], ovals) -> None:
    assert sorted(ovals) == sorted(task.where for task in tasks)
    # 9 training tasks (serve after promote), 9 monitoring ones (finalize each).
    assert len(ovals) == len(tasks) == 18


def test_each_oval_carries_its_components_properties(tasks: list[Task], ovals, objects) -> None:
    executors = {}
    for path in PIPELINES:
        spec = next(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        executors |= {
            name: executor["container"]["image"]
            for name, executor in spec["deploymentSpec"]["executors"].items()
        }
    for task in tasks:
        oval = objects[ovals[task.where]]
        stage = oval.get("source").split("/")[1]
        module = importlib.import_module(f"components.{stage}.component")
        function = getattr(module, oval.get("label")).python_func
        assert oval.get("description").startswith(function.__doc__.split("\n")[0].strip())
        assert oval.get("image") == executors[task.component["executorLabel"]]
        definitions = task.component.get("inputDefinitions", {})
        for kind, field in (("artifacts", "artifactType"), ("parameters", "parameterType")):
            for name, value in (definitions.get(kind) or {}).items():
                typed = value[field]["schemaTitle"] if kind == "artifacts" else value[field]
                assert f"{name}: {typed}" in oval.get("inputs").split("; "), (task, name)


def test_one_rectangle_per_task_artifact_per_source_and_per_store_area(
    tasks: list[Task], rectangles: list[ET.Element], specs
) -> None:
    expected = Counter()
    for task in tasks:
        for output in task.component.get("outputDefinitions", {}).get("artifacts") or {}:
            expected[(task.where, output)] += 1
    found = Counter(
        ((r.get("pipeline"), r.get("task")), r.get("label").split("<br>")[0])
        for r in rectangles
        if r.get("task")
    )
    assert found == expected
    # training: two ingest datasets, two validate reports; not one collapsed "dataset".
    datasets = [r for r in rectangles if r.get("label").startswith("dataset<br>")]
    assert len(datasets) == 4
    sources = {(r.get("pipeline"), r.get("pipeline_input")) for r in rectangles}
    for spec in specs:
        for task in _tasks(spec)[0]:
            wired = (task.spec.get("inputs", {}).get("parameters") or {}).get("source")
            if wired and "componentInputParameter" in wired:
                parameter = wired["componentInputParameter"].removeprefix("pipelinechannel--")
                assert (task.pipeline, parameter) in sources
    store = {r.get("type") for r in rectangles if r.find("mxCell").get("parent") == "lane.store"}
    assert store == {
        f"{keys.DATASETS}/",
        f"{keys.MODELS}/",
        f"{keys.EXPERIENCES}/",
        f"{keys.COMMITS}/",
        f"{keys.RUNS}/",
        f"{keys.TASK_RESULTS}/",
        f"{keys.DATASET_USES}/",
        keys.EVALUATION_VIEW,
        keys.DRIFT_VIEW,
        keys.DECISION_VIEW,
    }


# ---------------------------------------------------------------------------------------------
# Arrows


def test_an_arrow_per_input_output_and_after(
    specs, ovals, rectangles: list[ET.Element], edges
) -> None:
    pairs = {(source, target) for source, target, _ in edges}
    after = {(source, target) for source, target, relation in edges if relation == "after"}
    checked = 0
    for spec in specs:
        tasks, _ = _tasks(spec)
        by_name = {(task.path, task.name): task for task in tasks}
        pipeline = spec["pipelineInfo"]["name"]
        # Channels of each group: what feeds its componentInput* names, from its parent DAG.
        channels: dict[tuple[str, ...], dict[str, dict]] = {}

        def collect(
            dag: dict, path: tuple[str, ...], channels: dict = channels, spec: dict = spec
        ) -> None:
            for task in dag["tasks"].values():
                component = spec["components"][task["componentRef"]["name"]]
                if "dag" in component:
                    inner = (*path, task["taskInfo"]["name"])
                    inputs = task.get("inputs") or {}
                    channels[inner] = {
                        **(inputs.get("artifacts") or {}),
                        **(inputs.get("parameters") or {}),
                    }
                    collect(component["dag"], inner)

        collect(spec["root"]["dag"], ())
        # KFP names a task once per pipeline: a reference names its producer wherever it is.
        producers = {task.name: task for task in tasks}

        def producer(
            path: tuple[str, ...], reference: dict, channels: dict = channels
        ) -> dict | None:
            """The reference an input resolves to, through the groups it sits in."""
            if "taskOutputArtifact" in reference or "taskOutputParameter" in reference:
                return reference
            channel = reference.get("componentInputArtifact") or reference.get(
                "componentInputParameter"
            )
            if channel and path:
                return producer(path[:-1], channels[path][channel])
            return reference if channel else None

        for task in tasks:
            oval = ovals[task.where]
            for output in task.component.get("outputDefinitions", {}).get("artifacts") or {}:
                assert (oval, _artefact_of(rectangles, task, output)) in pairs
                checked += 1
            inputs = task.spec.get("inputs", {})
            references = {**(inputs.get("artifacts") or {}), **(inputs.get("parameters") or {})}
            for name, reference in references.items():
                ref = producer(task.path, reference)
                if ref is None:
                    continue
                if "taskOutputArtifact" in ref:
                    out = ref["taskOutputArtifact"]
                    source_task = producers[out["producerTask"]]
                    source = _artefact_of(rectangles, source_task, out["outputArtifactKey"])
                elif "taskOutputParameter" in ref:
                    source_task = producers[ref["taskOutputParameter"]["producerTask"]]
                    source = ovals[source_task.where]
                elif name == "source":
                    source = _source_of(rectangles, pipeline, ref["componentInputParameter"])
                else:
                    continue  # configuration: config_json, names, batch ids
                assert (source, oval) in pairs, (task.where, name)
                checked += 1
            fed_by = {
                ref[kind]["producerTask"]
                for ref in references.values()
                for kind in ("taskOutputArtifact", "taskOutputParameter")
                if kind in ref
            }
            for dependency in task.spec.get("dependentTasks") or []:
                if dependency not in fed_by and (task.path, dependency) in by_name:
                    assert (ovals[by_name[(task.path, dependency)].where], oval) in after
                    checked += 1
    assert checked > 40
    # validate→ingest ×2 (training), promote→serve (promote takes the evaluations' metrics)
    assert len(after) == 3


def test_the_order_only_arrows_are_dotted(objects, edges) -> None:
    styles = {
        (o.find("mxCell").get("source"), o.find("mxCell").get("target")): o.find("mxCell").get(
            "style"
        )
        for o in objects.values()
        if o.get("relation") == "after"
    }
    assert styles and all("dashPattern" in style for style in styles.values())


def test_the_store_arrows_are_read_from_the_stage_logic(ovals, edges) -> None:
    store = {(s, t) for s, t, relation in edges if relation == "store"}
    retrain = ovals[("lifecycle-monitoring", f"{BRANCHES} / drift-detected / train")]
    drift = ovals[("lifecycle-monitoring", f"{BRANCHES} / detect-drift")]
    assert (retrain, "store.models") in store
    assert ("store.evaluation", drift) in store
    assert (drift, "store.drift") in store and (drift, "store.decision") in store
    ingests = [ovals[w] for w in ovals if w[1].startswith("ingest")]
    assert all((oval, "store.datasets") in store for oval in ingests)


# ---------------------------------------------------------------------------------------------
# Containers, properties, links


def test_the_branch_container_holds_exactly_the_tasks_inside_dsl_if(specs, objects, ovals):
    parent = {i: o.find("mxCell").get("parent") for i, o in objects.items()}
    conditions = [o for o in objects.values() if o.get("kind") == "condition"]
    expected = {}
    for spec in specs:
        for branch, names in _tasks(spec)[1].items():
            if branch == "drift-detected":  # the retraining branch; the others run as they go
                expected[(spec["pipelineInfo"]["name"], branch)] = set(names)
    assert len(conditions) == len(expected) == 1
    (condition,) = conditions
    assert "dashed=1" in condition.find("mxCell").get("style")
    assert "detect-drift-Output == true" in condition.get("label")
    assert parent[condition.get("id")] == "lane.retraining"
    inside = {
        where[1].split(" / ")[-1]
        for where, oval in ovals.items()
        if parent[oval] == condition.get("id")
    }
    assert inside == expected[(condition.get("pipeline"), condition.get("task"))]
    # The condition's trigger: the arrow from the task whose output it tests.
    triggers = [
        (o.find("mxCell").get("source"), o.find("mxCell").get("target"))
        for o in objects.values()
        if o.get("relation") == "trigger"
    ]
    assert sorted(triggers) == sorted(
        [
            (ovals[("lifecycle-monitoring", f"{BRANCHES} / detect-drift")], condition.get("id")),
            # the new-batch gate: validate's answer lets the batch's first task run
            (
                ovals[("lifecycle-monitoring", "run-transaction / validate")],
                ovals[("lifecycle-monitoring", f"{BRANCHES} / ingest")],
            ),
        ]
    )


def test_a_vertical_container_per_stage_left_to_right(objects, ovals) -> None:
    lanes = {o.get("id"): o for o in objects.values() if o.get("kind") == "stage"}
    assert set(lanes) == {f"lane.{stage}" for stage in STAGES}
    assert all(o.find("mxCell").get("style").startswith("swimlane") for o in lanes.values())
    boxes = [Box(*_absolute(objects, f"lane.{stage}")) for stage in STAGES]
    assert [b.x for b in boxes] == sorted(b.x for b in boxes), "stages not left to right"
    assert all(b.height >= b.width for b in boxes), "a stage is not a column"
    assert len({b.y for b in boxes}) == 1, "stages do not start at the same height"
    parent = {i: o.find("mxCell").get("parent") for i, o in objects.items()}
    lane_of = {w: parent[oval] for w, oval in ovals.items()}
    task_of = {w: w[1].split(" / ")[-1] for w in ovals}
    data = {lane_of[w] for w in ovals if task_of[w].split("-")[0] in {"validate", "ingest"}}
    assert data == {"lane.data"}
    assert lane_of[("lifecycle-training", "run-transaction / train")] == "lane.modelling"
    assert lane_of[("lifecycle-monitoring", f"{BRANCHES} / detect-drift")] == "lane.monitoring"
    assert lane_of[("lifecycle-monitoring", "finalize")] == "lane.monitoring"


def test_every_block_has_properties_and_a_link_to_an_existing_file(objects) -> None:
    for obj in objects.values():
        if obj.get("kind") == "edge":
            continue
        assert obj.get("description"), obj.get("id")
        source = obj.get("source")
        assert link_path(obj.get("link")) == source, obj.get("id")
        assert (ROOT / source).exists(), source
        if obj.get("kind") in {"component", "artefact"}:
            assert "inputs" in obj.attrib and "outputs" in obj.attrib


# ---------------------------------------------------------------------------------------------
# Layout


def _absolute(objects: dict[str, ET.Element], cell_id: str) -> tuple[float, float, float, float]:
    cell = objects[cell_id].find("mxCell")
    geometry = cell.find("mxGeometry")
    x, y = float(geometry.get("x")), float(geometry.get("y"))
    if cell.get("parent") in objects:
        px, py, _, _ = _absolute(objects, cell.get("parent"))
        x, y = x + px, y + py
    return x, y, float(geometry.get("width")), float(geometry.get("height"))


def test_no_two_blocks_or_containers_overlap(objects) -> None:
    blocks = [i for i, o in objects.items() if o.get("kind") in {"component", "artefact"}]
    boxes = {i: Box(*_absolute(objects, i)) for i in blocks}
    for a, b in combinations(blocks, 2):
        assert not boxes[a].overlaps(boxes[b]), f"{a} overlaps {b}"
    lanes = [i for i, o in objects.items() if o.get("kind") in {"stage", "store"}]
    for a, b in combinations(lanes, 2):
        assert not Box(*_absolute(objects, a)).overlaps(Box(*_absolute(objects, b)))


def test_children_sit_inside_their_container_below_its_title(objects) -> None:
    for cell_id, obj in objects.items():
        parent = obj.find("mxCell").get("parent")
        if parent not in objects:
            continue
        outer, inner = Box(*_absolute(objects, parent)), Box(*_absolute(objects, cell_id))
        title = float(
            re.search(r"startSize=([\d.]+)", objects[parent].find("mxCell").get("style"))[1]
        )
        assert outer.contains(inner), (cell_id, parent)
        assert inner.y >= outer.y + title, f"{cell_id} under the title of {parent}"


def test_the_svg_is_readable_at_1000_pixels() -> None:
    root = ET.parse(DOCS / SVG_FILE).getroot()
    width = float(root.get("width").removesuffix("pt"))
    # 13 pt labels stay at 10 px or more when the README shows the SVG 1000 px wide.
    assert 13 * 1000 / width >= 10, width
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "select_data" in texts and "detect_drift" in texts


# ---------------------------------------------------------------------------------------------
# Links and staleness


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("git@github.com:acme/lifecycle.git", "https://github.com/acme/lifecycle"),
        ("https://github.com/acme/lifecycle.git", "https://github.com/acme/lifecycle"),
        ("ssh://git@gitlab.example/acme/lifecycle.git", "https://gitlab.example/acme/lifecycle"),
        ("/srv/git/lifecycle.git", None),
    ],
)
def test_links_follow_one_rule(tmp_path: Path, monkeypatch, remote: str, expected) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", remote], check=True)
    assert repo_url_from_git(tmp_path) == expected
    monkeypatch.delenv("REPO_URL", raising=False)
    monkeypatch.delenv("REPO_REF", raising=False)
    links = resolve_links(root=tmp_path)
    assert links.link("a/b.py") == (f"{expected}/blob/main/a/b.py" if expected else "../a/b.py")
    assert link_path(links.link("a/b.py")) == "a/b.py"
    monkeypatch.setenv("REPO_URL", "https://example.org/x/y")
    assert resolve_links(root=tmp_path).link("a") == "https://example.org/x/y/blob/main/a"
    assert resolve_links("", root=tmp_path).link("a") == "../a"


def test_content_comparison_ignores_graphviz_version_coordinates_and_link_base() -> None:
    svg = (DOCS / SVG_FILE).read_text(encoding="utf-8")
    other = re.sub(r"graphviz version [^\n]*", "graphviz version 99.0 (0)", svg)
    other = re.sub(r'(points|x|y|cx|cy|d)="[^"]*"', r'\1="0"', other)
    other = other.replace('href="../', 'href="https://github.com/acme/lifecycle/blob/main/')
    assert svg_content(other) == svg_content(svg)
    drawio = DRAWIO.read_text(encoding="utf-8")
    moved = re.sub(r' (x|y|width)="[\d.-]+"', r' \1="7"', drawio).replace(
        'link="../', 'link="https://gitlab.example/a/b/blob/dev/'
    )
    assert drawio_content(moved) == drawio_content(drawio)
    changed = drawio.replace('label="select_data"', 'label="pick_data"', 1)
    assert drawio_content(changed) != drawio_content(drawio)


def test_docs_are_not_stale() -> None:
    needs_graphviz()
    stale = stale_files()
    assert not stale, f"{stale} stale: run `make diagram`"


def test_docs_written_with_repository_links_are_not_stale(tmp_path: Path) -> None:
    needs_graphviz()
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(DOCS / "README.md", docs / "README.md")
    generate(docs, LinkConfig("https://github.com/acme/lifecycle", "v1"))
    assert 'link="https://github.com/acme/lifecycle/blob/v1/' in (docs / DRAWIO_FILE).read_text()
    assert stale_files(docs, LinkConfig()) == []
