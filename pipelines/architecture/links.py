"""Where a block's link points: its source file in the repository, by one rule.

:func:`resolve_links` is the rule, used by ``make diagram``, ``make docs-check`` and the tests
alike: the ``--repo-url`` argument, else ``$REPO_URL``, else the ``origin`` remote of git, else
links relative to ``docs/``. The staleness check compares what links point at
(:func:`link_path`), not their base, so a clone with a remote agrees with a committed file
written without one.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipelines.architecture.specs import ROOT

REPO_URL_ENV = "REPO_URL"
REPO_REF_ENV = "REPO_REF"
DEFAULT_REF = "main"
RELATIVE_PREFIX = "../"  # from docs/ to the repository root
_BLOB = re.compile(r"^https?://[^/]+/.+?/blob/[^/]+/(?P<path>.+)$")


def repo_url_from_git(root: Path = ROOT) -> str | None:
    """``git remote get-url origin`` as an https URL, or None (no remote, or a local path)."""
    try:
        url = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.match(r"^(?:ssh://)?git@([^:/]+)[:/](.+?)(?:\.git)?/?$", url)
    if match:
        return f"https://{match[1]}/{match[2]}"
    match = re.match(r"^(?:https?|git)://(?:[^@/]+@)?(.+?)(?:\.git)?/?$", url)
    return f"https://{match[1]}" if match else None


@dataclass(frozen=True)
class LinkConfig:
    """Links are ``<repo_url>/blob/<ref>/<path>``, or relative to ``docs/`` without a URL."""

    repo_url: str | None = None
    ref: str = DEFAULT_REF

    def link(self, source: str) -> str:
        """The link to ``source``, a path from the repository root."""
        if self.repo_url:
            return f"{self.repo_url}/blob/{self.ref}/{source}"
        return f"{RELATIVE_PREFIX}{source}"


def resolve_links(
    repo_url: str | None = None, ref: str | None = None, root: Path = ROOT
) -> LinkConfig:
    """The one rule: ``repo_url``, else ``$REPO_URL`` (unless empty), else the git remote, else
    relative links.

    Args:
        repo_url: a repository URL; ``""`` forces relative links.
        ref: the branch or commit in links (default ``$REPO_REF``, else ``main``).
        root: the checkout whose ``origin`` remote to read.
    """
    url = repo_url if repo_url is not None else os.environ.get(REPO_URL_ENV) or None
    if url is None:
        url = repo_url_from_git(root)
    return LinkConfig(
        repo_url=url.rstrip("/") if url else None,
        ref=ref or os.environ.get(REPO_REF_ENV) or DEFAULT_REF,
    )


def link_path(link: str) -> str:
    """The repository path a link points at, whatever its base (URL or relative).

    Raises:
        ValueError: ``link`` is neither form :meth:`LinkConfig.link` writes.
    """
    match = _BLOB.match(link)
    if match:
        return match["path"]
    if link.startswith(RELATIVE_PREFIX):
        return link.removeprefix(RELATIVE_PREFIX)
    raise ValueError(f"not a link to a repository file: {link!r}")
