"""Model files that cannot run code when loaded: skops files of trusted types only.

A pickle runs whatever code its bytes name when it is loaded, and the sha256 that guards a
model file sits in the same store as the file: whoever can write one can write the other.
So a model is stored with ``skops.io``, whose file is a zip holding a JSON tree of types
and plain values (arrays are ``.npy`` members read with ``allow_pickle=False``), and a file
is loaded only when every type in that tree is trusted.

The trusted types are decided by the config, never by the file or its metadata: the types
a model of the configured estimator holds (the estimator fitted, behind the one-hot
encoding the train stage adds, on a small synthetic sample: :func:`trusted_types`), plus
plain values (builtins, numpy arrays, scalars and dtypes). :func:`file_types` reads the
tree as JSON, with no import and no object built, and :func:`load_model` refuses any type
outside the list before skops (which audits again) constructs anything.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from lifecycle.config import ColumnSpec, ModelConfig, SchemaConfig

FORMAT = "skops"
SCHEMA_MEMBER = "schema.json"
# A model's type tree is small (LinearRegression: 3 kB; a 100-tree forest: 1 MB); a bigger
# one is refused unread rather than parsed.
MAX_SCHEMA_BYTES = 64 * 1024 * 1024

# Plain values any model holds: builtins, numpy arrays, numeric and text scalars, dtypes.
VALUE_TYPES = frozenset(
    {f"builtins.{name}" for name in ("bool", "dict", "float", "int", "list", "slice", "str")}
    | {"builtins.tuple", "numpy.ndarray", "numpy.dtype"}
    | {
        f"numpy.{name}"
        for name in (
            "bool",
            "bytes_",
            "str_",
            "float16",
            "float32",
            "float64",
            "longdouble",
            "complex64",
            "complex128",
            "clongdouble",
            "int8",
            "int16",
            "int32",
            "int64",
            "longlong",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
            "ulonglong",
        )
    }
)
# skops node kinds that only rebuild values, containers and objects of a checked type.
# Kinds that load a function or a method (FunctionNode, PartialNode, MethodNode,
# OperatorFuncNode) are trusted only when the configured estimator's own model holds one.
VALUE_LOADERS = frozenset(
    {
        "BytearrayNode",
        "BytesNode",
        "CachedNode",
        "DTypeNode",
        "DictNode",
        "JsonNode",
        "ListNode",
        "NdArrayNode",
        "ObjectNode",
        "SetNode",
        "SliceNode",
        "TupleNode",
        "TypeNode",
    }
)

# The schema of the synthetic sample a model of the configured estimator is fitted on.
_PROBE_SCHEMA = SchemaConfig(
    features=(
        ColumnSpec(name="n0"),
        ColumnSpec(name="n1"),
        ColumnSpec(name="n2"),
        ColumnSpec(name="c0", kind="categorical"),
    ),
    target=ColumnSpec(name="y"),
)
_PROBE_ROWS = 64


class ModelFileError(ValueError):
    """A model file is not a skops file, or holds a type that is not trusted."""


@dataclass(frozen=True)
class FileTypes:
    """What a skops file's type tree names: every type path and every node kind."""

    types: frozenset[str]
    loaders: frozenset[str]


@dataclass(frozen=True)
class TrustedTypes:
    """The only types (and node kinds) a model file may hold, and what decided them."""

    types: frozenset[str]
    loaders: frozenset[str]
    estimator: str

    def untrusted(self, found: FileTypes) -> list[str]:
        """The types and node kinds of ``found`` outside this list, sorted."""
        return sorted(found.types - self.types) + sorted(
            f"node kind {loader}" for loader in found.loaders - self.loaders
        )


def dumps(estimator: Any) -> bytes:
    """The skops file of a fitted estimator.

    Raises:
        ModelFileError: the estimator holds something skops cannot store.
    """
    import skops.io

    try:
        return skops.io.dumps(estimator)
    except (TypeError, ValueError) as exc:  # skops' UnsupportedTypeException is a TypeError
        raise ModelFileError(f"cannot be stored as a skops file: {exc}") from None


def describe_bytes(data: bytes) -> str:
    """What a file that is not a skops file looks like, for an error message."""
    if not data:
        return "an empty file"
    if data[:1] == b"\x80":
        return "a pickle, which could run code when loaded"
    return f"not a zip archive (it starts with {data[:8]!r})"


def file_types(data: bytes) -> FileTypes:
    """Every type path and node kind named in a skops file, read as JSON: nothing is imported
    and no object is built.

    Args:
        data: the file's bytes.

    Returns:
        The types (``module.Class``) and node kinds (``__loader__``) of the type tree.

    Raises:
        ModelFileError: not a skops file (not a zip, no or an oversized ``schema.json``, not
            JSON, or a node without a well-formed type).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(SCHEMA_MEMBER)
            if info.file_size > MAX_SCHEMA_BYTES:
                raise ModelFileError(
                    f"not a skops file: its {SCHEMA_MEMBER} is {info.file_size} bytes, "
                    f"over the limit of {MAX_SCHEMA_BYTES}"
                )
            tree = json.loads(archive.read(info))
    except zipfile.BadZipFile:
        raise ModelFileError(f"not a skops file: {describe_bytes(data)}") from None
    except KeyError:
        raise ModelFileError(f"not a skops file: no {SCHEMA_MEMBER} in the archive") from None
    except (ValueError, RecursionError, OSError, EOFError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"not a skops file: unreadable {SCHEMA_MEMBER}: {exc}") from None
    types: set[str] = set()
    loaders: set[str] = set()
    pending: list[Any] = [tree]
    while pending:  # iterative: a deeply nested tree cannot exhaust the stack
        node = pending.pop()
        if isinstance(node, dict):
            if "__class__" in node or "__loader__" in node:
                module, name = node.get("__module__"), node.get("__class__")
                if not (isinstance(module, str) and isinstance(name, str)):
                    raise ModelFileError("not a skops file: a node has no module and class name")
                types.add(f"{module}.{name}")
            if "__loader__" in node:
                loader = node["__loader__"]
                if not isinstance(loader, str):
                    raise ModelFileError("not a skops file: a node kind is not a name")
                loaders.add(loader)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return FileTypes(frozenset(types), frozenset(loaders))


def _type_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _probe_sample() -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    numeric = rng.uniform(1.0, 10.0, size=(_PROBE_ROWS, 3))
    frame = pd.DataFrame(numeric, columns=["n0", "n1", "n2"])
    frame["c0"] = np.where(rng.uniform(size=_PROBE_ROWS) > 0.5, "a", "b")
    target = pd.Series(numeric.sum(axis=1) + rng.normal(size=_PROBE_ROWS) + 30.0, name="y")
    return frame, target


@functools.lru_cache(maxsize=16)
def _trusted_types(estimator: str, params_json: str) -> TrustedTypes:
    from lifecycle.estimators import build_estimator, estimator_class

    model = ModelConfig(estimator=estimator, params=json.loads(params_json))
    found = FileTypes(frozenset(), frozenset())
    try:
        fitted = build_estimator(model, _PROBE_SCHEMA)
        frame, target = _probe_sample()
        fitted.fit(frame, target)
        found = file_types(dumps(fitted))
    except Exception:  # noqa: BLE001 - a sample it cannot fit leaves the static list
        pass
    # The estimator and the one-hot encoding the train stage puts in front of it, whatever
    # the sample did; everything else only as the fitted sample showed it.
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    own = {
        _type_path(cls)
        for cls in (
            estimator_class(estimator),
            Pipeline,
            ColumnTransformer,
            OneHotEncoder,
            FunctionTransformer,
        )
    }
    return TrustedTypes(
        types=VALUE_TYPES | own | found.types,
        loaders=VALUE_LOADERS | found.loaders,
        estimator=estimator,
    )


def trusted_types(model: ModelConfig) -> TrustedTypes:
    """The types a model file of ``model.estimator`` may hold.

    They are the plain value types, the estimator's class and the one-hot encoding's, and
    the types of the estimator with ``model.params`` fitted on a small synthetic sample
    (a forest's trees, a GLM's loss, a neighbours model's search tree). Computed once per
    process and estimator.

    Args:
        model: the config's ``model:`` section (only ``sklearn.*`` estimators pass its check).

    Returns:
        The trusted types.

    Raises:
        InvalidInputError: the estimator is unknown, abstract or not a regressor.
    """
    return _trusted_types(model.estimator, json.dumps(model.params, sort_keys=True, default=repr))


def check_file(data: bytes, trusted: TrustedTypes) -> FileTypes:
    """Refuse a file that is not a skops file or names a type outside ``trusted``.

    Raises:
        ModelFileError: naming the first untrusted types.
    """
    found = file_types(data)
    untrusted = trusted.untrusted(found)
    if untrusted:
        more = f" and {len(untrusted) - 3} more" if len(untrusted) > 3 else ""
        shown = ", ".join(untrusted[:3]) + more
        raise ModelFileError(
            f"holds untrusted type {shown} (a model of {trusted.estimator} may hold only "
            "its own types and plain values)"
        )
    return found


def load_model(data: bytes, trusted: TrustedTypes) -> Any:
    """Build the model in a skops file once every type in it is trusted.

    Args:
        data: the file's bytes.
        trusted: the types the config trusts (see :func:`trusted_types`).

    Returns:
        The fitted estimator.

    Raises:
        ModelFileError: not a skops file, an untrusted type (refused before anything is
            imported or built), or content skops cannot build.
    """
    check_file(data, trusted)
    import skops.io

    try:
        return skops.io.loads(data, trusted=sorted(trusted.types))
    except Exception as exc:  # noqa: BLE001 - a malformed tree can raise almost anything
        raise ModelFileError(f"not a loadable model: {type(exc).__name__}: {exc}") from None
