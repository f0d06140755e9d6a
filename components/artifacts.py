"""What the stages' KFP artifacts hold, and how a stage reads the artifacts it is given.

An artifact holds what its type says, so that any KFP component (ours or not) can use it, the
KFP UI offers it for download and KFP's lineage holds the data itself:

* a **Dataset** holds Parquet at ``artifact.path``: one stored dataset's file as it is in the
  store (same bytes, same sha256), or, when a stage hands on several stored datasets (or
  scoring writes parts), a directory of parts ``part-00000.parquet``, ``part-00001.parquet``,
  … (``pandas.read_parquet(path)`` and ``pyarrow.dataset.dataset(path)`` read either). Its
  metadata names what it holds in the store: ``store_key``, ``sha256``, ``rows``, ``name``
  and ``columns`` for one dataset; ``parts`` (each part's ``store_key``, ``sha256``, ``rows``
  and ``file``) for a directory;
* a **Model** holds the version's skops file (:mod:`lifecycle.model_files`), with ``model``,
  ``version``, ``store_key``, ``sha256`` and ``format`` in its metadata.

A stage given a Dataset takes its identity (the store keys its records name) from the metadata
and its data from the artifact's files when they are there, each checked against its sha256
(:func:`local_copies`, read through :class:`lifecycle.store.local_copies.StoreWithLocalCopies`);
an artifact without files (metadata only) is read from the store. Files are copied and read in
chunks and record batches: nothing here ever holds a whole table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle import keys
from lifecycle.datasets import DatasetRef
from lifecycle.errors import IntegrityError, InvalidInputError
from lifecycle.store import Store
from lifecycle.store.local_copies import StoreWithLocalCopies

# Metadata keys of our artifacts.
STORE_KEY = "store_key"
SHA256 = "sha256"
ROWS = "rows"
PARTS = "parts"
PART_FILE = "file"
PART_NAME = "part-{index:05d}.parquet"


class ArtifactLike(Protocol):
    """What the helpers use of a KFP artifact (``kfp.dsl.Dataset``, ``Model``, …)."""

    path: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class DatasetPart:
    """One stored dataset a Dataset artifact holds, and its file in the artifact, if any."""

    store_key: str
    sha256: str
    rows: int
    path: Path | None


def _copy_and_hash(store: Store, key: str, destination: Path) -> str:
    destination.parent.mkdir(parents=True, exist_ok=True)
    store.get_file(key, destination)
    return file_sha256(destination)


def file_sha256(path: Path) -> str:
    """The sha256 (hex) of a file, read in chunks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_dataset_artifact(
    artifact: ArtifactLike, store: Store, refs: DatasetRef | Sequence[DatasetRef]
) -> None:
    """Copy stored datasets into a Dataset artifact and describe them in its metadata.

    Args:
        artifact: the output artifact.
        store: the store holding the datasets.
        refs: one dataset (its Parquet file becomes ``artifact.path``) or several (a directory
            of parts at ``artifact.path``, in this order).

    Raises:
        IntegrityError: a stored file does not match its dataset's sha256.
        KeyNotFoundError: a dataset's file is missing from the store.
    """
    several = not isinstance(refs, DatasetRef)
    datasets = list(refs) if several else [refs]
    target = Path(artifact.path)
    if several:
        target.mkdir(parents=True, exist_ok=True)
    parts = []
    for index, ref in enumerate(datasets):
        file = target / PART_NAME.format(index=index) if several else target
        # A stage that wrote the dataset may have left its file here already (ingest does).
        in_place = file.is_file() and file_sha256(file) == ref.sha256
        digest = ref.sha256 if in_place else _copy_and_hash(store, ref.key, file)
        if digest != ref.sha256:
            raise IntegrityError(
                f"dataset {ref.key!r}: its file has sha256 {digest[:12]}…, its metadata says "
                f"{ref.sha256[:12]}…"
            )
        parts.append({STORE_KEY: ref.key, SHA256: ref.sha256, ROWS: ref.rows, PART_FILE: file.name})
    if several:
        artifact.metadata.update({PARTS: parts, ROWS: sum(ref.rows for ref in datasets)})
        return
    (ref,) = datasets
    artifact.metadata.update(
        {
            STORE_KEY: ref.key,
            SHA256: ref.sha256,
            ROWS: ref.rows,
            "name": ref.name,
            "columns": list(ref.columns),
        }
    )


def write_parts_artifact(artifact: ArtifactLike, store: Store, part_keys: Sequence[str]) -> None:
    """Copy stored Parquet parts (e.g. batch predictions) into a directory artifact; each
    part's sha256 and rows go into the metadata.

    Raises:
        KeyNotFoundError: a part is missing from the store.
    """
    target = Path(artifact.path)
    target.mkdir(parents=True, exist_ok=True)
    parts = []
    for index, key in enumerate(part_keys):
        file = target / PART_NAME.format(index=index)
        digest = _copy_and_hash(store, key, file)
        rows = pq.ParquetFile(file).metadata.num_rows
        parts.append({STORE_KEY: key, SHA256: digest, ROWS: rows, PART_FILE: file.name})
    artifact.metadata[PARTS] = parts


def dataset_parts(artifact: ArtifactLike) -> list[DatasetPart]:
    """The stored datasets a Dataset artifact holds, with their files where present.

    Raises:
        InvalidInputError: the metadata names no stored dataset (the artifact of another
            component: pass its data through the ``ingest`` component first).
    """
    metadata = artifact.metadata or {}
    root = Path(artifact.path) if artifact.path else None
    if PARTS in metadata:
        described = [
            (part[STORE_KEY], part[SHA256], part[ROWS], part.get(PART_FILE))
            for part in metadata[PARTS]
        ]
    elif metadata.get(STORE_KEY):
        described = [(metadata[STORE_KEY], metadata.get(SHA256, ""), metadata.get(ROWS, 0), None)]
    else:
        raise InvalidInputError(
            f"Dataset artifact {artifact.path or '(no path)'} names no stored dataset (no "
            f"{STORE_KEY!r} in its metadata): store its data with the ingest component first"
        )
    parts = []
    for key, sha256, rows, file in described:
        if root is None:
            path = None
        elif file is None:
            path = root if root.is_file() else None
        else:
            path = root / file if (root / file).is_file() else None
        parts.append(DatasetPart(str(key), str(sha256), int(rows), path))
    return parts


def dataset_keys_of(artifact: ArtifactLike) -> list[str]:
    """The store keys of the datasets a Dataset artifact holds, in order."""
    return [part.store_key for part in dataset_parts(artifact)]


def dataset_key_of(artifact: ArtifactLike) -> str:
    """The store key of the one dataset a Dataset artifact holds.

    Raises:
        InvalidInputError: it names no stored dataset, or several.
    """
    found = dataset_keys_of(artifact)
    if len(found) != 1:
        raise InvalidInputError(
            f"Dataset artifact {artifact.path} holds {len(found)} datasets; this input takes one"
        )
    return found[0]


def local_copies(artifacts: Sequence[ArtifactLike]) -> dict[str, Path]:
    """``store key -> file`` of every dataset file the artifacts hold, each checked first.

    A file is a copy of its stored dataset when its sha256 is the one in the artifact's
    metadata and that one is the dataset's (its key holds the hash's first 16 digits).

    Raises:
        IntegrityError: a file differs from the dataset it stands for.
    """
    copies: dict[str, Path] = {}
    for artifact in artifacts:
        for part in dataset_parts(artifact):
            if part.path is None:
                continue
            digest = file_sha256(part.path)
            named = keys.is_dataset_key(part.store_key) and part.store_key.split("/")[2]
            if digest != part.sha256 or (named and not digest.startswith(named)):
                raise IntegrityError(
                    f"Dataset artifact {artifact.path}: {part.path} has sha256 {digest[:12]}…, "
                    f"not that of {part.store_key!r}; refusing to use it"
                )
            copies[part.store_key] = part.path
    return copies


def reading_artifacts(store: Store, *artifacts: ArtifactLike) -> Store:
    """``store``, reading the datasets of ``artifacts`` from their files (checked)."""
    copies = local_copies(artifacts)
    return StoreWithLocalCopies(store, copies) if copies else store


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files of an artifact's path: the file itself, or a directory's parts in
    name order.

    Raises:
        InvalidInputError: nothing there, or a directory with no Parquet file.
    """
    root = Path(path)
    if root.is_file():
        return [root]
    files = sorted(root.glob("*.parquet")) if root.is_dir() else []
    if not files:
        raise InvalidInputError(f"{root}: no Parquet file there")
    return files


def iter_record_batches(
    path: str | Path, columns: Sequence[str] | None = None, batch_rows: int = 65_536
) -> Iterator[pa.RecordBatch]:
    """Stream the rows of a Dataset artifact's file or parts as Arrow record batches.

    Raises:
        InvalidInputError: no Parquet there, or a file that is not Parquet.
    """
    for file in parquet_files(path):
        try:
            # pre_buffer off: its cache would keep every row group read until the end.
            reader = pq.ParquetFile(file, pre_buffer=False)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInputError(f"{file}: not a readable Parquet file: {exc}") from None
        yield from reader.iter_batches(
            batch_size=batch_rows, columns=list(columns) if columns else None
        )


def write_model_artifact(
    artifact: ArtifactLike, store: Store, model_name: str, version: str, sha256: str
) -> None:
    """Copy a registered version's model file into a Model artifact, with its identity.

    Raises:
        IntegrityError: the copied file does not match the version's sha256.
    """
    key = keys.model_version_prefix(model_name, version) + keys.MODEL_FILE
    digest = _copy_and_hash(store, key, Path(artifact.path))
    if digest != sha256:
        raise IntegrityError(
            f"model {model_name!r} {version}: {key!r} has sha256 {digest[:12]}…, its metadata "
            f"says {sha256[:12]}…"
        )
    artifact.metadata.update(
        {"model": model_name, "version": version, STORE_KEY: key, SHA256: sha256}
    )


def chosen_source(source: str, data: ArtifactLike | None) -> str:
    """The file a stage reads: ``source`` (a path or a store key), or the file of the Dataset
    artifact ``data`` (CSV, or Parquet by its content) that another component wrote.

    Raises:
        InvalidInputError: both or neither given, or ``data`` holds a folder, not a file.
    """
    if data is not None and source:
        raise InvalidInputError("source and data: give one of them, not both")
    if data is None:
        if not source:
            raise InvalidInputError("source: empty, and no data artifact was given")
        return source
    path = Path(data.path)
    if not path.is_file():
        raise InvalidInputError(
            f"data: the Dataset artifact {path} is not a file (a folder of parts?); "
            "give one CSV or Parquet file"
        )
    return str(path)
