"""One credential scanner for every test that looks for secrets: files, YAML, images, logs.

``tests/hardening/test_no_credentials.py`` plants known secrets and known look-alikes, so a
pattern that stops catching them fails there, not silently everywhere it is used.
"""

from __future__ import annotations

import re

# Environment variable names that hold secrets: an image or a manifest must not set them.
# scripts/base-image-offline.sh keeps the same names out of the offline base.
SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|PASSWD|TOKEN|AUTH|CREDENTIAL", re.IGNORECASE)

_SECRET_WORD = r"(?:secret(?:[_-]?access)?[_-]?key|secret|password|passwd|access[_-]?key|token)"
# A value that is a reference, not a literal: $VAR, ${VAR}, $(cmd), ${VAR:-$(cmd)}, <placeholder>,
# a path, os.environ.
_REFERENCE = r"(?!\$|\{|<|\(|/|-\$|os\.|None\b|True\b|False\b)"

PATTERNS: dict[str, re.Pattern[str]] = {
    "AWS access key id": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s:@'\"$]+@"),
    # NAME = literal, quoted or not (code, shell, make, env files, YAML, JSON): 8+ characters
    # with a digit or one of -+/, so that ``secret_key=secret_key`` or ``"accesskey":
    # "MINIO_ACCESS_KEY"`` (names, not values) pass.
    "literal secret value": re.compile(
        rf"(?i)\b[\w.-]*{_SECRET_WORD}['\"]?[ \t]*(?::|[?:+]?=)[ \t]*['\"]?{_REFERENCE}"
        r"(?=[^\s'\",;)]*[0-9+/-])[^\s'\",;)]{8,}"
    ),
}


def find_credentials(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Every credential-looking piece of ``text``, as ``kind: excerpt``.

    Args:
        text: what to scan.
        allowed: values known not to be secrets (test fakes); a match holding one is skipped.
    """
    found = []
    for what, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            if not any(value in match.group(0) for value in allowed):
                found.append(f"{what}: {match.group(0)[:60]}")
    return found


def secret_environment(env: list[str]) -> list[str]:
    """The ``NAME=value`` items of a container environment that set a secret or hold one."""
    return [
        item for item in env if SECRET_NAME.search(item.split("=", 1)[0]) or find_credentials(item)
    ]
