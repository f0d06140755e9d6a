"""Shared fixtures. Service fixtures live in tests/fixtures/ and are loaded here."""

from __future__ import annotations

import os

import pytest

pytest_plugins: list[str] = ["tests.fixtures.minio", "tests.fixtures.kube"]


def services_required() -> bool:
    """CI sets REQUIRE_SERVICES=1: a missing MinIO or Docker is then a failure, not a skip."""
    return os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``, or fail when services are required."""
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)
