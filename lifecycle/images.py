"""The single source of truth for the stage images' names and tags.

Components take their ``base_image`` from here, ``make images`` builds exactly these tags
(``python -m lifecycle.images`` prints them), ``make kind-load`` loads them and tests compare
all three. The registry is ``$LIFECYCLE_REGISTRY`` (``make … REGISTRY=…`` sets it), else
kind's conventional local one; it is read when a tag is asked for, which for the components is
when their module is imported, so one process compiles, builds and runs against one registry.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from lifecycle import __version__

PROJECT = "lifecycle"
REGISTRY_ENV = "LIFECYCLE_REGISTRY"
# kind's conventional local registry; images are loaded into kind with
# ``kind load`` and pulled with ``IfNotPresent``, so no registry is required.
DEFAULT_REGISTRY = "localhost:5001"

STAGES: tuple[str, ...] = (
    "ingest",
    "validate",
    "train",
    "evaluate",
    "detect_drift",
    "select_data",
    "promote",
    "finalize",
)


def registry() -> str:
    """The registry of every image: ``$LIFECYCLE_REGISTRY``, else :data:`DEFAULT_REGISTRY`."""
    return os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY


def image_name(stage: str, registry_host: str | None = None) -> str:
    """Return the repository name of a stage image, e.g. ``localhost:5001/lifecycle-train``."""
    if stage not in STAGES and stage != "base":
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    return f"{registry_host or registry()}/{PROJECT}-{stage.replace('_', '-')}"


def image_tag(stage: str, registry_host: str | None = None, version: str = __version__) -> str:
    """Return the full tag of a stage image, e.g. ``localhost:5001/lifecycle-train:0.1.0``."""
    return f"{image_name(stage, registry_host)}:{version}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print ``stage tag`` lines for the Makefile, or one tag with ``--stage``."""
    parser = argparse.ArgumentParser(
        prog="python -m lifecycle.images", description="The stage images' tags."
    )
    parser.add_argument(
        "--registry", help=f"registry (default ${REGISTRY_ENV} or {DEFAULT_REGISTRY})"
    )
    parser.add_argument("--stage", choices=[*STAGES, "base"], help="print only this image's tag")
    args = parser.parse_args(argv)
    if args.stage:
        print(image_tag(args.stage, args.registry))
        return 0
    for stage in STAGES:
        print(stage, image_tag(stage, args.registry))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
