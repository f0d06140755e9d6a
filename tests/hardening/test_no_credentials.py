"""No credentials in the repository, the compiled pipelines or the manifests."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PATTERNS = {
    "AWS access key id": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s:@'\"$]+@"),
    "literal secret value": re.compile(
        r"(?i)\b(secret_?key|password|access_?key|token)\b\s*[:=]\s*['\"]?(?!\$|\{|<|\(|os\.|None\b|\"\"|'')[A-Za-z0-9+/]{16,}"
    ),
}

# Fake values that tests feed in to check that credentials are refused and never echoed.
TEST_FAKES = ("s3cr3t-value",)


def committed_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    return [ROOT / name for name in listed if name and (ROOT / name).is_file()]


def local_default_credentials() -> list[str]:
    """The local-only MinIO defaults of mk/minio.mk: fine for `make minio`, never elsewhere."""
    text = (ROOT / "mk" / "minio.mk").read_text()
    return re.findall(r"^MINIO_ROOT_(?:USER|PASSWORD) \?= (\S+)$", text, flags=re.M)


def test_no_committed_file_holds_a_credential():
    offenders = []
    for path in committed_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for what, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                if any(fake in match.group(0) for fake in TEST_FAKES):
                    continue
                offenders.append(f"{path.relative_to(ROOT)}: {what}: {match.group(0)[:40]}")
    assert offenders == []


@pytest.mark.parametrize("folder", ["manifests", "components", "pipelines", "images"])
def test_local_default_credentials_stay_out_of_what_is_deployed(folder):
    defaults = local_default_credentials()
    assert defaults, "mk/minio.mk defines no local defaults to look for"
    for path in (ROOT / folder).rglob("*"):
        if path.is_file() and path.suffix in {
            ".yaml",
            ".yml",
            ".py",
            ".json",
            ".env",
            ".example",
            "",
        }:
            text = path.read_text(encoding="utf-8", errors="ignore")
            for value in defaults:
                assert value not in text, (
                    f"{path.relative_to(ROOT)} holds the local default {value!r}"
                )
