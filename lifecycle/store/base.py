"""The store interface: a flat key space of immutable-by-convention byte objects.

Both backends (a local directory and MinIO) implement :class:`Store`; everything
above it (datasets, registry, histories) is written once against this interface.
"""

from __future__ import annotations

import os
import re
import uuid
from abc import ABC, abstractmethod
from pathlib import Path

from lifecycle.errors import InvalidInputError
from lifecycle.store.ranged import RangedObject

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._=+-]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def validate_key(key: str) -> str:
    """Return ``key`` when it is a safe relative key, else raise.

    Keys are ``/``-separated segments of letters, digits and ``._=+-``; no
    absolute paths, no ``..`` and no empty segments, so no key can escape the
    store's root or prefix.

    Raises:
        InvalidInputError: the key is empty, absolute or has an unsafe segment.
    """
    if not key or key.startswith("/") or key.endswith("/"):
        raise InvalidInputError(f"invalid store key {key!r}: must be a relative path")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.match(segment):
            raise InvalidInputError(f"invalid store key {key!r}: bad segment {segment!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` (empty, or a valid key followed by ``/``) when safe, else raise."""
    if prefix:
        validate_key(prefix.rstrip("/"))
    return prefix


def validate_name(name: str, what: str) -> str:
    """Return ``name`` when it can be a single key segment (batch id, dataset or model name).

    Raises:
        InvalidInputError: naming ``what`` (e.g. ``--batch-id``) and the offending value.
    """
    if not _NAME.match(name or "") or ".." in name:
        raise InvalidInputError(
            f"invalid {what} {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class Store(ABC):
    """A key/value store of byte objects with atomic writes."""

    uri: str

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` atomically: readers see the old object or the new one."""

    def put_file(self, key: str, path: str | os.PathLike[str], move: bool = False) -> None:
        """Write the file at ``path`` to ``key`` atomically, streaming: readers see the old
        object or the whole new one, and the file is never held in memory whole.

        Args:
            key: where to write.
            path: the file to store.
            move: the file is the caller's scratch copy (from :meth:`staging_path` or a
                temporary folder): the store may take it over instead of copying it, and
                it is gone afterwards.
        """
        self.put_bytes(key, Path(path).read_bytes())
        if move:
            Path(path).unlink(missing_ok=True)

    def get_file(self, key: str, path: str | os.PathLike[str]) -> None:
        """Write the object at ``key`` to the file ``path``, in chunks: an object of any size
        passes without being held in memory (backends that can stream override this).

        Raises:
            KeyNotFoundError: no object at ``key``.
            StoreError: the store cannot be read or the file cannot be written.
        """
        Path(path).write_bytes(self.get_bytes(key))

    def staging_path(self, suffix: str = "") -> Path | None:
        """A fresh path for a file that :meth:`put_file` will then move into the store, on the
        store's own file system (a local folder; listings skip it), or None: use a temporary
        folder."""
        return None

    @abstractmethod
    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Create ``key`` atomically; return False (writing nothing) when it already exists."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """Return the object at ``key``.

        Raises:
            KeyNotFoundError: no object at ``key``.
        """

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object exists at ``key``."""

    @abstractmethod
    def list_keys(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (recursively), sorted."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; absent keys are ignored."""

    @abstractmethod
    def list_modified(self, prefix: str = "") -> dict[str, float]:
        """Every key under ``prefix`` -> when it was last written (seconds since the epoch)."""

    @abstractmethod
    def temporary_objects(self) -> dict[str, float]:
        """What interrupted writes left behind (a name -> when it was started): never listed
        by :meth:`list_keys`, found by ``lifecycle verify``, removed by ``lifecycle cleanup``."""

    @abstractmethod
    def remove_temporary(self, name: str) -> None:
        """Remove one of :meth:`temporary_objects`."""

    def local_path(self, key: str) -> Path | None:
        """The file holding ``key`` when the store is a local folder and it exists (so it can be
        memory-mapped or read in parts); None otherwise."""
        validate_key(key)
        return None

    def open_ranged(self, key: str) -> RangedObject:
        """The object at ``key``, read in byte ranges as a reader asks for them (e.g. a
        Parquet file's footer and the column chunks it reads). This default fetches the
        object whole, once; backends that read ranges override it.

        Raises:
            KeyNotFoundError: no object at ``key``.
        """
        data = self.get_bytes(key)
        return RangedObject(key, len(data), lambda offset, length: data[offset : offset + length])

    def get_many(self, keys: list[str]) -> list[bytes]:
        """Read several objects; backends with network latency override this to read in parallel."""
        return [self.get_bytes(key) for key in keys]

    def check_writable(self) -> None:
        """Refuse a store this process cannot write, before a pipeline starts (a read-only
        folder, read-only credentials), rather than in its first writing task.

        Raises:
            StoreError: naming the store and the reason.
        """
        probe = f"_probe/{uuid.uuid4().hex}"
        self.put_bytes(probe, b"")
        self.delete(probe)

    def clear(self) -> None:
        """Delete every object in the store (used to start a scenario afresh)."""
        for key in self.list_keys():
            self.delete(key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"
