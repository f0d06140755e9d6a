"""Each component's README is its contract: its Inputs, Outputs, Image and Store sections are
generated from the compiled spec, the Dockerfile and the cluster settings
(``make component-docs``), and these tests fail when a README is stale, when an input or output
of a component or pipeline has no description, or when a README's example does not compile."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from kfp import compiler
from kfp.dsl.base_component import BaseComponent

from lifecycle.images import STAGES
from pipelines.component_docs import BEGIN, END, generated_part, interface, update

ROOT = Path(__file__).resolve().parents[2]
PIPELINE_FILES = sorted((ROOT / "pipelines").glob("*_pipeline.yaml"))
_ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| `(?P<type>[^`]+)` \|(?P<rest>.*)\|$")


def readme(stage: str) -> str:
    return (ROOT / "components" / stage / "README.md").read_text(encoding="utf-8")


def table_rows(text: str, heading: str) -> dict[str, list[str]]:
    """``name -> [type, *cells]`` of the table under ``## heading`` in a README."""
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            cells = [cell.strip() for cell in match["rest"].split(" | ")]
            rows[match["name"]] = [match["type"], *cells]
    return rows


@pytest.mark.parametrize("stage", STAGES)
def test_the_generated_sections_are_current(stage: str) -> None:
    assert not update(stage, check=True), f"components/{stage}/README.md: run make component-docs"


@pytest.mark.parametrize("stage", STAGES)
def test_the_tables_say_what_the_compiled_spec_says(stage: str) -> None:
    spec = yaml.safe_load((ROOT / "components" / stage / "component.yaml").read_text())
    (component,) = spec["components"].values()
    text = readme(stage)
    inputs, outputs = table_rows(text, "Inputs"), table_rows(text, "Outputs")
    declared = component.get("inputDefinitions") or {}
    expected_inputs = {**(declared.get("artifacts") or {}), **(declared.get("parameters") or {})}
    assert set(inputs) == set(expected_inputs)
    for name, value in expected_inputs.items():
        _, default, description = inputs[name]
        assert description == " ".join(value["description"].split())
        if "defaultValue" in value:
            assert yaml.safe_load(default.strip("`")) == value["defaultValue"], name
        elif not value.get("isOptional"):
            assert default == "required", name
        else:  # an artifact left out is none; a parameter left out takes the config's value
            assert default == ("none" if "artifactType" in value else "unset (the config's)")
    produced = component.get("outputDefinitions") or {}
    expected_outputs = {**(produced.get("artifacts") or {}), **(produced.get("parameters") or {})}
    assert set(outputs) == set(expected_outputs)
    for name, value in expected_outputs.items():
        assert outputs[name][1] == " ".join(value["description"].split()), name


@pytest.mark.parametrize("stage", STAGES)
def test_every_input_and_output_of_a_component_is_described(stage: str) -> None:
    inputs, outputs = interface(ROOT / "components" / stage / "component.yaml")
    undocumented = [port.name for port in [*inputs, *outputs] if not port.description]
    assert not undocumented, f"{stage}: no Args:/Returns: text for {undocumented}"


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=lambda path: path.name)
def test_every_pipeline_parameter_is_described(path: Path) -> None:
    spec = next(yaml.safe_load_all(path.read_text()))
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert [name for name, value in parameters.items() if not value.get("description")] == []


@pytest.mark.parametrize("stage", STAGES)
def test_each_readme_has_the_contract_sections(stage: str) -> None:
    text = generated_part(readme(stage), Path(stage))
    for heading in ("## Inputs", "## Outputs", "## Image"):
        assert heading in text
    assert ("## Store and credentials" in text) == (stage != "serve")
    assert ("**Run identity.**" in text) == ("`run_id`" in text)
    assert "```python" in readme(stage), "no example of use in another pipeline"


@pytest.mark.parametrize("stage", STAGES)
def test_the_examples_compile(stage: str, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", readme(stage), re.DOTALL)
    pipelines = []
    for number, block in enumerate(blocks):
        namespace: dict = {}
        # dont_inherit: this module's `from __future__ import annotations` would turn the
        # example's annotations into strings, which KFP cannot read.
        code = compile(block, f"components/{stage}/README.md[{number}]", "exec", dont_inherit=True)
        exec(code, namespace)  # noqa: S102 - the README's own example
        pipelines += [
            value
            for value in namespace.values()
            if isinstance(value, BaseComponent) and value.component_spec.implementation.graph
        ]
    assert pipelines, "no pipeline in the README's examples"
    for pipeline in pipelines:
        compiler.Compiler().compile(pipeline, str(tmp_path / f"{pipeline.name}.yaml"))


def test_a_stale_readme_fails_the_check(tmp_path: Path) -> None:
    for relative in (
        "components/evaluate/README.md",
        "components/evaluate/component.yaml",
        "images/evaluate/Dockerfile",
        "pyproject.toml",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    assert not update("evaluate", tmp_path, check=True)
    spec = tmp_path / "components/evaluate/component.yaml"
    spec.write_text(spec.read_text().replace("The batch's id, recorded", "The batch, recorded"))
    assert update("evaluate", tmp_path, check=True)
    assert update("evaluate", tmp_path)  # rewritten
    assert not update("evaluate", tmp_path, check=True)
    text = (tmp_path / "components/evaluate/README.md").read_text()
    assert "The batch, recorded" in text and text.count(BEGIN) == text.count(END) == 1
