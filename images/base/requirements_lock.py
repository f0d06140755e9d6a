"""Write the lock file of the base image: the project's runtime dependencies, pinned.

``make wheel`` runs it after building ``dist/*.whl``. It resolves what a clean
``pip install <wheel>`` would install (``pip install --dry-run --ignore-installed
--report``), constrained to the versions of the development environment, so the image,
the local runner and CI share one set. The project itself is left out (the image
installs it from the wheel with ``--no-deps``) and so are the dev tools, which the wheel
does not require.

Usage::

    python images/base/requirements_lock.py dist/kfp_lifecycle-*.whl -o dist/requirements.lock
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = (
    "# Runtime dependencies of {project}, pinned; written by `make wheel`\n"
    "# (images/base/requirements_lock.py). Do not edit.\n"
)


def canonical(name: str) -> str:
    """Return the PEP 503 normalised form of a distribution name."""
    return name.lower().replace("_", "-").replace(".", "-")


def resolve(wheel: Path, workdir: Path) -> dict[str, str]:
    """Resolve a clean install of ``wheel`` pinned to this environment's versions.

    Args:
        wheel: the project's wheel.
        workdir: a scratch folder for the constraints and the pip report.

    Returns:
        ``{distribution name: version}`` of every package a clean install would bring in,
        including the project itself.

    Raises:
        subprocess.CalledProcessError: when pip cannot resolve the set.
    """
    constraints = workdir / "constraints.txt"
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # Only exact pins of other projects constrain the resolution (no URLs, no the project).
    constraints.write_text("".join(line + "\n" for line in frozen.splitlines() if "==" in line))
    report = workdir / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
            "--report",
            str(report),
            "--constraint",
            str(constraints),
            str(wheel),
        ],
        check=True,
    )
    install = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in install}


def main(argv: list[str] | None = None) -> int:
    """Write the lock file; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="the project's wheel (dist/*.whl)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="lock file to write")
    args = parser.parse_args(argv)
    project = canonical(args.wheel.name.split("-")[0])
    with tempfile.TemporaryDirectory() as tmp:
        pins = resolve(args.wheel, Path(tmp))
    lines = sorted(
        (f"{name}=={version}" for name, version in pins.items() if canonical(name) != project),
        key=str.lower,
    )
    args.output.write_text(HEADER.format(project=project) + "\n".join(lines) + "\n")
    print(f"{args.output}: {len(lines)} pinned packages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
