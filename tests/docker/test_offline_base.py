"""The registry-free Python base (scripts/base-image-offline.sh), when it was built here.

It is optional for users with a registry (they build FROM the public image), so these tests
skip when it is absent; under ``REQUIRE_SERVICES=1`` (CI, which builds it) they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.credentials import find_credentials, secret_environment
from tests.docker._engine import docker, image_exists, inspect_image, skip_or_fail
from tests.docker.conftest import OFFLINE_BASE_IMAGE

pytestmark = pytest.mark.docker

HOST_CA = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(scope="module")
def offline_base() -> str:
    """The offline base's tag; skips (or fails in CI) when it has not been built."""
    if not image_exists(OFFLINE_BASE_IMAGE):
        skip_or_fail(f"{OFFLINE_BASE_IMAGE} not built (make base-image-offline)")
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
    assert secret_environment(env) == [], env
    pip_conf = docker(
        "run", "--rm", "--network", "none", offline_base, "sh", "-c", "cat /etc/pip.conf || true"
    ).stdout
    assert find_credentials(pip_conf) == []


def _read_in(image: str, path: str) -> str:
    return docker(
        "run", "--rm", "--network", "none", image, "sh", "-c", f"cat {path} 2>/dev/null || true"
    ).stdout


def test_carries_the_hosts_ca_bundle_and_pip_configuration(offline_base: str) -> None:
    # What the image is for: pip working behind this machine's TLS-intercepting proxy.
    env = dict(item.split("=", 1) for item in inspect_image(offline_base)["Config"]["Env"] or [])
    host_ca = Path(HOST_CA)
    if host_ca.is_file():
        assert _read_in(offline_base, HOST_CA) == host_ca.read_text()
        assert env.get("SSL_CERT_FILE") == HOST_CA
    host_pip = Path("/etc/pip.conf")
    if host_pip.is_file():
        carried = _read_in(offline_base, "/etc/pip.conf").splitlines()
        assert carried, "the host's /etc/pip.conf was not carried"
        assert set(carried) <= set(host_pip.read_text().splitlines())  # only lines dropped
    for name, value in os.environ.items():
        if name == "PIP_CERT" and Path(value).exists():
            assert env.get(name) == value
