"""What each stage's image must import, and what it must not hold: shared by the unit test
(imports blocked in a subprocess) and the Docker test (inside each stage image)."""

from __future__ import annotations

import ast
import inspect
import re
import tomllib
from pathlib import Path

from pipelines.component_docs import image_extras

ROOT = Path(__file__).resolve().parent.parent
# A distribution's import name, where it is not the distribution's own name.
IMPORT_NAMES = {"scikit-learn": "sklearn"}


def extra_modules() -> dict[str, list[str]]:
    """``extra -> top-level modules`` of the project's image extras (pyproject.toml)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    modules = {}
    for extra in ("model", "report", "serve"):
        names = [re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0] for line in extras[extra]]
        modules[extra] = [IMPORT_NAMES.get(name, name.replace("-", "_").lower()) for name in names]
    return modules


def absent_modules(stage: str) -> list[str]:
    """The heavy modules a stage's image leaves out: those of the extras it does not install."""
    installed = set(image_extras(stage))
    modules = extra_modules()
    return sorted(m for extra, names in modules.items() if extra not in installed for m in names)


def present_modules(stage: str) -> list[str]:
    """The modules of the extras a stage's image installs."""
    return sorted(m for extra in image_extras(stage) for m in extra_modules()[extra])


# Entry points of an image besides its KFP component: the serve image runs the server.
OTHER_ENTRIES = {"serve": ["import granian", "from components.serve.factory import build_app"]}


def entry_imports(stage: str) -> list[str]:
    """The stage's entry point as KFP runs it, as import statements: its component module, then
    every import its component's function makes when it runs (read from its source)."""
    import importlib

    module = importlib.import_module(f"components.{stage}.component")
    function = getattr(module, stage).python_func
    tree = ast.parse(inspect.getsource(function).lstrip())
    found = [f"import {module.__name__}"]
    imports = (ast.Import, ast.ImportFrom)
    found += [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, imports)]
    return list(dict.fromkeys([*found, *OTHER_ENTRIES.get(stage, [])]))


def import_check_script(stage: str) -> str:
    """Python source that runs the stage's entry imports, then prints each heavy module's
    presence as ``name=0|1`` (run inside the stage's image)."""
    return "\n".join(
        [
            "import importlib.util",
            *entry_imports(stage),
            "for name in " + repr(absent_modules(stage) + present_modules(stage)) + ":",
            "    print(f'{name}={int(importlib.util.find_spec(name) is not None)}')",
        ]
    )


def blocker(modules: list[str]) -> str:
    """Python source that makes importing any of ``modules`` (or their submodules) fail, as in
    an image that does not hold them."""
    return "\n".join(
        [
            "import sys",
            "class _LeftOut:",
            f"    names = frozenset({sorted(modules)!r})",
            "    def find_spec(self, name, path=None, target=None):",
            "        if name.split('.')[0] in self.names:",
            "            raise ModuleNotFoundError(f'{name} is not in this image', name=name)",
            "sys.meta_path.insert(0, _LeftOut())",
        ]
    )
