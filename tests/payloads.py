"""Model files an attacker who can write the store would plant, each creating a marker file
if any of its code runs. Used by the tests that no command loads them.

Every payload is live: :func:`run_unsafely` loads it the way a careless loader would, and
the tests check that this does create the marker, so a payload that silently stopped
working cannot make a test pass.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import skops.io

from lifecycle import keys
from lifecycle.model_files import SCHEMA_MEMBER, file_types
from lifecycle.store import Store


def _marker_code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


class _Exec:
    def __init__(self, code: str):
        self.code = code

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return exec, (self.code,)


def pickle_payload(marker: Path) -> bytes:
    """A pickle whose loading runs ``exec`` (the course's model.pkl format, weaponised)."""
    return pickle.dumps(_Exec(_marker_code(marker)))


def _node(value: Any) -> dict[str, Any]:
    """skops' state node of a plain value (what it writes for it inside a tree)."""
    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(value))) as archive:
        tree = json.loads(archive.read(SCHEMA_MEMBER))
    tree.pop("protocol", None)
    tree.pop("_skops_version", None)
    return _without_ids(tree)


def _without_ids(node: Any) -> Any:
    """A tree without skops' object ids, which could collide with the host tree's."""
    if isinstance(node, dict):
        return {key: _without_ids(value) for key, value in node.items() if key != "__id__"}
    if isinstance(node, list):
        return [_without_ids(value) for value in node]
    return node


def exec_node(marker: Path) -> dict[str, Any]:
    """A node that skops builds by calling ``builtins.exec`` with code creating ``marker``
    (``ConstructorFromReduceNode``: the type is called with the stored arguments)."""
    return {
        "__class__": "exec",
        "__module__": "builtins",
        "__loader__": "ConstructorFromReduceNode",
        "content": _node((_marker_code(marker),)),
    }


def import_node(module: str) -> dict[str, Any]:
    """A node of a class in ``module``: building it imports the module, running its code."""
    return {"__class__": "Payload", "__module__": module, "__loader__": "ObjectNode"}


def write_import_payload_module(folder: Path, module: str, marker: Path) -> None:
    """``folder/module.py``, which creates ``marker`` when imported."""
    (folder / f"{module}.py").write_text(
        f"{_marker_code(marker)}\n\nclass Payload:\n    pass\n", encoding="utf-8"
    )


def with_node(genuine: bytes, node: dict[str, Any]) -> bytes:
    """A genuine skops model file with ``node`` planted as the model's ``tol`` (replacing a
    value keeps the attribute dictionary's list of key types right)."""
    source = zipfile.ZipFile(io.BytesIO(genuine))
    tree = json.loads(source.read(SCHEMA_MEMBER))
    tree["content"]["content"]["tol"] = node
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for member in source.namelist():
            data = source.read(member)
            target.writestr(member, json.dumps(tree) if member == SCHEMA_MEMBER else data)
    return out.getvalue()


def run_unsafely(data: bytes) -> Any:
    """Load a model file trusting every type it names: what the tests show never happens."""
    if data[:1] == b"\x80":
        return pickle.loads(data)  # noqa: S301 - the point of the control
    return skops.io.loads(data, trusted=sorted(file_types(data).types))


def plant(store: Store, model: str, version: str, artifact: bytes, **meta_changes: Any) -> None:
    """Replace a version's model file and rewrite its metadata to match (its sha256, and any
    ``meta_changes``), as someone with write access to the store could."""
    prefix = keys.model_version_prefix(model, version)
    meta = json.loads(store.get_bytes(prefix + keys.META_FILE))
    meta.update(meta_changes, artifact_sha256=hashlib.sha256(artifact).hexdigest())
    store.put_bytes(prefix + keys.MODEL_FILE, artifact)
    store.put_bytes(prefix + keys.META_FILE, json.dumps(meta).encode())
