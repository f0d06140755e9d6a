"""``python -m pipelines.architecture`` (``make diagram``; ``--check``: ``make docs-check``)."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from pipelines.architecture.generate import DOCS, generate, stale_files
from pipelines.architecture.links import REPO_REF_ENV, REPO_URL_ENV, resolve_links

PROGRAMS = ("dot", "gvpack", "neato")  # Debian's graphviz package


def main(argv: Iterable[str] | None = None) -> int:
    """Regenerate the architecture docs, or with ``--check`` exit 1 when they are stale."""
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.architecture",
        description="Write docs/architecture.drawio, .svg and the README tables from the "
        "compiled pipelines.",
    )
    parser.add_argument("--out", type=Path, default=DOCS, help="docs folder (default: docs/)")
    parser.add_argument(
        "--repo-url",
        default=None,
        help=f"repository URL for links (default: ${REPO_URL_ENV}, else git remote origin, "
        "else relative links; '' for relative links)",
    )
    parser.add_argument(
        "--ref", default=None, help=f"branch or commit in links (default: ${REPO_REF_ENV} or main)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the committed files are stale"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    missing = [program for program in PROGRAMS if shutil.which(program) is None]
    if missing:
        print(
            f"error: Graphviz {', '.join(missing)} not found (apt-get install graphviz)",
            file=sys.stderr,
        )
        return 2
    links = resolve_links(args.repo_url, args.ref)
    if args.check:
        stale = stale_files(args.out, links)
        for name in stale:
            print(f"stale: {args.out / name} (run make diagram)", file=sys.stderr)
        return 1 if stale else 0
    for path in generate(args.out, links):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
