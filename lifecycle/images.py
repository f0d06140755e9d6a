"""The single source of truth for the images' names and tags.

Components take their ``base_image`` from here, ``make images`` builds exactly these tags
(``python -m lifecycle.images`` prints them), ``make kind-load`` and ``make images-push`` move
them, the manifests name them (``--kustomize``) and tests compare all of these. The registry is
``$LIFECYCLE_REGISTRY`` (``make … REGISTRY=…`` sets it), else kind's conventional local one; it
is read when a tag is asked for, which for the components is when their module is imported, so
one process compiles, builds and runs against one registry.

Tags come from content, never from a version number: a tag is the first 12 hex digits of the
sha256 of everything its image is built from (:func:`image_inputs`). Same inputs, same tag; a
change to a stage's code changes its tag, so the compiled pipeline changes and its next upload
is a new pipeline version. Each image's inputs are its own build folder ``images/<image>/``
(its Dockerfile and anything beside it) plus the inputs of the image it is built on:

* ``base``: ``images/base/``, ``pyproject.toml`` (the pinned dependencies and what the wheel
  holds) and the project's sources that the wheel installs (``.py``, ``.yaml``, ``.csv`` under
  ``lifecycle/``, ``components/``, ``pipelines/``), except the compiled YAML, which names the
  tags itself, and the tag file baked into the wheel;
* each stage: the base's digest plus ``images/<stage>/``;
* ``minio``: ``images/minio/``, which holds the pinned MinIO version (``minio.version``) that
  ``make minio-install`` builds and the image copies.

In the repository the digests are computed from the files. An installed wheel (the images)
has no Dockerfiles, so ``make wheel`` bakes the tags it computed into ``image_tags.json``
beside this module and they are read from there.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

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
    "serve",
    "predict",
)
BASE = "base"
MINIO = "minio"
# Every image the cluster runs: the stages', the base (the MinIO provisioning Job runs it) and
# MinIO's. Each has its build folder images/<name>/.
IMAGES: tuple[str, ...] = (*STAGES, BASE, MINIO)

ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = "images"
TAG_LENGTH = 12
# Tags baked into the wheel by `make wheel` (git-ignored; never hashed).
BAKED_TAGS = Path(__file__).with_name("image_tags.json")
# What the base image installs: the wheel's packages and their file types (pyproject.toml).
SOURCE_PACKAGES = ("lifecycle", "components", "pipelines", "cli")
SOURCE_SUFFIXES = frozenset({".py", ".yaml", ".csv"})
# Written by `make compile` from the sources, and naming the tags: never an input.
COMPILED_NAMES = ("component.yaml", "*_pipeline.yaml")


class ImageTagError(RuntimeError):
    """Neither the repository's build inputs nor a baked tag file is available."""


def registry() -> str:
    """The registry of every image: ``$LIFECYCLE_REGISTRY``, else :data:`DEFAULT_REGISTRY`."""
    return os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY


def _check(image: str) -> None:
    if image not in IMAGES:
        raise ValueError(f"unknown image {image!r}; expected one of {', '.join(IMAGES)}")


def image_name(image: str, registry_host: str | None = None) -> str:
    """Return the repository name of an image, e.g. ``localhost:5001/lifecycle-train``."""
    _check(image)
    return f"{registry_host or registry()}/{PROJECT}-{image.replace('_', '-')}"


def _is_compiled(path: Path) -> bool:
    return any(path.match(pattern) for pattern in COMPILED_NAMES)


def _files_under(folder: Path, suffixes: frozenset[str] | None = None) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and not path.name.endswith(".egg-info")
        and (suffixes is None or path.suffix in suffixes)
    )


def image_inputs(image: str, root: Path = ROOT) -> list[Path]:
    """The files an image is built from, besides those of the image it is built on.

    Args:
        image: a name of :data:`IMAGES`.
        root: the repository.

    Returns:
        The files, sorted; the base's include the project sources the wheel installs.

    Raises:
        ValueError: unknown image.
        ImageTagError: its build folder is missing.
    """
    _check(image)
    folder = root / IMAGES_DIR / image
    if not (folder / "Dockerfile").is_file():
        raise ImageTagError(f"{folder / 'Dockerfile'} is missing")
    files = _files_under(folder)
    if image == BASE:
        files.append(root / "pyproject.toml")
        for package in SOURCE_PACKAGES:
            files += [
                path
                for path in _files_under(root / package, SOURCE_SUFFIXES)
                if not _is_compiled(path) and path.name != BAKED_TAGS.name
            ]
    return files


def _digest(root: Path, files: Iterable[Path], parent: str = "") -> str:
    sha = hashlib.sha256(parent.encode())
    for path in files:
        # The path relative to the repository, then the bytes: a rename changes the digest.
        sha.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
        sha.update(path.read_bytes())
    return sha.hexdigest()


def content_digest(image: str, root: Path = ROOT) -> str:
    """The sha256 (hex) of an image's inputs, chained through the image it is built on.

    Raises:
        ValueError: unknown image.
        ImageTagError: a build folder is missing.
    """
    parent = content_digest(BASE, root) if image in STAGES else ""
    return _digest(root, image_inputs(image, root), parent)


def in_repository(root: Path = ROOT) -> bool:
    """Whether ``root`` holds the images' build folders (a checkout, not an installed wheel)."""
    return (root / IMAGES_DIR / BASE / "Dockerfile").is_file() and (
        root / "pyproject.toml"
    ).is_file()


@functools.cache
def _repository_tags() -> dict[str, str]:
    # Computed once per process: components ask at import, and the sources do not change
    # under a running compile.
    return {image: content_digest(image)[:TAG_LENGTH] for image in IMAGES}


def content_tags(root: Path | None = None) -> dict[str, str]:
    """Image -> content tag (12 hex): from the repository's files, else the baked file.

    Args:
        root: a repository to compute from; by default this package's checkout, else the
            tags baked into the installed wheel.

    Raises:
        ImageTagError: no build inputs and no baked tags (or a baked file missing an image).
    """
    if root is not None:
        return {image: content_digest(image, root)[:TAG_LENGTH] for image in IMAGES}
    if in_repository():
        return _repository_tags()
    try:
        baked = json.loads(BAKED_TAGS.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImageTagError(
            f"no build inputs under {ROOT / IMAGES_DIR} and no readable {BAKED_TAGS} ({exc}); "
            "the wheel must be built by `make wheel`"
        ) from None
    missing = [image for image in IMAGES if image not in baked]
    if missing:
        raise ImageTagError(f"{BAKED_TAGS} has no tag for {', '.join(missing)}")
    return {image: baked[image] for image in IMAGES}


def image_tag(image: str, registry_host: str | None = None) -> str:
    """Return the full tag of an image, e.g. ``localhost:5001/lifecycle-train:3f2a9c1b7d4e``.

    Raises:
        ValueError: unknown image.
        ImageTagError: see :func:`content_tags`.
    """
    return f"{image_name(image, registry_host)}:{content_tags()[image]}"


def kustomize_images(registry_host: str | None = None) -> str:
    """A kustomize Component mapping the manifests' short image names to the tags.

    The manifests name images ``lifecycle-<image>`` (no registry, no tag); ``make
    manifests-images`` writes this to ``manifests/components/lifecycle-images/``.
    """
    lines = [
        "# Written by `make manifests-images` (python -m lifecycle.images --kustomize):",
        "# the content tags of lifecycle.images. Git-ignored; do not edit.",
        "apiVersion: kustomize.config.k8s.io/v1alpha1",
        "kind: Component",
        "images:",
    ]
    # The base (the MinIO setup Job), MinIO, and the serve image (the InferenceService).
    for image in (BASE, MINIO, "serve"):
        repository, tag = image_tag(image, registry_host).rsplit(":", 1)
        lines += [
            f"  - name: {PROJECT}-{image}",
            f"    newName: {repository}",
            f"    newTag: {tag}",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print ``image tag`` lines for the Makefile, one tag, or the baked or kustomize files."""
    parser = argparse.ArgumentParser(
        prog="python -m lifecycle.images", description="The images' content tags."
    )
    parser.add_argument(
        "--registry", help=f"registry (default ${REGISTRY_ENV} or {DEFAULT_REGISTRY})"
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--stage", choices=IMAGES, help="print only this image's tag")
    what.add_argument(
        "--all", action="store_true", help="every image the cluster runs, not only the stages'"
    )
    what.add_argument("--digest", choices=IMAGES, help="print this image's full sha256")
    what.add_argument(
        "--kustomize", action="store_true", help="print the manifests' images Component"
    )
    what.add_argument(
        "--bake", type=Path, metavar="FILE", help="write the tags as JSON (make wheel)"
    )
    args = parser.parse_args(argv)
    if args.stage:
        print(image_tag(args.stage, args.registry))
    elif args.digest:
        print(content_digest(args.digest))
    elif args.kustomize:
        print(kustomize_images(args.registry), end="")
    elif args.bake:
        args.bake.write_text(json.dumps(content_tags(), indent=2, sort_keys=True) + "\n")
    else:
        for image in IMAGES if args.all else STAGES:
            print(image, image_tag(image, args.registry))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
