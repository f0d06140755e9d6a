"""The embedded default store: a local directory (``./.store``)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from lifecycle.errors import KeyNotFoundError, StoreError
from lifecycle.store.base import Store, validate_key, validate_prefix

_TEMP_PREFIX = ".tmp-"
_COPY_CHUNK = 1 << 20


class LocalStore(Store):
    """Objects are files under ``root``; a write goes to a temp file beside it, then renames.

    Every failure of the file system (a read-only folder, a full disk, a file where a folder
    should be) is a :class:`StoreError` naming the key and the folder.
    """

    def __init__(self, root: str | os.PathLike[str], create: bool = True):
        """Open the store folder ``root``.

        Args:
            root: the folder.
            create: make the folder when it does not exist; False for commands that only
                read, so that a mistyped path is an error, not a new empty store.

        Raises:
            StoreError: the folder cannot be created, or (``create`` False) does not exist.
        """
        self.root = Path(root).resolve()
        self.uri = str(self.root)
        if not create:
            if not self.root.is_dir():
                what = "is not a folder" if self.root.exists() else "does not exist"
                raise StoreError(
                    f"no store at {self.root}: the folder {what}; check --store or $STORE"
                )
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store folder {self.root}: {exc.strerror}") from None

    def _failed(self, what: str, key: str, exc: OSError) -> StoreError:
        reason = exc.strerror or type(exc).__name__
        return StoreError(f"store {self.uri}: cannot {what} {key!r}: {reason}")

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _write_temp(self, path: Path, data: bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.parent / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            temp.unlink(missing_ok=True)  # e.g. a full disk: leave no partial file behind
            raise
        return temp

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            temp = self._write_temp(path, data)
        except OSError as exc:
            raise self._failed("write", key, exc) from None
        try:
            os.replace(temp, path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise self._failed("write", key, exc) from None

    def put_file(self, key: str, path: str | os.PathLike[str], move: bool = False) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = Path(path)
        if move:
            with open(source, "rb") as handle:
                os.fsync(handle.fileno())
            try:
                os.replace(source, target)  # same file system: the scratch file becomes the object
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
        temp = target.parent / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            with open(source, "rb") as reader, open(temp, "wb") as writer:
                shutil.copyfileobj(reader, writer, _COPY_CHUNK)
                writer.flush()
                os.fsync(writer.fileno())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        if move:
            source.unlink(missing_ok=True)

    def get_file(self, key: str, path: str | os.PathLike[str]) -> None:
        source = self._path(key)
        try:
            shutil.copyfile(source, path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            if not source.is_file():
                raise KeyNotFoundError(f"no object {key!r} in store {self.uri}") from None
            raise StoreError(f"store {self.uri}: cannot copy {key!r} to {path}") from None
        except OSError as exc:
            raise self._failed(f"copy to {path}", key, exc) from None

    def staging_path(self, suffix: str = "") -> Path:
        # In the store's root, named as a temporary file: listings skip it, a crash leaves it
        # where a clean-up finds it, and put_file(move=True) renames it into place.
        return self.root / f"{_TEMP_PREFIX}{uuid.uuid4().hex}{suffix}"

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        try:
            temp = self._write_temp(path, data)
        except OSError as exc:
            raise self._failed("create", key, exc) from None
        try:
            # link() fails when the target exists, so creation is atomic and exclusive.
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError as exc:
            raise self._failed("create", key, exc) from None
        finally:
            temp.unlink(missing_ok=True)
        return True

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyNotFoundError(f"no object {key!r} in store {self.uri}") from None
        except OSError as exc:
            raise self._failed("read", key, exc) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def check_writable(self) -> None:
        """A probe file in the store folder, removed at once (no object is written)."""
        try:
            handle, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self.root)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise StoreError(f"store {self.uri} is not writable: {reason}") from None
        os.close(handle)
        os.unlink(name)

    def list_keys(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        base = self.root / prefix.rstrip("/") if prefix else self.root
        if not base.exists():
            return []
        keys = []
        for folder, _, files in os.walk(base):
            for name in files:
                if name.startswith(_TEMP_PREFIX):
                    continue
                key = Path(folder, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise self._failed("delete", key, exc) from None

    def list_modified(self, prefix: str = "") -> dict[str, float]:
        found = {}
        for key in self.list_keys(prefix):
            with contextlib.suppress(FileNotFoundError):  # deleted since it was listed
                found[key] = (self.root / key).stat().st_mtime
        return found

    def temporary_objects(self) -> dict[str, float]:
        found = {}
        for folder, _, files in os.walk(self.root):
            for name in files:
                if name.startswith(_TEMP_PREFIX):
                    path = Path(folder, name)
                    with contextlib.suppress(FileNotFoundError):
                        found[path.relative_to(self.root).as_posix()] = path.stat().st_mtime
        return found

    def remove_temporary(self, name: str) -> None:
        path = (self.root / name).resolve()
        if not path.name.startswith(_TEMP_PREFIX) or not path.is_relative_to(self.root):
            raise StoreError(f"{name!r} is not a temporary file of store {self.uri}")
        path.unlink(missing_ok=True)

    def clear(self) -> None:
        for key in self.list_keys():
            self.delete(key)
        for folder, dirs, _ in os.walk(self.root, topdown=False):
            for name in dirs:
                with contextlib.suppress(OSError):  # not empty: a temp file of another writer
                    os.rmdir(Path(folder, name))
