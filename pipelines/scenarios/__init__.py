"""Scenarios that `make run` plays: the course's, and a multi-feature one with injected drift."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifecycle.config import LifecycleConfig, load_config
from lifecycle.errors import InvalidInputError

HERE = Path(__file__).parent
COURSE_DATA = HERE / "course"


@dataclass(frozen=True)
class Scenario:
    """Training and test files, then labelled batches in arrival order."""

    name: str
    config: LifecycleConfig
    training_file: Path
    test_file: Path
    batches: tuple[tuple[str, Path], ...]


def course_scenario() -> Scenario:
    """The course's data: train on data_init, test on data_test, then batch_1 … batch_6."""
    return Scenario(
        name="course",
        config=load_config(HERE / "course.yaml"),
        training_file=COURSE_DATA / "data_init.csv",
        test_file=COURSE_DATA / "data_test.csv",
        batches=tuple((f"batch_{i}", COURSE_DATA / f"batch_{i}.csv") for i in range(1, 7)),
    )


def scenario(name: str, workdir: Path) -> Scenario:
    """The scenario called ``name``; generated scenarios write their files under ``workdir``.

    Raises:
        InvalidInputError: unknown name.
    """
    if name == "course":
        return course_scenario()
    if name == "diabetes":
        from pipelines.scenarios.diabetes import diabetes_scenario

        return diabetes_scenario(workdir)
    raise InvalidInputError(f"unknown scenario {name!r}: choose course or diabetes")
