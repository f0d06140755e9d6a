"""``python -m pipelines.component_docs``: the generated sections of each component's README.

Its Inputs and Outputs tables are rendered from the compiled ``components/<stage>/component.yaml``
(whose descriptions, types and defaults come from the component's signature and its ``Args:``
and ``Returns:`` docstring), its Image section from ``images/<stage>/Dockerfile`` and
``pyproject.toml``, its Store section from :mod:`pipelines.cluster`; they go between two markers,
so the README and the spec say the same thing. ``--check`` (and
``tests/docs/test_component_readmes.py``) fails when a README is stale. Everything else in a
README is written by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lifecycle.images import STAGES, image_name
from pipelines.cluster import MINIO_SECRET_ENV, MINIO_SECRET_NAME, STORE_CONFIG_MAP

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- BEGIN GENERATED: interface (make component-docs, from component.yaml) -->"
END = "<!-- END GENERATED: interface -->"
# KFP's parameter types as a component's Python signature spells them.
PARAMETER_TYPES = {
    "STRING": "str",
    "NUMBER_DOUBLE": "float",
    "NUMBER_INTEGER": "int",
    "BOOLEAN": "bool",
    "LIST": "list",
    "STRUCT": "dict",
    "TASK_FINAL_STATUS": "PipelineTaskFinalStatus",
}


# How a stage Dockerfile adds one of the project's extras (images/base/requirements_lock.py).
_INSTALL = re.compile(r"requirements_lock\.py install ([a-z0-9_ -]+?)\s*(?:\\|$)", re.MULTILINE)


class StaleReadmeError(RuntimeError):
    """A README's generated tables differ from its component's spec, or it has no markers."""


@dataclass(frozen=True)
class Port:
    """One input or output of a compiled component, as its README's table shows it."""

    name: str
    type: str
    default: str
    description: str


def _text(value: Any) -> str:
    """One line of table text: the description's lines joined, ``|`` kept out of the cells."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _default(spec: dict[str, Any]) -> str:
    if "defaultValue" in spec:
        return f"`{json.dumps(spec['defaultValue'])}`"
    if not spec.get("isOptional"):
        return "required"
    return "none" if "artifactType" in spec else "unset (the config's)"


def _artifact_type(spec: dict[str, Any], direction: str) -> str:
    kind = spec["artifactType"]["schemaTitle"].removeprefix("system.")
    return f"{direction}[{kind}]"


def interface(spec_path: Path) -> tuple[list[Port], list[Port]]:
    """The inputs (required first, then by name) and outputs (by name) of a compiled component.

    Args:
        spec_path: a ``component.yaml``.

    Returns:
        (inputs, outputs).
    """
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    (component,) = spec["components"].values()
    given = component.get("inputDefinitions") or {}
    inputs = [
        Port(
            name,
            _artifact_type(value, "Input"),
            _default(value),
            _text(value.get("description", "")),
        )
        for name, value in (given.get("artifacts") or {}).items()
    ]
    inputs += [
        Port(
            name,
            PARAMETER_TYPES[value["parameterType"]],
            _default(value),
            _text(value.get("description", "")),
        )
        for name, value in (given.get("parameters") or {}).items()
    ]
    inputs.sort(key=lambda port: (port.default != "required", port.name))
    produced = component.get("outputDefinitions") or {}
    outputs = [
        Port(name, _artifact_type(value, "Output"), "", _text(value.get("description", "")))
        for name, value in (produced.get("artifacts") or {}).items()
    ]
    outputs += [
        Port(name, PARAMETER_TYPES[value["parameterType"]], "", _text(value.get("description", "")))
        for name, value in (produced.get("parameters") or {}).items()
    ]
    outputs.sort(key=lambda port: port.name)
    return inputs, outputs


def image_extras(stage: str, root: Path = ROOT) -> list[str]:
    """The project's extras a stage image installs over the base, from its Dockerfile."""
    text = (root / "images" / stage / "Dockerfile").read_text(encoding="utf-8")
    return [extra for found in _INSTALL.findall(text) for extra in found.split()]


def _requirement_names(requirements: list[str]) -> str:
    return ", ".join(re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0] for line in requirements)


def image_section(stage: str, root: Path = ROOT) -> list[str]:
    """What the stage's image holds: the base and the extras its Dockerfile adds."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    added = image_extras(stage, root)
    name = image_name(stage, "REGISTRY").removeprefix("REGISTRY/")
    lines = [
        "## Image",
        "",
        f"`{name}`, tagged by content (`python -m lifecycle.images --stage {stage}` prints the "
        f"tag), built from `images/{stage}/Dockerfile` on the project base: Python 3.11, the "
        f"project, and what every stage needs ({_requirement_names(project['dependencies'])}).",
    ]
    if added:
        what = "; ".join(f"`{extra}` ({_requirement_names(extras[extra])})" for extra in added)
        lines.append(f"It adds the project's extras {what}, pinned by the base's lock.")
    else:
        lines.append("It adds nothing: no scikit-learn, scipy, matplotlib or server in it.")
    return lines


def store_section(inputs: list[Port]) -> list[str]:
    """The store and credentials contract (every stage but serve reads or writes the store)."""
    keys = ", ".join(f"`{key}` as `{env}`" for key, env in MINIO_SECRET_ENV.items())
    lines = [
        "## Store and credentials",
        "",
        "The task reads the lifecycle store named by the environment variable `STORE` (a folder, "
        "or `minio://HOST:PORT/BUCKET[/PREFIX]`, `minios://` for TLS) with the credentials "
        "`MINIO_ACCESS_KEY` and `MINIO_SECRET_KEY`: never from a parameter. On a cluster "
        f"`STORE` comes from the ConfigMap `{STORE_CONFIG_MAP}` and the keys from the Secret "
        f"`{MINIO_SECRET_NAME}` ({keys}), which `manifests/` deploy; "
        "`pipelines.cluster.configure_task(task, stage)` sets both on a task (and its resources, "
        "retries and caching off). KFP's local runner passes its own environment on.",
    ]
    if any(port.name == "run_id" for port in inputs):
        lines += [
            "",
            "**Run identity.** `run_id` and `task_name` default to KFP's placeholders; every "
            "write is keyed by them and a second attempt of the task (a retry) writes nothing "
            "and returns the first one's outputs. The writes count only once the run is "
            "committed: run the task inside `dsl.ExitHandler` with the `finalize` component "
            "(`pipelines.transaction.run_transaction`), which commits the run or rolls it back.",
        ]
    return lines


def render_interface(stage: str, root: Path = ROOT) -> str:
    """The generated part of a README: its Inputs, Outputs, Image and (when the stage uses the
    store) Store sections, markers included."""
    inputs, outputs = interface(root / "components" / stage / "component.yaml")
    lines = [
        BEGIN,
        "## Inputs",
        "",
        "| name | type | default | description |",
        "| --- | --- | --- | --- |",
        *(f"| `{p.name}` | `{p.type}` | {p.default} | {p.description} |" for p in inputs),
        "",
        "## Outputs",
        "",
        "| name | type | description |",
        "| --- | --- | --- |",
        *(f"| `{p.name}` | `{p.type}` | {p.description} |" for p in outputs),
        "",
        *image_section(stage, root),
    ]
    if stage != "serve":  # serve talks to the Kubernetes API, not to the store
        lines += ["", *store_section(inputs)]
    return "\n".join([*lines, END])


def generated_part(text: str, readme: Path) -> str:
    """The part of a README between the markers (both included).

    Raises:
        StaleReadmeError: the markers are missing or out of order.
    """
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise StaleReadmeError(f"{readme}: no generated interface ({BEGIN} … {END})")
    return text[start : end + len(END)]


def readme_of(stage: str, root: Path = ROOT) -> Path:
    return root / "components" / stage / "README.md"


def update(stage: str, root: Path = ROOT, check: bool = False) -> bool:
    """Bring one README's tables up to date with its spec (or, ``check``, only compare).

    Returns:
        Whether the README was (``check``: would be) changed.

    Raises:
        StaleReadmeError: the README has no markers.
    """
    readme = readme_of(stage, root)
    text = readme.read_text(encoding="utf-8")
    current = generated_part(text, readme)
    wanted = render_interface(stage, root)
    if current == wanted:
        return False
    if not check:
        readme.write_text(text.replace(current, wanted), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a README is stale")
    args = parser.parse_args(argv)
    stale = []
    for stage in STAGES:
        try:
            changed = update(stage, check=args.check)
        except StaleReadmeError as exc:
            print(f"error: {exc}")
            return 1
        if changed:
            stale.append(readme_of(stage).relative_to(ROOT).as_posix())
    if args.check and stale:
        print(f"error: stale interface tables in {', '.join(stale)}: run make component-docs")
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
