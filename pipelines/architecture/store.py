"""The store's areas, derived from ``lifecycle/keys.py``, and which stages read or write them.

``keys.py`` names every key of the store. Its naming says what each constant is: ``<X>_VIEW``
is the CSV view of a history (its records under ``<X>_RECORDS``), ``<X>_FILE`` a file name,
``<X>_ALIAS`` an alias; every other string constant is an area (a top-level prefix). The
functions of ``keys.py`` that build on an area are its key helpers.

Each artefact has accessors, the names a stage calls to reach it: for a history, the function
of ``lifecycle/`` that opens its view; for an area, the public functions and classes taking a
``store`` in the ``lifecycle/`` module that builds most of its keys (and its key helpers). A
stage reads or writes what its logic modules call (see :func:`store_access`).
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipelines.architecture.specs import ROOT

KEYS_FILE = "lifecycle/keys.py"
PACKAGE_DIR = "lifecycle"
NOT_AREAS = ("_VIEW", "_RECORDS", "_FILE", "_ALIAS")
VIEW_SUFFIX = "_VIEW"
# A call whose name starts with one of these writes; any other call of an accessor reads.
WRITE_VERBS = ("write", "register", "set_", "append", "put", "save")
# Areas of keys.py that no drawn pipeline's stage reads or writes: the served and batch
# predictions (written by `lifecycle serve` and the batch-scoring pipeline; README's store layout
# lists them).
UNDRAWN_AREAS = frozenset({"PREDICTIONS"})
# Modules of a stage that are not its logic: the KFP adapter, the course's pure tests.
NOT_LOGIC = ("component.py", "__init__.py")

Direction = Literal["read", "write"]
Access = tuple[str, Direction]


@dataclass(frozen=True)
class StoreArtefact:
    """An area or a history of the store, as ``keys.py`` lays it out."""

    id: str
    label: str
    key: str
    description: str
    source: str
    accessors: frozenset[str]  # functions or classes of lifecycle/ that reach it
    helpers: frozenset[str]  # keys.py functions that build its keys


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _constants(tree: ast.Module) -> dict[str, str]:
    """The module-level ``NAME = "text"`` assignments."""
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    found[target.id] = node.value.value
    return found


def _helpers_of(tree: ast.Module, constant: str) -> set[str]:
    """The functions of ``keys.py`` that use ``constant``, directly or through one another."""
    uses = {
        node.name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    found: set[str] = set()
    frontier = {constant}
    while frontier:
        new = {name for name, used in uses.items() if used & frontier} - found
        found |= new
        frontier = new
    return found


def _keys_references(node: ast.AST) -> Iterator[str]:
    """Every ``keys.NAME`` in ``node``."""
    for child in ast.walk(node):
        if (
            isinstance(child, ast.Attribute)
            and isinstance(child.value, ast.Name)
            and child.value.id == "keys"
        ):
            yield child.attr


def _takes_store(node: ast.AST) -> bool:
    if isinstance(node, ast.ClassDef):
        init = next(
            (n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None
        )
        return init is not None and _takes_store(init)
    if isinstance(node, ast.FunctionDef):
        return any(arg.arg == "store" for arg in node.args.args)
    return False


def _public_definitions(tree: ast.Module) -> list[ast.FunctionDef | ast.ClassDef]:
    return [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
    ]


def store_artefacts(root: Path = ROOT) -> list[StoreArtefact]:
    """The areas and histories of the store, in the order ``keys.py`` defines them."""
    keys_tree = _parse(root / KEYS_FILE)
    modules = {
        path.relative_to(root).as_posix(): _parse(path)
        for path in sorted((root / PACKAGE_DIR).glob("*.py"))
        if path.relative_to(root).as_posix() != KEYS_FILE
    }
    artefacts = []
    for name, value in _constants(keys_tree).items():
        if name.endswith(VIEW_SUFFIX):
            source, accessor = next(
                (path, node)
                for path, tree in modules.items()
                for node in _public_definitions(tree)
                if name in set(_keys_references(node))
            )
            stem = name.removesuffix(VIEW_SUFFIX).lower()
            artefacts.append(
                StoreArtefact(
                    id=f"store.{stem}",
                    label=f"{stem} log",
                    key=value,
                    description=_first_paragraph(ast.get_docstring(accessor)),
                    source=source,
                    accessors=frozenset({accessor.name}),
                    helpers=frozenset(),
                )
            )
            continue
        if name in UNDRAWN_AREAS:
            continue
        if name.endswith(NOT_AREAS):
            continue
        helpers = _helpers_of(keys_tree, name)
        uses = Counter(
            path
            for path, tree in modules.items()
            for node in _public_definitions(tree)
            if _takes_store(node)
            for reference in _keys_references(node)
            if reference == name or reference in helpers
        )
        if uses:
            source = min(uses, key=lambda path: (-uses[path], path))
            tree = modules[source]
            description = _first_paragraph(ast.get_docstring(tree))
            accessors = {node.name for node in _public_definitions(tree) if _takes_store(node)}
        else:
            source, accessors = KEYS_FILE, set()
            docs = [
                ast.get_docstring(node)
                for node in keys_tree.body
                if isinstance(node, ast.FunctionDef) and node.name in helpers
            ]
            description = _first_paragraph(next((doc for doc in docs if doc), ""))
        artefacts.append(
            StoreArtefact(
                id=f"store.{value}",
                label=value,
                key=f"{value}/",
                description=description or f"The store's '{value}/' area.",
                source=source,
                accessors=frozenset(accessors),
                helpers=frozenset(helpers),
            )
        )
    return artefacts


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _direction(name: str) -> Direction:
    return "write" if name.startswith(WRITE_VERBS) else "read"


def _function_access(function: ast.AST, artefacts: list[StoreArtefact]) -> set[Access]:
    by_accessor = {name: a.id for a in artefacts for name in a.accessors}
    by_helper = {name: a.id for a in artefacts for name in a.helpers}
    calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)]
    puts = any((_call_name(call.func) or "").startswith("put") for call in calls)
    # Names bound to an accessor's result: ``registry = ModelRegistry(store, name)``.
    bound = {
        target.id: by_accessor[_call_name(node.value.func)]
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and _call_name(node.value.func) in by_accessor
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    used = {
        call.func.value.id
        for call in calls
        if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
    }
    # An accessor's result is classified by the methods called on it, not as a read.
    receivers = {id(call.func.value) for call in calls if isinstance(call.func, ast.Attribute)}
    receivers |= {
        id(node.value)
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id in used for t in node.targets)
    }
    found: set[Access] = set()
    for call in calls:
        name = _call_name(call.func)
        if name in by_accessor and id(call) not in receivers:
            found.add((by_accessor[name], _direction(name)))
        if isinstance(call.func, ast.Attribute):
            owner = call.func.value
            owner_name = _call_name(owner.func) if isinstance(owner, ast.Call) else None
            if owner_name in by_accessor:
                found.add((by_accessor[owner_name], _direction(call.func.attr)))
            if isinstance(owner, ast.Name) and owner.id in bound:
                found.add((bound[owner.id], _direction(call.func.attr)))
    for reference in _keys_references(function):
        if reference in by_helper:
            found.add((by_helper[reference], "write" if puts else "read"))
    return found


def store_access(stage_dir: Path, artefacts: list[StoreArtefact]) -> set[Access]:
    """Which store artefacts a stage's logic reads and writes, found in its source.

    Scans the functions of every module of ``components/<stage>/`` but the KFP adapter and
    the course's tests (``*tests.py``).
    """
    found: set[Access] = set()
    for path in sorted(stage_dir.glob("*.py")):
        if path.name in NOT_LOGIC or path.name.endswith("tests.py"):
            continue
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.FunctionDef):
                found |= _function_access(node, artefacts)
    return found
