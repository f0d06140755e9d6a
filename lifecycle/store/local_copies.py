"""A store that reads some objects from local copies of them: the files of a task's inputs.

A pipeline task receives its input datasets as files (KFP downloads each input artifact beside
the task), and those files are byte-for-byte copies of stored objects whose sha256 is known.
:class:`StoreWithLocalCopies` serves reads of those keys from the files, so a stage works from
its inputs' files (memory-mapped through :meth:`Store.local_path`, like a local store's), and
everything else (metadata, the history, every write) goes to the store itself. The stage logic
stays keyed by store keys, which its records name.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from lifecycle.errors import StoreError
from lifecycle.store.base import Store, validate_key
from lifecycle.store.ranged import RangedObject


class StoreWithLocalCopies(Store):
    """``store``, except that the keys of ``copies`` are read from those files.

    The caller vouches for the copies (:func:`components.artifacts.local_copies` checks each
    file's sha256 against the stored dataset's); a key that is written is no longer read
    from its copy.
    """

    def __init__(self, store: Store, copies: Mapping[str, Path]):
        self.store = store
        self.uri = store.uri
        self.copies = {validate_key(key): Path(path) for key, path in copies.items()}

    def _copy(self, key: str) -> Path | None:
        return self.copies.get(key)

    def _read_copy(self, key: str, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise StoreError(
                f"cannot read {path}, the local copy of {key!r}: {exc.strerror or exc}"
            ) from None

    def put_bytes(self, key: str, data: bytes) -> None:
        self.copies.pop(key, None)
        self.store.put_bytes(key, data)

    def put_file(self, key: str, path: str | os.PathLike[str], move: bool = False) -> None:
        # The store's own streaming write (the base class would read the file whole).
        self.copies.pop(key, None)
        self.store.put_file(key, path, move)

    def staging_path(self, suffix: str = "") -> Path | None:
        return self.store.staging_path(suffix)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        return self.store.put_if_absent(key, data)

    def get_bytes(self, key: str) -> bytes:
        path = self._copy(key)
        return self._read_copy(key, path) if path else self.store.get_bytes(key)

    def get_many(self, keys: list[str]) -> list[bytes]:
        remote = self.store.get_many([key for key in keys if key not in self.copies])
        fetched = dict(zip([key for key in keys if key not in self.copies], remote, strict=True))
        return [
            self._read_copy(key, self.copies[key]) if key in self.copies else fetched[key]
            for key in keys
        ]

    def get_file(self, key: str, path: str | os.PathLike[str]) -> None:
        copy = self._copy(key)
        if copy is None:
            self.store.get_file(key, path)
            return
        try:
            shutil.copyfile(copy, path)
        except OSError as exc:
            raise StoreError(
                f"cannot copy {copy}, the local copy of {key!r}, to {path}: {exc.strerror or exc}"
            ) from None

    def local_path(self, key: str) -> Path | None:
        return self._copy(key) or self.store.local_path(key)

    def open_ranged(self, key: str) -> RangedObject:
        return self.store.open_ranged(key) if self._copy(key) is None else super().open_ranged(key)

    def exists(self, key: str) -> bool:
        return key in self.copies or self.store.exists(key)

    def list_keys(self, prefix: str = "") -> list[str]:
        return self.store.list_keys(prefix)

    def delete(self, key: str) -> None:
        self.copies.pop(key, None)
        self.store.delete(key)

    def list_modified(self, prefix: str = "") -> dict[str, float]:
        return self.store.list_modified(prefix)

    def temporary_objects(self) -> dict[str, float]:
        return self.store.temporary_objects()

    def remove_temporary(self, name: str) -> None:
        self.store.remove_temporary(name)

    def check_writable(self) -> None:
        self.store.check_writable()

    def clear(self) -> None:
        self.copies.clear()
        self.store.clear()
