"""The manifests as `make manifests-check` renders them, for the tests of tests/cluster.

``make manifests-check``'s own command (``$(MANIFESTS_CHECK)`` of mk/cluster.mk:
scripts/manifests-check.sh over every offline overlay) runs on a copy of ``manifests/`` that
holds, in place of the git-ignored generated files, recognisable test credentials (one env
file per MinIO user) and the images Component that ``make manifests-images`` writes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from lifecycle.images import kustomize_images

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
CLUSTER_MK = REPO / "mk" / "cluster.mk"
KUSTOMIZE = REPO / ".tools" / "bin" / "kustomize"
VENV_BIN = Path(sys.executable).parent

# What `make manifests-check` renders, and the overlays that fetch upstream KFP instead.
OFFLINE_OVERLAYS = ("kfp-offline", "kind-offline", "minio", "serving")
REMOTE_OVERLAYS = ("kfp", "kind")
NAMESPACE = "kubeflow"
# One generated Secret per MinIO user: env file (git-ignored) -> Secret, with test values.
SECRETS = {
    "minio-root.env": ("minio-root", "testroot0123", "testrootsecret0123456789"),
    "minio.env": ("mlpipeline-minio-artifact", "testaccess0123", "testsecret0123456789abcdef"),
    "lifecycle-stage.env": ("lifecycle-minio-stage", "teststage0123", "teststagesecret012345"),
}
IMAGES_COMPONENT = Path("components") / "lifecycle-images" / "kustomization.yaml"

Resource = dict[str, Any]


def require_tool(path: Path, how: str) -> Path:
    """Return ``path`` if it is an executable; else skip, or fail when REQUIRE_SERVICES=1."""
    if path.is_file() and os.access(path, os.X_OK):
        return path
    reason = f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path} is not built: {how}"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def make_var(name: str, makefile: Path = CLUSTER_MK) -> str:
    """The default of ``NAME ?= value`` in a makefile (the single source of the pins)."""
    match = re.search(rf"^{name} \?= (\S+)$", makefile.read_text(), re.MULTILINE)
    assert match, f"{name} is not set in {makefile}"
    return match.group(1)


def make_eval(expression: str, *assignments: str) -> str:
    """What make expands ``expression`` to, with the project's makefiles and ``assignments``."""
    show = ["make", "--no-print-directory", "--eval", f"show-value: ; @echo {expression}"]
    result = subprocess.run(
        [*show, "show-value", *assignments], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def load_docs(text: str) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def copy_manifests(destination: Path) -> Path:
    """A copy of manifests/ with test credentials and the images Component; its root."""
    root = destination / "manifests"
    shutil.copytree(MANIFESTS, root, ignore=shutil.ignore_patterns(*SECRETS))
    for env_file, (_, access, secret) in SECRETS.items():
        (root / "overlays" / "minio" / env_file).write_text(
            f"accesskey={access}\nsecretkey={secret}\n"
        )
    # Overwrites any component this checkout generated (for another registry, say).
    (root / IMAGES_COMPONENT).write_text(kustomize_images())
    return root


def manifests_check(manifests_root: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Run ``make manifests-check``'s command on ``manifests_root``, writing under ``out``."""
    require_tool(KUSTOMIZE, "run `make kustomize-install`")
    require_tool(VENV_BIN / "kubernetes-validate", "run `make install`")
    command = make_eval(
        "$(MANIFESTS_CHECK)", f"MANIFESTS_DIR={manifests_root}", f"MANIFESTS_OUT={out}"
    )
    return subprocess.run(
        shlex.split(command), cwd=REPO, capture_output=True, text=True, check=False
    )
