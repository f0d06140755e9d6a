"""Errors a user can act on. Each message names the file, column, key or argument at fault.

The CLI prints ``error: <message>`` and exits non-zero for any :class:`LifecycleError`.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any


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


class Interrupted(BaseException):
    """SIGINT or SIGTERM reached a command: it stops what it started, undoes its uncommitted
    writes and exits ``128 + signal`` (130, 143), as a shell reports a signal."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum
        self.exit_code = 128 + signum


def _raise_interrupted(signum: int, _frame: Any) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def interrupted_by_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`Interrupted`, so that what the block
    started is undone on the way out (``with`` blocks, ``finally``) instead of being cut off."""
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
