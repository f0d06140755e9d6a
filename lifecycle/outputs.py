"""Files and folders a command writes outside the store, checked before the command starts.

A scenario plays for a minute before it writes its report: a report path it cannot write
must end the command before the first task, not after the last. Each check creates and
removes a probe file where the output will go, which is the only test that also holds for
root, read-only mounts and full disks.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lifecycle.errors import InvalidInputError


def _probe(folder: Path, argument: str, shown: Path) -> None:
    try:
        handle, name = tempfile.mkstemp(prefix=".lifecycle-probe-", dir=folder)
    except OSError as exc:
        raise InvalidInputError(
            f"{argument} {shown}: cannot write there: {exc.strerror or exc}"
        ) from None
    os.close(handle)
    os.unlink(name)


def writable_folder(path: str | Path, argument: str) -> Path:
    """Make ``path`` (and its parents) when absent and check that files can be written in it.

    Args:
        path: the output folder.
        argument: the option that named it, e.g. ``--to``, for the error message.

    Returns:
        The folder.

    Raises:
        InvalidInputError: it is a file, cannot be made, or cannot be written to.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InvalidInputError(f"{argument} {folder}: is a file, not a folder") from None
    except OSError as exc:
        raise InvalidInputError(
            f"{argument} {folder}: cannot create the folder: {exc.strerror or exc}"
        ) from None
    _probe(folder, argument, folder)
    return folder


def writable_file(path: str | Path, argument: str) -> Path:
    """Check that ``path`` can be written: its folder exists and takes files, and it is not
    a folder itself. Nothing is left behind.

    Args:
        path: the output file.
        argument: the option that named it, e.g. ``--report``, for the error message.

    Returns:
        The path.

    Raises:
        InvalidInputError: naming ``argument``, the path and the reason.
    """
    target = Path(path)
    if target.is_dir():
        raise InvalidInputError(f"{argument} {target}: is a folder, not a file")
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InvalidInputError(f"{argument} {target}: its folder {folder} {what}")
    if target.exists() and not os.access(target, os.W_OK):
        raise InvalidInputError(f"{argument} {target}: the file is not writable")
    _probe(folder, argument, target)
    return target


def write_atomically(path: Path, data: bytes, argument: str) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so that a reader
    (or a crash) never sees half a file.

    Raises:
        InvalidInputError: the file cannot be written, naming ``argument``.
    """
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InvalidInputError(f"{argument} {path}: cannot write: {exc.strerror or exc}") from None
