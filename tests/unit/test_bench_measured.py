"""bench/measured.py: a benchmarked command's peak RSS is its own, not that of the benchmark
timing it (which holds the data), and its exit code comes through."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "bench" / "measured.py"
HELD_MB = 400


def _measured(tmp_path: Path, code: str) -> tuple[dict, int]:
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, str(LAUNCHER), str(report), sys.executable, "-c", code])
    return json.loads(report.read_text()), done.returncode


def test_a_command_s_peak_rss_is_its_own_while_the_benchmark_holds_more(tmp_path):
    held = np.ones((HELD_MB << 20) // 8)  # touched: all of it resident
    spawned_here = subprocess.Popen([sys.executable, "-c", "pass"])
    _, _, usage = os.wait4(spawned_here.pid, 0)
    # Why the launcher: spawned from here, the command reads as this process's size.
    assert usage.ru_maxrss / 1024 >= HELD_MB

    measured, code = _measured(tmp_path, "pass")

    assert code == 0 and measured["returncode"] == 0
    assert measured["peak_rss_mb"] < 100
    assert measured["seconds"] > 0 and measured["cpu_seconds"] > 0
    assert held[-1] == 1.0  # still held while the command ran


def test_the_command_s_exit_code_comes_through(tmp_path):
    measured, code = _measured(tmp_path, "raise SystemExit(3)")
    assert code == 3 and measured["returncode"] == 3
