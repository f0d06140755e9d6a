"""A task's own error, carried from its process to the command that ran the pipeline.

A stage that fails on bad input or a store fault raises a :class:`LifecycleError` naming the
file, column, key or argument. In a task process, :func:`report_task_errors` makes such an error
print as that one line (no traceback, which says nothing more), and, under the local runner,
leaves it as a small JSON file in ``$LIFECYCLE_TASK_ERRORS``, so that ``lifecycle monitor``
prints the task's own message with its exit code (2 bad input, 3 store) rather than KFP's
"task failed". Other exceptions are bugs and keep their traceback.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from lifecycle.errors import LifecycleError

ERRORS_ENV = "LIFECYCLE_TASK_ERRORS"


@dataclass(frozen=True)
class TaskError:
    """The first error a task of a local run reported."""

    message: str
    exit_code: int
    kind: str


def report_task_errors() -> None:
    """Make a :class:`LifecycleError` that ends this process one line (and a file for the
    local runner); leave every other exception to the default hook."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if not isinstance(error, LifecycleError):
            previous(kind, error, trace)
            return
        print(f"error: {error}", file=sys.stderr, flush=True)
        folder = os.environ.get(ERRORS_ENV)
        if folder:
            report = {
                "message": str(error),
                "exit_code": error.exit_code,
                "kind": type(error).__name__,
                "time": time.time(),
            }
            path = Path(folder, f"{uuid.uuid4().hex}.json")
            path.write_text(json.dumps(report), encoding="utf-8")

    sys.excepthook = hook


def first_task_error(folder: str | os.PathLike[str]) -> TaskError | None:
    """The earliest error the tasks of a run left in ``folder``, if any."""
    reports = []
    for path in Path(folder).glob("*.json"):
        try:
            reports.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a report cut short by a kill says nothing
    if not reports:
        return None
    first = min(reports, key=lambda report: report.get("time", 0.0))
    return TaskError(first["message"], int(first["exit_code"]), first.get("kind", ""))
