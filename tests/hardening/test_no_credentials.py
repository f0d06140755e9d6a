"""No credentials in the repository, the compiled pipelines or the manifests.

The scanner itself is tested first: planted secrets are caught, references pass.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.credentials import find_credentials

ROOT = Path(__file__).resolve().parents[2]
# Where the local-only MinIO defaults are defined and documented (and only there).
DOCUMENTED_DEFAULTS = ("minio.mk", "README.md")
# This file plants secrets on purpose to test the scanner.
SCANNER_FIXTURES = ("tests/hardening/test_no_credentials.py",)

# Fake values that tests feed in to check that credentials are refused and never echoed.
TEST_FAKES = (
    "s3cr3t-value",
    "s3cretvalue1",
    "alice01",
    "testaccess0123",
    "testsecret0123456789abcdef",
    "has:colon@and/slash",
    "rootsecret01",
    "kfpsecret01",
    "team-a-token",
)

# What the scanner must catch, and look-alikes it must let pass.
PLANTED_SECRETS = [
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    'MINIO_SECRET_KEY="s0me-Secret-value"',
    "export MINIO_ROOT_PASSWORD=hunter2-hunter2",
    "MINIO_ROOT_PASSWORD ?= lifecycle-local-only-secret",
    'password: "correct-horse-battery"',
    "secret_key = 'abcdefgh12345678'",
    "token: ghp_abcdefghijklmnop1234",
    '{"secretkey": "abc123defghi"}',
    "https://user:pa55word@example.invalid/x",
    "AKIAIOSFODNN7EXAMPLE",
    "-----BEGIN RSA PRIVATE KEY-----",
]
LOOK_ALIKES = [
    "secret_key=secret_key,",
    'MINIO_SECRET_KEY="$(MINIO_ROOT_PASSWORD)"',
    "access_key: ${MINIO_ACCESS_KEY}",
    'password = os.environ["MINIO_SECRET_KEY"]',
    "secretName: mlpipeline-minio-artifact",
    "secretKeyKey: secretkey",
    'password: "<your password>"',
    "token = _LEASE_TOKEN.get()",
]


@pytest.mark.parametrize("text", PLANTED_SECRETS)
def test_the_scanner_catches_planted_secrets(text):
    assert find_credentials(f"some: context\n{text}\nmore") != []


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_the_scanner_lets_references_and_names_pass(text):
    assert find_credentials(text) == []


def committed_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    return [ROOT / name for name in listed if name and (ROOT / name).is_file()]


def local_default_credentials() -> list[str]:
    """The local-only MinIO defaults of mk/minio.mk: fine for `make minio`, never elsewhere."""
    text = (ROOT / "mk" / "minio.mk").read_text()
    return re.findall(
        r"^MINIO_(?:ROOT_USER|ROOT_PASSWORD|ACCESS_KEY|SECRET_KEY) \?= (\S+)$", text, flags=re.M
    )


def test_no_committed_file_holds_a_credential():
    offenders = []
    for path in committed_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        allowed = TEST_FAKES if path.is_relative_to(ROOT / "tests") else ()
        if path.name in DOCUMENTED_DEFAULTS:
            allowed = (*allowed, *local_default_credentials())
        offenders += [
            f"{path.relative_to(ROOT)}: {found}"
            for found in find_credentials(text, allowed)
            if path.relative_to(ROOT).as_posix() not in SCANNER_FIXTURES
        ]
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
