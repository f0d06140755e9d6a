"""The Docker engine for the container tests: find it, or skip (fail under REQUIRE_SERVICES=1).

``make docker-up`` (scripts/docker-up.sh) starts one. CI sets ``REQUIRE_SERVICES=1`` so that a
missing engine fails the run instead of silently skipping the container tests.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Held while a test builds with make: the suite's workers (pytest-xdist) would otherwise write
# the same wheel and tags at once.
BUILD_LOCK = Path(tempfile.gettempdir()) / "lifecycle-test-image-builds.lock"
REQUIRE_SERVICES_ENV = "REQUIRE_SERVICES"
DOCKER_ENV = "DOCKER"
_INFO_TIMEOUT = 20.0


def docker_cli() -> str | None:
    """Return the docker client to use (``$DOCKER``, else ``docker`` on PATH), or None."""
    return shutil.which(os.environ.get(DOCKER_ENV, "docker"))


@cache
def engine_unavailable_reason() -> str | None:
    """Return why the engine cannot be used, or None when ``docker info`` answers."""
    cli = docker_cli()
    if cli is None:
        return "no docker client on PATH (make docker-up installs docker.io)"
    try:
        result = subprocess.run(
            [cli, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=_INFO_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return f"`docker info` did not answer within {_INFO_TIMEOUT:.0f}s"
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        return f"the Docker engine does not answer (make docker-up starts it): {detail[0]}"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``, or fail when ``REQUIRE_SERVICES=1`` (CI).

    Raises:
        pytest.fail.Exception: when services are required.
        pytest.skip.Exception: otherwise.
    """
    if os.environ.get(REQUIRE_SERVICES_ENV) == "1":
        pytest.fail(f"{REQUIRE_SERVICES_ENV}=1 but {reason}")
    pytest.skip(reason)


def require_engine() -> str:
    """Return the docker client when the engine answers, else skip or fail."""
    reason = engine_unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    cli = docker_cli()
    assert cli is not None
    return cli


def docker(
    *args: str, check: bool = True, timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    """Run ``docker ARGS`` and return the completed process (text output).

    Raises:
        AssertionError: when ``check`` and the command fails (stderr in the message).
    """
    result = subprocess.run(
        [require_engine(), *args], capture_output=True, text=True, timeout=timeout
    )
    if check:
        assert result.returncode == 0, (
            f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result


def image_exists(tag: str) -> bool:
    """Whether ``tag`` is in the local image store."""
    return docker("image", "inspect", tag, check=False).returncode == 0


def inspect_image(tag: str) -> dict[str, Any]:
    """Return ``docker image inspect TAG`` as a dict."""
    return json.loads(docker("image", "inspect", tag).stdout)[0]


def make_images(*targets: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``make -C ROOT *targets``, one build at a time across the suite's processes."""
    with BUILD_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.run(
            ["make", "-C", str(ROOT), *targets], capture_output=True, text=True, timeout=timeout
        )
