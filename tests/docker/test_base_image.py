"""The base image (images/base/Dockerfile): non-root, labelled, pinned, no credentials, read-only.

Needs a Docker engine (``make docker-up``); the ``base_image`` fixture builds the image with
``make base-image`` when it is missing. Without an engine the tests skip, or fail when
``REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import tomllib
from pathlib import Path, PurePosixPath

import pytest

import lifecycle
from tests.credentials import find_credentials, secret_environment
from tests.docker._engine import docker, inspect_image, require_engine

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
BASE_DOCKERFILE = ROOT / "images" / "base" / "Dockerfile"
NON_ROOT_UID = 10001
OCI_LABELS = (
    "org.opencontainers.image.source",
    "org.opencontainers.image.version",
    "org.opencontainers.image.revision",
)
DEV_TOOLS = ("pytest", "ruff")
# Files that hold credentials wherever they appear, in any layer.
CREDENTIAL_FILES = (
    ".netrc",
    ".pypirc",
    ".git-credentials",
    ".docker/config.json",
    ".aws/credentials",
    ".kube/config",
    "application_default_credentials.json",
    "id_rsa",
    "id_ecdsa",
    "id_ed25519",
)
# Configuration files whose content is checked for secrets.
CONFIG_FILES = ("pip.conf", "pip.ini", ".npmrc", "apt.conf", "auth.conf")


def run_in(image: str, *command: str, extra: tuple[str, ...] = ()) -> str:
    """Run ``command`` in a throwaway container of ``image`` (no network) and return stdout."""
    return docker("run", "--rm", "--network", "none", *extra, image, *command).stdout


def test_base_dockerfile_bakes_in_no_host_trust_or_config() -> None:
    # The public-image build must not carry this machine's CA or pip settings (only the
    # offline base does); needs no engine.
    text = BASE_DOCKERFILE.read_text()
    for needle in ("pip.conf", "ca-certificates.crt", "PIP_CERT", "PIP_INDEX_URL", "/etc/ssl"):
        assert needle not in text, f"images/base/Dockerfile mentions {needle}"
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim", text, re.MULTILINE)


def test_runs_as_non_root(base_image: str) -> None:
    config = inspect_image(base_image)["Config"]
    assert config["User"].split(":")[0] in {str(NON_ROOT_UID), "lifecycle"}
    assert run_in(base_image, "id", "-u").strip() == str(NON_ROOT_UID)
    assert run_in(base_image, "id", "-g").strip() == str(NON_ROOT_UID)


def test_has_oci_labels(base_image: str) -> None:
    labels = inspect_image(base_image)["Config"]["Labels"] or {}
    for label in OCI_LABELS:
        assert labels.get(label), f"missing or empty label {label}"
    assert labels["org.opencontainers.image.version"] == lifecycle.__version__
    assert not find_credentials(labels["org.opencontainers.image.source"])


def test_environment_holds_no_credentials(base_image: str) -> None:
    env = inspect_image(base_image)["Config"]["Env"] or []
    assert secret_environment(env) == [], env
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_history_holds_no_credentials(base_image: str) -> None:
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", base_image).stdout
    assert history.strip(), "empty image history"
    assert find_credentials(history) == []


def test_no_layer_holds_credential_files(base_image: str) -> None:
    # Every layer, including files that a later layer deletes: stream `docker save`. Layers are
    # `<id>/layer.tar` (Docker < 25) or blobs of an OCI layout (`blobs/sha256/<digest>`).
    found: list[str] = []
    layers = 0
    save = subprocess.Popen([require_engine(), "save", base_image], stdout=subprocess.PIPE)
    assert save.stdout is not None
    with tarfile.open(fileobj=save.stdout, mode="r|") as archive:
        for member in archive:
            if not (member.name.endswith("layer.tar") or member.name.startswith("blobs/")):
                continue
            blob = archive.extractfile(member)
            if blob is None:
                continue
            try:
                files = tarfile.open(fileobj=blob, mode="r|*")  # noqa: SIM115 - `with` below
            except tarfile.ReadError:
                continue  # an OCI config or manifest blob, not a layer
            layers += 1
            with files:
                for entry in files:
                    path = PurePosixPath(entry.name.replace(".wh.", ""))
                    if any(path.match(f"*{name}") for name in CREDENTIAL_FILES):
                        found.append(f"{member.name}: {path}")
                    elif entry.isfile() and path.name in CONFIG_FILES:
                        content = files.extractfile(entry)
                        text = content.read().decode(errors="replace") if content else ""
                        found += [f"{member.name}: {path}: {f}" for f in find_credentials(text)]
    assert save.wait(timeout=600) == 0, "docker save failed"
    assert layers >= len(inspect_image(base_image)["RootFS"]["Layers"]), "layers not scanned"
    assert not found, found


def test_dependencies_are_the_pinned_ones(base_image: str) -> None:
    installed = {
        item["name"].lower(): item["version"]
        for item in json.loads(run_in(base_image, "pip", "list", "--format", "json"))
    }
    assert installed.get("kfp-lifecycle") == lifecycle.__version__
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for requirement in pyproject["project"]["dependencies"]:
        name, _, version = requirement.partition("==")
        assert installed.get(name.strip().lower()) == version.strip(), requirement
    assert not [tool for tool in DEV_TOOLS if tool in installed], "dev tools in the image"


def test_imports_lifecycle_read_only_without_network(base_image: str) -> None:
    # Read-only root filesystem, writable /tmp only, no network: as a stage container runs.
    script = (
        "import os, kfp, lifecycle, pandas, pyarrow\n"
        "open('/tmp/probe', 'w').write('ok')\n"
        "try:\n"
        "    open('/opt/venv/probe', 'w')\n"
        "except OSError:\n"
        "    print('read-only', os.getuid(), lifecycle.__version__)\n"
    )
    out = run_in(base_image, "python", "-c", script, extra=("--read-only", "--tmpfs", "/tmp"))
    assert out.split() == ["read-only", str(NON_ROOT_UID), lifecycle.__version__]
