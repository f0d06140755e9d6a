"""Fixtures of the container tests: the base image (built when missing) and the stage images."""

from __future__ import annotations

import os

import pytest

from lifecycle.images import STAGES, image_tag, registry
from tests.docker._engine import image_exists, make_images, require_engine

# Same defaults as mk/docker.mk.
PUBLIC_BASE_IMAGE = "python:3.11-slim-bookworm"
OFFLINE_BASE_IMAGE = os.environ.get("OFFLINE_BASE_IMAGE", "lifecycle-python-base:3.11-bookworm")
_BUILD_TIMEOUT = 1800.0


def python_base_image() -> str:
    """The image to build FROM: ``$BASE_IMAGE``, else the offline base when local, else public."""
    if os.environ.get("BASE_IMAGE"):
        return os.environ["BASE_IMAGE"]
    return OFFLINE_BASE_IMAGE if image_exists(OFFLINE_BASE_IMAGE) else PUBLIC_BASE_IMAGE


@pytest.fixture(scope="session")
def base_image() -> str:
    """The tag of the project's base image; ``make base-image`` builds it when missing.

    CI builds it before the tests (``make base-image``), so this only builds on a fresh machine.
    """
    require_engine()
    tag = image_tag("base")
    if not image_exists(tag):
        result = make_images(
            "base-image", f"BASE_IMAGE={python_base_image()}", timeout=_BUILD_TIMEOUT
        )
        assert result.returncode == 0, (
            f"make base-image failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
        assert image_exists(tag), f"make base-image did not produce {tag}"
    return tag


@pytest.fixture(scope="session")
def stage_images(base_image: str) -> dict[str, str]:
    """``stage -> tag`` of every stage image, after ``make images`` (a cache hit when current).

    Runs ``make images`` even when the tags exist, so the images are those of the Dockerfiles
    in the tree; CI has built them just before, so this costs seconds there.
    """
    build = ["images", f"BASE_IMAGE={python_base_image()}", f"REGISTRY={registry()}"]
    result = make_images(*build, timeout=_BUILD_TIMEOUT)
    assert result.returncode == 0, (
        f"make images failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    tags = {stage: image_tag(stage) for stage in STAGES}
    missing = [tag for tag in tags.values() if not image_exists(tag)]
    assert not missing, f"make images did not produce {missing}"
    return tags
