"""The registry-free Python base (scripts/base-image-offline.sh), when it was built here.

It is optional (users with a registry build FROM the public image), so these tests skip
when the image is absent even under ``REQUIRE_SERVICES=1``; the engine itself is required then.
"""

from __future__ import annotations

import pytest

from tests.docker._engine import docker, image_exists, inspect_image
from tests.docker.conftest import OFFLINE_BASE_IMAGE
from tests.docker.test_base_image import SECRET_NAME, URL_WITH_PASSWORD

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def offline_base() -> str:
    """The offline base's tag; skips when ``make base-image-offline`` has not built it."""
    if not image_exists(OFFLINE_BASE_IMAGE):
        pytest.skip(f"{OFFLINE_BASE_IMAGE} not built (make base-image-offline)")
    return OFFLINE_BASE_IMAGE


def test_python_and_python3_are_3_11(offline_base: str) -> None:
    for python in ("python", "python3"):
        out = docker(
            "run",
            "--rm",
            "--network",
            "none",
            offline_base,
            python,
            "-c",
            "import sys, venv, ssl; print(*sys.version_info[:2])",
        ).stdout
        assert out.split() == ["3", "11"], python


def test_carries_no_credentials(offline_base: str) -> None:
    env = inspect_image(offline_base)["Config"]["Env"] or []
    assert not [item for item in env if SECRET_NAME.search(item.split("=", 1)[0])], env
    assert not [item for item in env if URL_WITH_PASSWORD.search(item)], env
    pip_conf = docker(
        "run", "--rm", "--network", "none", offline_base, "sh", "-c", "cat /etc/pip.conf || true"
    ).stdout
    assert not URL_WITH_PASSWORD.search(pip_conf)
