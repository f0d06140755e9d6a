"""The rendered manifests, shared by the manifest and API-server tests (one render a session)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cluster.rendering import (
    OFFLINE_OVERLAYS,
    Resource,
    copy_manifests,
    load_docs,
    manifests_check,
)


@pytest.fixture(scope="session")
def manifests_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of manifests/ with test credentials and the images Component."""
    return copy_manifests(tmp_path_factory.mktemp("manifests"))


@pytest.fixture(scope="session")
def manifests_checked(
    manifests_copy: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``make manifests-check``'s command, run on the copy; its result and output folder."""
    out = tmp_path_factory.mktemp("rendered")
    return manifests_check(manifests_copy, out), out


@pytest.fixture(scope="session")
def rendered(manifests_checked) -> dict[str, list[Resource]]:
    """Every offline overlay as `make manifests-check` rendered it."""
    result, out = manifests_checked
    assert result.returncode == 0, result.stdout + result.stderr
    return {name: load_docs((out / f"{name}.yaml").read_text()) for name in OFFLINE_OVERLAYS}


@pytest.fixture(scope="session")
def rendered_files(manifests_checked) -> dict[str, Path]:
    """Overlay -> its rendered file."""
    result, out = manifests_checked
    assert result.returncode == 0, result.stdout + result.stderr
    return {name: out / f"{name}.yaml" for name in OFFLINE_OVERLAYS}
