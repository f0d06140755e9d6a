"""The images' one lock file: every runtime dependency pinned, each with the groups that need it.

``make wheel`` runs ``write`` after building ``dist/*.whl``: it resolves what a clean
``pip install '<wheel>[all]'`` would install (``pip install --dry-run --ignore-installed
--report``), constrained to the versions of the development environment, so the images, the
local runner and CI share one set. Each pin is followed by the groups whose closure holds it:
``base`` (the project's own dependencies, in every image) and the project's extras (``model``:
scikit-learn, scipy, skops; ``report``: matplotlib; ``serve``: granian, orjson). The project
itself is left out (the images install it from the wheel with ``--no-deps``).

The images run the other two commands, with nothing but the standard library and pip:
``select GROUP...`` prints the pins of the groups, and ``install GROUP...`` installs them with
``pip install --no-deps`` and then ``pip check``: the base image installs ``base``, a stage image
the extras its stage imports (``images/<stage>/Dockerfile``), all from the same pins.

Usage::

    python images/base/requirements_lock.py write dist/kfp_lifecycle-*.whl -o dist/requirements.lock
    python requirements_lock.py install model report        # in a stage image's Dockerfile
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

HEADER = (
    "# Runtime dependencies of {project}, pinned; written by `make wheel`\n"
    "# (images/base/requirements_lock.py). Do not edit. After each pin, the groups that need\n"
    "# it: base (every image) or an extra of the project (a stage image's own layer).\n"
)
BASE_GROUP = "base"
# The extra that names every other one: what the lock resolves.
ALL_EXTRA = "all"
# Where the images keep the lock (images/base/Dockerfile copies it there).
IMAGE_LOCK = Path("/opt/lifecycle/requirements.lock")
_PIN = re.compile(r"^(?P<pin>[A-Za-z0-9._-]+==[^\s#]+)\s*#\s*(?P<groups>[a-z0-9, -]+)$")


def canonical(name: str) -> str:
    """Return the PEP 503 normalised form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve(wheel: Path, workdir: Path) -> list[dict]:
    """Resolve a clean install of ``wheel[all]`` pinned to this environment's versions.

    Args:
        wheel: the project's wheel.
        workdir: a scratch folder for the constraints and the pip report.

    Returns:
        pip's report of every distribution a clean install would bring in (the project too).

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
            f"{wheel}[{ALL_EXTRA}]",
        ],
        check=True,
    )
    return json.loads(report.read_text())["install"]


def group_closures(install: list[dict], project: str) -> dict[str, set[str]]:
    """For ``base`` and each extra of the project: the (canonical) names of every distribution
    its requirements bring in, through their own requirements and markers.

    Args:
        install: pip's report (:func:`resolve`).
        project: the project's canonical name.
    """
    from packaging.requirements import Requirement

    metadata = {canonical(item["metadata"]["name"]): item["metadata"] for item in install}

    def requirements(name: str, extras: Iterable[str]) -> list[Requirement]:
        found = []
        for line in metadata[name].get("requires_dist") or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in ("", *extras)):
                found.append(requirement)
        return found

    def closure(roots: list[Requirement]) -> set[str]:
        seen: set[tuple[str, frozenset[str]]] = set()
        todo = [(canonical(r.name), frozenset(r.extras)) for r in roots]
        while todo:
            name, extras = todo.pop()
            if (name, extras) in seen or name not in metadata:
                continue  # a marker's dependency that this platform does not install
            seen.add((name, extras))
            todo += [(canonical(r.name), frozenset(r.extras)) for r in requirements(name, extras)]
        return {name for name, _ in seen} - {project}

    own = requirements(project, [])
    closures = {BASE_GROUP: closure(own)}
    # The image groups: the extras that the `all` extra names (not dev, not tracking).
    (everything,) = [r for r in requirements(project, [ALL_EXTRA]) if canonical(r.name) == project]
    for extra in sorted(everything.extras):
        added = [r for r in requirements(project, [extra]) if r not in own]
        closures[extra] = closure(added)
    return closures


def lock_text(install: list[dict], project: str) -> str:
    """The lock file: one ``name==version  # groups`` line per distribution, by name."""
    closures = group_closures(install, project)
    lines = []
    for item in sorted(install, key=lambda item: canonical(item["metadata"]["name"])):
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if canonical(name) == project:
            continue
        groups = [group for group, names in closures.items() if canonical(name) in names]
        if not groups:
            continue  # needed by no image (e.g. an extra's only for other platforms)
        lines.append(f"{name}=={version}  # {', '.join(groups)}")
    return HEADER.format(project=project) + "\n".join(lines) + "\n"


def parse_lock(text: str) -> dict[str, list[str]]:
    """``pin -> groups`` of a lock file.

    Raises:
        ValueError: a line that is neither a comment nor a pin with its groups.
    """
    pins: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _PIN.match(line.strip())
        if not match:
            raise ValueError(f"line {number}: not 'name==version  # groups': {line!r}")
        pins[match["pin"]] = [group.strip() for group in match["groups"].split(",")]
    return pins


def select(pins: Mapping[str, list[str]], groups: Iterable[str]) -> list[str]:
    """The pins any of ``groups`` needs.

    Raises:
        ValueError: a group no pin belongs to (a typo in a Dockerfile).
    """
    wanted = list(groups)
    known = {group for names in pins.values() for group in names}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise ValueError(f"no group {', '.join(unknown)} in the lock; groups: {sorted(known)}")
    return [pin for pin, names in pins.items() if set(names) & set(wanted)]


def install(lock: Path, groups: list[str]) -> None:
    """``pip install --no-deps`` the groups' pins, then ``pip check`` the environment."""
    pins = select(parse_lock(lock.read_text()), groups)
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as chosen:
        chosen.write("".join(pin + "\n" for pin in pins))
        chosen.flush()
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--require-virtualenv",
             "--use-pep517", "--no-deps", "-r", chosen.name],
            check=True,
        )  # fmt: skip
    subprocess.run([sys.executable, "-m", "pip", "check"], check=True)


def main(argv: list[str] | None = None) -> int:
    """Write, select from or install from the lock file; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="resolve the wheel's dependencies into the lock")
    write.add_argument("wheel", type=Path, help="the project's wheel (dist/*.whl)")
    write.add_argument("-o", "--output", type=Path, required=True, help="lock file to write")
    for name, text in (("select", "print the pins of groups"), ("install", "install groups")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("groups", nargs="+", help=f"{BASE_GROUP} or an extra, e.g. model")
        sub.add_argument("--lock", type=Path, default=IMAGE_LOCK, help="the lock file")
    args = parser.parse_args(argv)
    if args.command == "write":
        project = canonical(args.wheel.name.split("-")[0])
        with tempfile.TemporaryDirectory() as tmp:
            text = lock_text(resolve(args.wheel, Path(tmp)), project)
        args.output.write_text(text)
        print(f"{args.output}: {len(parse_lock(text))} pinned packages", file=sys.stderr)
    elif args.command == "select":
        print("\n".join(select(parse_lock(args.lock.read_text()), args.groups)))
    else:
        install(args.lock, args.groups)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
