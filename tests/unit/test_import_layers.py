"""The packages are floors: ``lifecycle`` (the core: store, registry, histories, config) at the
bottom, ``components`` (the stages) on it, ``pipelines`` on both, and ``cli`` (the ``lifecycle``
command) on top. A module imports only from its own floor and those below, lazily or not."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOORS = ("lifecycle", "components", "pipelines", "cli")


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """The project packages a module imports (at its top or inside a function), with lines."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {
            (name.split(".")[0], node.lineno) for name in names if name.split(".")[0] in FLOORS
        }
    return found


@pytest.mark.parametrize("floor", FLOORS)
def test_a_floor_imports_nothing_from_the_floors_above(floor: str) -> None:
    above = set(FLOORS[FLOORS.index(floor) + 1 :])
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {package}"
        for path in sorted((ROOT / floor).rglob("*.py"))
        for package, line in imported_packages(path)
        if package in above
    ]
    assert offending == []


def test_the_check_finds_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from pipelines.local import run\n    import cli.main\n")
    assert imported_packages(module) == {("pipelines", 2), ("cli", 3)}


def test_the_lifecycle_command_is_the_cli_on_top() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"lifecycle": "cli.main:main"}
