"""A command's wall time, CPU time and peak RSS, as its own.

``wait4``'s ``ru_maxrss`` is the most memory a process ever held, but Linux folds into it
the memory of the process that spawned it (at ``exec`` the replaced address space's high
water mark is kept): a benchmark that holds its data would lend its own size to every
command it times. Here a small launcher process (this file, run as a script) spawns the
command and waits for it, so the figure is the command's own (or the launcher's, some 10 MB,
when the command holds less).

    python bench/measured.py REPORT.json COMMAND [ARG ...]

writes ``{"seconds", "cpu_seconds", "peak_rss_mb", "returncode"}`` to REPORT.json, the time
taken from just before the spawn to the wait's return (not the launcher's own start).
:func:`run_measured` does all of it from a benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _launch(report: str, command: list[str]) -> int:
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    measured = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024.0,
        "returncode": returncode,
    }
    Path(report).write_text(json.dumps(measured))
    return returncode


def run_measured(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``command`` through the launcher: its ``seconds``, ``cpu_seconds``,
    ``peak_rss_mb`` and ``returncode``, with its ``stdout`` and ``stderr`` (through files, so
    a long output never blocks it)."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            launcher = [sys.executable, __file__, str(report), *command]
            subprocess.run(launcher, env=env, stdout=out, stderr=err, check=False)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode()
        if not report.exists():
            raise SystemExit(f"the launcher failed for {' '.join(command)}:\n{stderr[-3000:]}")
        return {**json.loads(report.read_text()), "stdout": stdout, "stderr": stderr}


if __name__ == "__main__":
    raise SystemExit(_launch(sys.argv[1], sys.argv[2:]))
