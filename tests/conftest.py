"""Shared fixtures. Service fixtures live in tests/fixtures/ and are loaded here."""

from __future__ import annotations

import os

import pytest

pytest_plugins: list[str] = ["tests.fixtures.minio", "tests.fixtures.kube"]


# Tests that share one costly set-up run on one worker under `make test` (pytest-xdist's
# --dist loadgroup): the Docker tests (one `make images`, whose wheel both would write) and
# the API-server tests (one kube-apiserver); every other file is a group of its own, so a
# module's fixture (a whole scenario run) is built once.
_SHARED_SETUP_GROUPS = {"tests/docker/": "docker", "tests/cluster/": "cluster"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        group = next(
            (name for prefix, name in _SHARED_SETUP_GROUPS.items() if path.startswith(prefix)),
            path,
        )
        item.add_marker(pytest.mark.xdist_group(group))


def services_required() -> bool:
    """CI sets REQUIRE_SERVICES=1: a missing MinIO or Docker is then a failure, not a skip."""
    return os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``, or fail when services are required."""
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)
