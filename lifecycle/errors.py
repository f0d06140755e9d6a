"""Errors a user can act on. Each message names the file, column, key or argument at fault.

The CLI prints ``error: <message>`` and exits non-zero for any :class:`LifecycleError`.
"""

from __future__ import annotations


class LifecycleError(Exception):
    """Base of every error the lifecycle reports to its user."""

    exit_code = 1


class InvalidInputError(LifecycleError):
    """A file, argument or config value is unusable as given."""

    exit_code = 2


class DataValidationError(InvalidInputError):
    """A dataset does not match the scenario's schema."""

    def __init__(self, source: str, column: str | None, problem: str, rows: int | None = None):
        self.source = source
        self.column = column
        self.problem = problem
        self.rows = rows
        where = f"column {column!r}" if column else "dataset"
        count = f" ({rows} row{'s' if rows != 1 else ''})" if rows is not None else ""
        super().__init__(f"{source}: {where}: {problem}{count}")


class StoreError(LifecycleError):
    """The artefact store could not be read or written."""

    exit_code = 3


class KeyNotFoundError(StoreError):
    """A key is absent from the store."""


class IntegrityError(StoreError):
    """An artefact does not match the checksum recorded in its metadata."""


class ModelNotFoundError(LifecycleError):
    """A model version or alias does not exist in the registry."""
