"""How stage outputs are carried in KFP artifacts.

Datasets can be large and already live in the store, so a Dataset artifact holds a
small JSON pointer (also in its metadata) rather than a second copy of the data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from lifecycle.datasets import DatasetRef


class ArtifactLike(Protocol):
    path: str
    metadata: dict[str, Any]


def write_dataset_artifact(artifact: ArtifactLike, ref: DatasetRef) -> None:
    """Describe a stored dataset in a KFP Dataset artifact."""
    Path(artifact.path).parent.mkdir(parents=True, exist_ok=True)
    Path(artifact.path).write_text(ref.to_json(), encoding="utf-8")
    artifact.metadata.update(
        {"store_key": ref.key, "sha256": ref.sha256, "rows": ref.rows, "name": ref.name}
    )


def dataset_key_of(artifact: ArtifactLike) -> str:
    """The store key a Dataset artifact points at."""
    key = artifact.metadata.get("store_key")
    if key:
        return str(key)
    return str(json.loads(Path(artifact.path).read_text(encoding="utf-8"))["key"])
