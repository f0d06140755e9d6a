"""The single source of truth for the stage images' names and tags.

Components take their ``base_image`` from here, ``make images`` builds exactly
these tags (``python -m lifecycle.images`` prints them) and tests compare both.
"""

from __future__ import annotations

import sys

from lifecycle import __version__

PROJECT = "lifecycle"
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
)


def image_name(stage: str, registry: str = DEFAULT_REGISTRY) -> str:
    """Return the repository name of a stage image, e.g. ``localhost:5001/lifecycle-train``."""
    if stage not in STAGES and stage != "base":
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    return f"{registry}/{PROJECT}-{stage.replace('_', '-')}"


def image_tag(stage: str, registry: str = DEFAULT_REGISTRY, version: str = __version__) -> str:
    """Return the full tag of a stage image, e.g. ``localhost:5001/lifecycle-train:0.1.0``."""
    return f"{image_name(stage, registry)}:{version}"


def main(argv: list[str] | None = None) -> int:
    """Print ``stage tag`` lines for the Makefile (``--registry R`` overrides the default)."""
    args = sys.argv[1:] if argv is None else argv
    registry = args[args.index("--registry") + 1] if "--registry" in args else DEFAULT_REGISTRY
    for stage in STAGES:
        print(stage, image_tag(stage, registry))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
