"""Artefact stores: :func:`open_store` turns a ``STORE`` URI into a backend."""

from __future__ import annotations

import os

from lifecycle.errors import InvalidInputError
from lifecycle.store.base import Store, validate_key, validate_name, validate_prefix
from lifecycle.store.local import LocalStore

DEFAULT_STORE = ".store"
STORE_ENV = "STORE"

__all__ = [
    "DEFAULT_STORE",
    "STORE_ENV",
    "LocalStore",
    "Store",
    "open_store",
    "resolve_store_uri",
    "validate_key",
    "validate_name",
    "validate_prefix",
]


def resolve_store_uri(uri: str | None = None) -> str:
    """The store URI to use: the argument, else ``$STORE``, else ``./.store`` (made absolute)."""
    chosen = uri or os.environ.get(STORE_ENV) or DEFAULT_STORE
    if "://" in chosen:
        return chosen
    return os.path.abspath(chosen)


def open_store(uri: str | None = None, create: bool = True) -> Store:
    """Open the store named by ``uri`` (see :func:`resolve_store_uri`).

    ``minio://HOST:PORT/BUCKET[/PREFIX]`` (``minios://`` for TLS) selects MinIO, with
    credentials from the environment; anything else is a local directory.

    Args:
        uri: the store URI (default ``$STORE``, else ``./.store``).
        create: create the folder or bucket when absent. Commands that only read pass
            False, so that a mistyped path or bucket is an error, not a new empty store.

    Returns:
        The store.

    Raises:
        InvalidInputError: the URI has an unknown scheme.
        StoreError: the store cannot be opened (or, ``create`` False, does not exist).
    """
    resolved = resolve_store_uri(uri)
    scheme = resolved.split("://", 1)[0] if "://" in resolved else "file"
    if scheme in ("minio", "minios"):
        from lifecycle.store.minio import MinioStore

        return MinioStore.from_uri(resolved, create=create)
    if scheme == "file":
        return LocalStore(resolved.removeprefix("file://"), create=create)
    raise InvalidInputError(
        f"unknown store URI {resolved!r}: use a folder path, minio://HOST:PORT/BUCKET "
        "or minios://HOST:PORT/BUCKET"
    )
